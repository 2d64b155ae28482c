#pragma once
// Waiting in tests for something another thread or process does, without betting on how fast the
// machine is: poll a condition until it holds. The bound is there only to turn a real hang into a
// failure with a message; no slow or busy machine comes near it.
#include <chrono>
#include <thread>

namespace sluice::core::testing {

inline constexpr std::chrono::seconds kHangBound{60};

// Calls `condition()` until it returns true or `bound` has passed; returns its last answer, for the
// caller to assert on (so the failure names what was awaited).
template <class Condition>
bool eventually(Condition&& condition, std::chrono::milliseconds bound = kHangBound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace sluice::core::testing
