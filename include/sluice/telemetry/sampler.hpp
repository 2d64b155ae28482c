#pragma once
// Which new traces are recorded: the OpenTelemetry TraceIdRatioBased rule, so every service that
// samples by the same ratio keeps the same traces. A trace that arrives with a sampled caller is
// kept whatever the ratio (parent based), one the caller did not sample is not.
#include <cstdint>
#include <optional>

#include "sluice/telemetry/trace_context.hpp"
#include "sluice/telemetry/trace_ids.hpp"

namespace sluice::telemetry {

class RatioSampler {
 public:
  // `ratio` in [0, 1]: 0 keeps nothing, 1 keeps every trace. Out-of-range values are clamped.
  explicit RatioSampler(double ratio) noexcept;
  // Whether a trace this process starts is recorded. Pure function of the id: thread-safe.
  bool sample(const TraceId& trace_id) const noexcept;
  // The decision for a request: the caller's own when it sent a valid traceparent, else sample().
  bool decide(const std::optional<TraceContext>& caller, const TraceId& trace_id) const noexcept {
    return caller ? caller->sampled : sample(trace_id);
  }
  double ratio() const noexcept { return ratio_; }

 private:
  double ratio_;
  std::uint64_t bound_ = 0;  // keep when the id's last 8 bytes, as a number, are below this
  bool all_ = false;
};

}  // namespace sluice::telemetry
