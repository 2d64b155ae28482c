#pragma once
// Per-backend circuit breaker shared by all worker threads, lock-free (atomics only).
//
// Closed: requests flow; failures are counted in a fixed window of `interval`. `failures` of them
// within one window trip it open for `trip_duration`, or for the backend's Retry-After when it sent
// one and the pool honours it. Open: the backend is skipped. When the open time has passed, exactly
// one request is let through as a probe (half-open); its success closes the breaker, its failure
// opens it again.
#include <atomic>
#include <chrono>
#include <cstdint>

#include "sluice/gateway/settings.hpp"

namespace sluice::gateway {

enum class BreakerState { kClosed, kOpen, kHalfOpen };
const char* to_string(BreakerState state);

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  explicit CircuitBreaker(BreakerSettings settings) : settings_(std::move(settings)) {}

  // Whether a request may go to this backend now. In half-open state only one caller gets true
  // (it becomes the probe) until that probe reports back.
  bool try_acquire(Clock::time_point now);
  // Whether the breaker would let a request through, without claiming the probe (for readiness).
  bool would_allow(Clock::time_point now) const;
  void record_success();
  // `retry_after`: what the backend asked for (zero when it said nothing).
  void record_failure(Clock::time_point now, std::chrono::milliseconds retry_after);
  // A probe that ended without a verdict (e.g. the client left) frees the probe slot.
  void release_probe();

  BreakerState state(Clock::time_point now) const;
  // When an open breaker lets the next probe through.
  Clock::time_point open_until() const;
  std::uint64_t trips() const { return trips_.load(std::memory_order_relaxed); }
  const BreakerSettings& settings() const { return settings_; }

 private:
  static std::int64_t ticks(Clock::time_point t) { return t.time_since_epoch().count(); }
  void trip(Clock::time_point now, std::chrono::milliseconds retry_after);

  BreakerSettings settings_;
  std::atomic<std::int64_t> open_until_{0};  // 0: closed
  std::atomic<bool> probe_in_flight_{false};
  std::atomic<std::int64_t> window_start_{0};
  std::atomic<int> window_failures_{0};
  std::atomic<std::uint64_t> trips_{0};
};

}  // namespace sluice::gateway
