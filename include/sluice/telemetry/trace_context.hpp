#pragma once
// W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/): version 00 is parsed
// strictly; a higher version is read by its first four fields as the spec asks, so a future
// client still joins the trace. Anything malformed is ignored (a new trace starts), never an error
// for the request.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/telemetry/trace_ids.hpp"

namespace sluice::telemetry {

struct TraceContext {
  TraceId trace_id{};
  SpanId span_id{};  // the parent span (the caller's) when parsed; the span we name when sent
  bool sampled = false;
};

// The header's value, or nullopt when it is malformed: wrong length or separators, upper-case or
// non-hex digits, version ff, all-zero trace or span id, or extra fields after version 00.
std::optional<TraceContext> parse_traceparent(std::string_view value) noexcept;

// "00-<trace id>-<span id>-<01|00>", held in place: the gateway writes one per backend attempt.
struct TraceparentText {
  static constexpr std::size_t kSize = 55;
  char bytes[kSize];
  std::string_view view() const noexcept { return {bytes, kSize}; }
};
TraceparentText format_traceparent(const TraceContext& context) noexcept;

}  // namespace sluice::telemetry
