#pragma once
// The spans of one gateway request, from what the pipeline recorded in its RequestContext: one
// SERVER span for the request with the OpenTelemetry GenAI attributes (gen_ai.*), the route's
// decisions (sluice.*) and the first token as an event, and one CLIENT child span per backend
// attempt with its outcome. docs/tracing.md lists every attribute.
#include <boost/container/small_vector.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "sluice/gateway/request_context.hpp"
#include "sluice/telemetry/span_encoder.hpp"
#include "sluice/telemetry/span_writer.hpp"
#include "sluice/telemetry/trace_context.hpp"

namespace sluice::gateway {

// A request's place in its trace, settled when the gateway first needs it.
struct RequestTrace {
  telemetry::TraceId trace_id{};
  telemetry::SpanId span_id{};                    // the request's SERVER span
  std::optional<telemetry::TraceContext> caller;  // from the client's traceparent
  bool sampled = false;
  // The CLIENT span id named in the traceparent sent with attempt i, by attempt index; an attempt
  // that never went out (its outbound auth failed) gets its id when the spans are built.
  // Room for two in place (nearly every request has one attempt): no allocation per request.
  boost::container::small_vector<telemetry::SpanId, 2> attempt_span_ids;
};

// Writes the request's spans to `out` (the SERVER span first, then one CLIENT span per attempt).
// `system_minus_steady` turns the context's steady-clock times into wall-clock ones. Runs in the
// log phase, on the request's thread. The SpanEncoder overload is the same code compiled for the
// encoder itself, so that the request path's ~45 attributes are encoded inline rather than through
// a virtual call each.
void write_request_spans(telemetry::SpanWriter& out, const RequestContext& context,
                         const RequestTrace& trace, std::chrono::nanoseconds system_minus_steady);
void write_request_spans(telemetry::SpanEncoder& out, const RequestContext& context,
                         const RequestTrace& trace, std::chrono::nanoseconds system_minus_steady);

}  // namespace sluice::gateway
