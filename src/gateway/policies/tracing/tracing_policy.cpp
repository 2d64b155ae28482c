#include "gateway/policies/tracing/tracing_policy.hpp"

#include "http/first_field.hpp"
#include "sluice/telemetry/trace_context.hpp"

namespace sluice::gateway {

namespace {

// An exporter and its metric contributions, shared by every tracing policy with the same settings.
struct SharedExporter {
  std::shared_ptr<telemetry::OtlpExporter> exporter;
  std::vector<std::shared_ptr<void>> contributions;
};

void contribute_metrics(SharedExporter& shared, usage::MetricRegistry& registry) {
  auto* exporter = shared.exporter.get();
  auto add = [&](const char* name, const char* help, const char* type, std::string labels,
                 auto value) {
    shared.contributions.push_back(registry.contribute(
        name, help, type,
        [name = std::string(name), labels = std::move(labels), value](std::string& out) {
          out += name + labels + " " + std::to_string(value()) + "\n";
        }));
  };
  add("sluice_tracing_spans_queued_total",
      "Spans accepted for export (into a worker's block or the export queue).", "counter", "",
      [exporter] { return exporter->queue().pushed(); });
  add("sluice_tracing_spans_exported_total", "Spans the OTLP collector accepted.", "counter", "",
      [exporter] { return exporter->stats().exported.load(); });
  const char* dropped = "Spans lost: export queue full, or their export request failed.";
  add("sluice_tracing_spans_dropped_total", dropped, "counter", "{reason=\"queue_full\"}",
      [exporter] { return exporter->queue().dropped(); });
  add("sluice_tracing_spans_dropped_total", dropped, "counter", "{reason=\"export_failed\"}",
      [exporter] { return exporter->stats().dropped_on_failure.load(); });
  add("sluice_tracing_export_requests_total", "OTLP export requests made.", "counter", "",
      [exporter] { return exporter->stats().export_requests.load(); });
  add("sluice_tracing_export_failures_total",
      "OTLP export requests that failed (no connection, no answer in time, or not 2xx).", "counter",
      "", [exporter] { return exporter->stats().export_failures.load(); });
  add("sluice_tracing_queue_spans", "Spans waiting in the tracing export queue.", "gauge", "",
      [exporter] { return exporter->queue().size(); });
}

// What to add to a steady_clock time to get Unix time, for spans' times. Read once a second per
// thread, at the time of a request's completion, rather than from both clocks on every request:
// the two differ only by how the wall clock has been set, and a change to it is seen within 1 s.
std::chrono::nanoseconds steady_to_unix_offset(std::chrono::steady_clock::time_point at) {
  struct Cached {
    std::chrono::steady_clock::time_point read_at{};
    std::chrono::nanoseconds offset{};
  };
  thread_local Cached cached;
  if (cached.read_at == std::chrono::steady_clock::time_point{} ||
      at - cached.read_at >= std::chrono::seconds(1)) {
    const auto steady = std::chrono::steady_clock::now();
    cached.offset = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch() - steady.time_since_epoch());
    cached.read_at = steady;
  }
  return cached.offset;
}

}  // namespace

struct TracingPolicy::State : RequestContext::PolicyState {
  RequestTrace trace;
  // The client's request has a traceparent field (valid or not), which the gateway copied to the
  // upstream request and must replace there. Without one, ours goes in as an extra field.
  bool client_sent_traceparent = false;
  // The current attempt's traceparent: an extra field refers to its text until the attempt ends.
  telemetry::TraceparentText upstream_traceparent;
};

TracingPolicy::TracingPolicy(double sample_ratio, std::shared_ptr<telemetry::OtlpExporter> exporter,
                             std::shared_ptr<void> keep_alive)
    : sampler_(sample_ratio), exporter_(std::move(exporter)), keep_alive_(std::move(keep_alive)) {}

TracingPolicy::State& TracingPolicy::trace_of(RequestContext& context) {
  if (auto* state = context.state_for<State>(this)) return *state;
  auto state = std::make_unique<State>();
  auto& trace = state->trace;
  const auto& request = context.exchange.request();
  if (auto traceparent = http::first_field(request, "traceparent")) {
    trace.caller = telemetry::parse_traceparent(*traceparent);
    state->client_sent_traceparent = true;
  }
  trace.trace_id = trace.caller ? trace.caller->trace_id : telemetry::random_trace_id();
  trace.span_id = telemetry::random_span_id();
  trace.sampled = sampler_.decide(trace.caller, trace.trace_id);
  auto* raw = state.get();
  context.policy_state.emplace_back(this, std::move(state));
  return *raw;
}

void TracingPolicy::on_upstream(RequestContext& context, http::Request& upstream,
                                http::ExtraFields& extra) {
  auto& state = trace_of(context);
  auto& trace = state.trace;
  // The attempt about to go out is the next one recorded (attempts are recorded after sending).
  std::size_t index = context.attempts.size();
  if (trace.attempt_span_ids.size() <= index) trace.attempt_span_ids.resize(index + 1);
  trace.attempt_span_ids[index] = telemetry::random_span_id();
  state.upstream_traceparent = telemetry::format_traceparent(
      telemetry::TraceContext{trace.trace_id, trace.attempt_span_ids[index], trace.sampled});
  if (state.client_sent_traceparent) {
    // Replaces the caller's own, which the gateway copied with the other headers.
    upstream.set("traceparent", state.upstream_traceparent.view());
  } else {
    // Written after the request's fields: no element made, no search of Beast's field tree.
    extra.add("traceparent", state.upstream_traceparent.view());
  }
}

void TracingPolicy::on_complete(RequestContext& context) {
  const auto& trace = trace_of(context).trace;
  if (!trace.sampled) return;
  const auto offset = steady_to_unix_offset(context.completed_at);
  // Encoded here, into this thread's block: the exporter's thread only concatenates blocks
  // (span_staging.hpp).
  auto staged = exporter_->stage();
  write_request_spans(staged.encoder(), context, trace, offset);
  staged.commit();
}

PolicyPtr make_tracing_policy(const core::ConfigNode& section, PolicyServices& services) {
  auto settings = TracingSettings::from_config(section, services.proxies.get());
  // One exporter per collector per process, kept across reloads while its settings stay the same.
  auto key = "tracing:" + settings.exporter.endpoint.origin() + settings.exporter.endpoint.path;
  std::shared_ptr<SharedExporter> shared;
  if (auto existing = services.shared[key].lock()) {
    shared = std::static_pointer_cast<SharedExporter>(existing);
    if (!(shared->exporter->settings() == settings.exporter)) {
      section.fail("the collector " + key.substr(8) +
                   " is already in use by a tracing policy with other batch, queue, timeout, "
                   "header, proxy or resource settings; the same collector takes the same settings "
                   "(changing them takes a restart)");
    }
  } else {
    shared = std::make_shared<SharedExporter>();
    shared->exporter = std::make_shared<telemetry::OtlpExporter>(settings.exporter);
    contribute_metrics(*shared, *services.metrics);
    services.shared[key] = shared;
  }
  return std::make_shared<TracingPolicy>(settings.sample_ratio, shared->exporter, shared);
}

}  // namespace sluice::gateway
