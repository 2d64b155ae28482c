#pragma once
// The spans of one gateway request, from what the pipeline recorded in its RequestContext: one
// SERVER span for the request with the OpenTelemetry GenAI attributes (gen_ai.*), the route's
// decisions (sluice.*) and the first token as an event, and one CLIENT child span per backend
// attempt with its outcome. docs/tracing.md lists every attribute.
#include <chrono>
#include <optional>
#include <vector>

#include "sluice/gateway/request_context.hpp"
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
  std::vector<telemetry::SpanId> attempt_span_ids;
};

// Writes the request's spans to `out` (the SERVER span first, then one CLIENT span per attempt).
// `system_minus_steady` turns the context's steady-clock times into wall-clock ones. Runs in the
// log phase, on the request's thread.
void write_request_spans(telemetry::SpanWriter& out, const RequestContext& context,
                         const RequestTrace& trace, std::chrono::nanoseconds system_minus_steady);

}  // namespace sluice::gateway
