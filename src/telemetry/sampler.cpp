#include "sluice/telemetry/sampler.hpp"

#include <cmath>

namespace sluice::telemetry {

RatioSampler::RatioSampler(double ratio) noexcept : ratio_(ratio) {
  if (!(ratio_ > 0)) {  // also NaN
    ratio_ = 0;
    return;
  }
  if (ratio_ >= 1) {
    ratio_ = 1;
    all_ = true;
    return;
  }
  bound_ = static_cast<std::uint64_t>(std::ldexp(ratio_, 64));
}

bool RatioSampler::sample(const TraceId& trace_id) const noexcept {
  if (all_) return true;
  // The random part of a W3C trace id is (at least) its right half, read big-endian.
  std::uint64_t value = 0;
  for (int i = 8; i < 16; ++i) value = value << 8 | trace_id[i];
  return value < bound_;
}

}  // namespace sluice::telemetry
