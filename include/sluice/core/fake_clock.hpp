#pragma once
// A manually driven Clock for tests.
#include <atomic>
#include <chrono>
#include <cstdint>

#include "sluice/core/clock.hpp"

namespace sluice::core {

// Time stands still until advance() or set_system_time(). Both clocks start at `start` (the steady
// clock's epoch is arbitrary anyway, so it reuses the same count). All members are safe from any
// thread: a test may advance time while the code under test reads it.
class FakeClock final : public Clock {
 public:
  // 2024-01-01T00:00:00Z: a fixed, recognisable default so test output is reproducible.
  static constexpr std::chrono::seconds kDefaultStart{1'704'067'200};

  explicit FakeClock(SystemTime start = SystemTime(kDefaultStart)) noexcept
      : steady_ns_(to_ns(start.time_since_epoch())), system_ns_(to_ns(start.time_since_epoch())) {}

  SteadyTime steady_now() const noexcept override {
    return SteadyTime(std::chrono::duration_cast<SteadyTime::duration>(
        std::chrono::nanoseconds(steady_ns_.load(std::memory_order_acquire))));
  }
  SystemTime system_now() const noexcept override {
    return SystemTime(std::chrono::duration_cast<SystemTime::duration>(
        std::chrono::nanoseconds(system_ns_.load(std::memory_order_acquire))));
  }

  // Moves both clocks forward by `by`. Needs: by >= 0 (a steady clock never goes back).
  void advance(std::chrono::nanoseconds by) noexcept {
    if (by.count() < 0) return;
    steady_ns_.fetch_add(by.count(), std::memory_order_acq_rel);
    system_ns_.fetch_add(by.count(), std::memory_order_acq_rel);
  }
  // Steps the wall clock only, as NTP or an operator would; the steady clock is unaffected.
  void set_system_time(SystemTime to) noexcept {
    system_ns_.store(to_ns(to.time_since_epoch()), std::memory_order_release);
  }

 private:
  template <class D>
  static std::int64_t to_ns(D d) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  }

  std::atomic<std::int64_t> steady_ns_;
  std::atomic<std::int64_t> system_ns_;
};

}  // namespace sluice::core
