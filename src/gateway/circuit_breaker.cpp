#include "gateway/circuit_breaker.hpp"

#include <algorithm>

namespace sluice::gateway {

const char* to_string(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

bool CircuitBreaker::would_allow(Clock::time_point now) const {
  std::int64_t until = open_until_.load(std::memory_order_acquire);
  if (until == 0) return true;
  return ticks(now) >= until && !probe_in_flight_.load(std::memory_order_acquire);
}

bool CircuitBreaker::try_acquire(Clock::time_point now) {
  std::int64_t until = open_until_.load(std::memory_order_acquire);
  if (until == 0) return true;
  if (ticks(now) < until) return false;
  bool expected = false;
  return probe_in_flight_.compare_exchange_strong(expected, true, std::memory_order_acq_rel);
}

void CircuitBreaker::record_success() {
  if (open_until_.load(std::memory_order_acquire) != 0) {
    open_until_.store(0, std::memory_order_release);
    window_failures_.store(0, std::memory_order_relaxed);
  }
  probe_in_flight_.store(false, std::memory_order_release);
}

void CircuitBreaker::release_probe() {
  probe_in_flight_.store(false, std::memory_order_release);
}

void CircuitBreaker::record_failure(Clock::time_point now, std::chrono::milliseconds retry_after) {
  if (open_until_.load(std::memory_order_acquire) != 0) {
    // A failed probe (or a late failure while open): open again.
    if (probe_in_flight_.load(std::memory_order_acquire)) trip(now, retry_after);
    return;
  }
  std::int64_t start = window_start_.load(std::memory_order_acquire);
  std::int64_t interval = std::chrono::duration_cast<Clock::duration>(settings_.interval).count();
  if (ticks(now) - start >= interval) {
    // A new window: whoever wins the exchange resets the count.
    if (window_start_.compare_exchange_strong(start, ticks(now), std::memory_order_acq_rel)) {
      window_failures_.store(0, std::memory_order_release);
    }
  }
  int failures = window_failures_.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (failures >= settings_.failures) trip(now, retry_after);
}

void CircuitBreaker::trip(Clock::time_point now, std::chrono::milliseconds retry_after) {
  auto duration = settings_.trip_duration;
  if (settings_.honor_retry_after && retry_after.count() > 0) duration = retry_after;
  auto until = ticks(now + std::chrono::duration_cast<Clock::duration>(duration));
  open_until_.store(std::max<std::int64_t>(until, 1), std::memory_order_release);
  window_failures_.store(0, std::memory_order_release);
  probe_in_flight_.store(false, std::memory_order_release);
  trips_.fetch_add(1, std::memory_order_relaxed);
}

BreakerState CircuitBreaker::state(Clock::time_point now) const {
  std::int64_t until = open_until_.load(std::memory_order_acquire);
  if (until == 0) return BreakerState::kClosed;
  return ticks(now) < until ? BreakerState::kOpen : BreakerState::kHalfOpen;
}

CircuitBreaker::Clock::time_point CircuitBreaker::open_until() const {
  return Clock::time_point(Clock::duration(open_until_.load(std::memory_order_acquire)));
}

}  // namespace sluice::gateway
