#pragma once
// `metrics`: Prometheus metrics of every request, on the admin listener's /metrics. Token counters
// by type and histograms follow the OpenTelemetry GenAI conventions where one exists. Dimensions
// are configurable; each metric's label sets are capped. docs/metrics.md lists every metric.
//
//   policies:
//     metrics:
//       dimensions: [app, deployment, model, backend, operation]   # the default
//       # also: key, client_ip, route, {header: x-team, label: team}, {claim: oid, label: user}
//       max_series: 1000          # label sets per metric before folding into "other"
//
// Threads: one object shared by all workers; on_complete runs on the request's worker and only
// touches that thread's shard of each metric (usage/metric_registry.hpp).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/config_node.hpp"
#include "sluice/gateway/policy.hpp"
#include "sluice/gateway/settings.hpp"
#include "sluice/usage/metric_registry.hpp"

namespace sluice::gateway {

struct MetricDimension {
  enum class Kind {
    kApp,
    kKey,
    kClientIp,
    kRoute,
    kDeployment,
    kModel,
    kBackend,
    kOperation,
    kHeader,
    kClaim
  };
  Kind kind = Kind::kApp;
  std::string label;  // Prometheus label name
  std::string name;   // header or claim name
};

struct MetricsSettings {
  std::vector<MetricDimension> dimensions;
  std::size_t max_series = 1000;
  static MetricsSettings from_config(const core::ConfigNode& node);
};

// Bucket bounds shared by the policy and docs: durations in microseconds, tokens as counts.
struct MetricBuckets {
  static const std::vector<std::uint64_t>& duration();
  static const std::vector<std::uint64_t>& time_to_first_token();
  static const std::vector<std::uint64_t>& time_per_output_token();
  static const std::vector<std::uint64_t>& overhead();
  static const std::vector<std::uint64_t>& tokens();
};

class MetricsPolicy final : public Policy {
 public:
  MetricsPolicy(MetricsSettings settings, usage::MetricRegistry& registry);
  std::string_view name() const override { return "metrics"; }
  PhaseOrder phase_order() const override { return PhaseOrder::kObserve; }
  bool has_request_phase() const override { return false; }
  void on_complete(RequestContext& context) override;

 private:
  struct LastSeries;
  LastSeries& last_series(std::span<const std::string_view> values) const;

  const std::uint64_t uid_;  // tells this policy's remembered series from another's, never reused
  MetricsSettings settings_;
  std::shared_ptr<usage::MetricFamily> tokens_;       // sluice_tokens_total
  std::shared_ptr<usage::MetricFamily> token_usage_;  // gen_ai_client_token_usage
  std::shared_ptr<usage::MetricFamily> requests_;     // sluice_requests_total
  std::shared_ptr<usage::MetricFamily> duration_;     // gen_ai_client_operation_duration_seconds
  std::shared_ptr<usage::MetricFamily> ttft_;         // gen_ai_server_time_to_first_token_seconds
  std::shared_ptr<usage::MetricFamily> tpot_;         // gen_ai_server_time_per_output_token_seconds
  std::shared_ptr<usage::MetricFamily> overhead_;     // sluice_gateway_overhead_seconds
};

PolicyPtr make_metrics_policy(const core::ConfigNode& section, PolicyServices& services);

}  // namespace sluice::gateway
