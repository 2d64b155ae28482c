#pragma once
// `tracing`: OpenTelemetry traces of gateway requests, exported over OTLP/HTTP. Off unless
// configured; configured under the top-level `policies:` it traces every request
// (tracing_settings.hpp has the section, docs/tracing.md the reference).
//
// The caller's W3C `traceparent` is honoured (its trace continues; its sampling decision wins);
// without one a new trace starts. Every backend attempt is sent a `traceparent` naming the
// attempt's own CLIENT span, so the backend's spans hang under it.
//
// Threads: one object shared by all workers. The hooks run on the request's worker; they build the
// spans and push them into the exporter's bounded queue, never waiting for the collector
// (telemetry/otlp_exporter.hpp).
#include <memory>

#include "gateway/policies/tracing/request_spans.hpp"
#include "gateway/policies/tracing/tracing_settings.hpp"
#include "sluice/gateway/policy.hpp"
#include "sluice/gateway/settings.hpp"
#include "sluice/telemetry/otlp_exporter.hpp"
#include "sluice/telemetry/sampler.hpp"

namespace sluice::gateway {

class TracingPolicy final : public Policy {
 public:
  // `exporter` is shared by every tracing policy of the same settings, across reloads;
  // `keep_alive` holds its metric contributions.
  TracingPolicy(double sample_ratio, std::shared_ptr<telemetry::OtlpExporter> exporter,
                std::shared_ptr<void> keep_alive);
  std::string_view name() const override { return "tracing"; }
  PhaseOrder phase_order() const override { return PhaseOrder::kObserve; }
  bool has_request_phase() const override { return false; }
  void on_upstream(RequestContext& context, http::Request& upstream,
                   http::ExtraFields& extra) override;
  void on_complete(RequestContext& context) override;

 private:
  struct State;
  // The request's trace, settled on first use (the first attempt, or the log phase).
  State& trace_of(RequestContext& context);

  telemetry::RatioSampler sampler_;
  std::shared_ptr<telemetry::OtlpExporter> exporter_;
  std::shared_ptr<void> keep_alive_;
};

// Factory for PolicyRegistry: reads the `tracing` section (throws core::ConfigError).
PolicyPtr make_tracing_policy(const core::ConfigNode& section, PolicyServices& services);

}  // namespace sluice::gateway
