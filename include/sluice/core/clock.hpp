#pragma once
// An injectable source of time, so token-limit windows, quotas, breaker intervals and JWT expiry
// can be tested with a FakeClock instead of sleeping.
#include <chrono>

namespace sluice::core {

class Clock {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using SystemTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;

  // Monotonic time for intervals, timeouts and rate windows. Any thread.
  virtual SteadyTime steady_now() const noexcept = 0;
  // Wall-clock time for timestamps, JWT exp/nbf and calendar quotas (day, month). Any thread.
  virtual SystemTime system_now() const noexcept = 0;
};

// The real clocks. Stateless; one shared instance.
class RealClock final : public Clock {
 public:
  SteadyTime steady_now() const noexcept override { return std::chrono::steady_clock::now(); }
  SystemTime system_now() const noexcept override { return std::chrono::system_clock::now(); }
};

// The process-wide real clock, for components constructed without an injected one.
const Clock& real_clock() noexcept;

}  // namespace sluice::core
