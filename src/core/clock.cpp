#include "sluice/core/clock.hpp"

namespace sluice::core {

const Clock& real_clock() noexcept {
  static const RealClock clock;
  return clock;
}

}  // namespace sluice::core
