#include "gateway/policies/metrics/metrics_policy.hpp"

#include <gtest/gtest.h>

#include "gateway/policies/identity/tests/fake_exchange.hpp"

namespace sluice::gateway {
namespace {

using Kind = MetricDimension::Kind;
using identity::testing::FakeExchange;

MetricsSettings deployment_and_backend(std::size_t max_series = 1000) {
  MetricsSettings settings;
  settings.dimensions = {{Kind::kDeployment, "deployment", ""}, {Kind::kBackend, "backend", ""}};
  settings.max_series = max_series;
  return settings;
}

// Runs one finished request through the policy's log phase.
struct Finished {
  std::string deployment = "gpt-4o";
  std::string backend = "east";
  unsigned status = 200;
  UsageSource source = UsageSource::kReported;
  std::int64_t prompt_tokens = 10;
};

void complete(MetricsPolicy& policy, const Finished& finished) {
  http::asio::io_context io;
  FakeExchange exchange(io, http::Request{});
  RequestContext context(exchange, "req");
  context.deployment = finished.deployment;
  context.backend = finished.backend;
  context.status = finished.status;
  context.usage.source = finished.source;
  context.usage.prompt_tokens = finished.prompt_tokens;
  context.usage.total_tokens = finished.prompt_tokens;
  context.received_at = std::chrono::steady_clock::time_point(std::chrono::seconds(1));
  context.completed_at = context.received_at + std::chrono::milliseconds(30);
  policy.on_complete(context);
}

std::string scrape(const usage::MetricRegistry& registry) {
  std::string out;
  registry.write(out);
  return out;
}

// The value of the sample line that starts with `series` followed by a space, or -1.
long long sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + 1 + series.size() + 1));
}

TEST(MetricsPolicy, CountsFollowTheLabelsAsTheyChangeFromRequestToRequest) {
  auto registry = std::make_shared<usage::MetricRegistry>();
  MetricsPolicy policy(deployment_and_backend(), *registry);
  // Runs of equal labels, then changes of one label, of the status and of the usage source alone.
  for (int i = 0; i < 3; ++i) complete(policy, {});
  for (int i = 0; i < 2; ++i) complete(policy, {.backend = "west"});
  complete(policy, {});
  complete(policy, {.status = 429, .source = UsageSource::kNone, .prompt_tokens = 0});
  complete(policy, {.status = 429, .source = UsageSource::kNone, .prompt_tokens = 0});
  complete(policy, {.source = UsageSource::kEstimated, .prompt_tokens = 7});
  complete(policy, {.deployment = "gpt-4o-mini", .prompt_tokens = 5});
  complete(policy, {});

  const auto text = scrape(*registry);
  auto requests = [&](std::string_view deployment, std::string_view backend, unsigned status) {
    return sample(text, "sluice_requests_total{deployment=\"" + std::string(deployment) +
                            "\",backend=\"" + std::string(backend) + "\",status=\"" +
                            std::to_string(status) + "\"}");
  };
  EXPECT_EQ(requests("gpt-4o", "east", 200), 6) << text;
  EXPECT_EQ(requests("gpt-4o", "east", 429), 2) << text;
  EXPECT_EQ(requests("gpt-4o", "west", 200), 2) << text;
  EXPECT_EQ(requests("gpt-4o-mini", "east", 200), 1) << text;
  auto prompt = [&](std::string_view deployment, std::string_view backend,
                    std::string_view source) {
    return sample(text, "sluice_tokens_total{type=\"prompt\",deployment=\"" +
                            std::string(deployment) + "\",backend=\"" + std::string(backend) +
                            "\",usage_source=\"" + std::string(source) + "\"}");
  };
  EXPECT_EQ(prompt("gpt-4o", "east", "reported"), 50) << text;
  EXPECT_EQ(prompt("gpt-4o", "east", "estimated"), 7) << text;
  EXPECT_EQ(prompt("gpt-4o", "west", "reported"), 20) << text;
  EXPECT_EQ(prompt("gpt-4o-mini", "east", "reported"), 5) << text;
  auto durations = [&](std::string_view deployment, std::string_view backend) {
    return sample(text, "gen_ai_client_operation_duration_seconds_count{deployment=\"" +
                            std::string(deployment) + "\",backend=\"" + std::string(backend) +
                            "\"}");
  };
  EXPECT_EQ(durations("gpt-4o", "east"), 8) << text;
  EXPECT_EQ(durations("gpt-4o", "west"), 2) << text;
  EXPECT_EQ(durations("gpt-4o-mini", "east"), 1) << text;
}

TEST(MetricsPolicy, TwoPoliciesOnOneThreadCountInTheirOwnFamilies) {
  // Two gateways' policies (a reload's old and new, or two registries) in turn on one thread:
  // neither may write into the series the other looked up last.
  auto first_registry = std::make_shared<usage::MetricRegistry>();
  auto second_registry = std::make_shared<usage::MetricRegistry>();
  MetricsPolicy first(deployment_and_backend(), *first_registry);
  MetricsPolicy second(deployment_and_backend(), *second_registry);
  for (int i = 0; i < 3; ++i) {
    complete(first, {});
    complete(second, {});
    complete(second, {});
  }
  const std::string series =
      "sluice_requests_total{deployment=\"gpt-4o\",backend=\"east\",status=\"200\"}";
  EXPECT_EQ(sample(scrape(*first_registry), series), 3);
  EXPECT_EQ(sample(scrape(*second_registry), series), 6);
}

TEST(MetricsPolicy, EveryRequestPastTheCapCountsAnOverflow) {
  auto registry = std::make_shared<usage::MetricRegistry>();
  MetricsPolicy policy(deployment_and_backend(1), *registry);
  complete(policy, {});
  for (int i = 0; i < 4; ++i) complete(policy, {.backend = "west"});
  const auto text = scrape(*registry);
  EXPECT_EQ(
      sample(text, "sluice_requests_total{deployment=\"gpt-4o\",backend=\"east\",status=\"200\"}"),
      1)
      << text;
  EXPECT_EQ(
      sample(text,
             "sluice_requests_total{deployment=\"other\",backend=\"other\",status=\"other\"}"),
      4)
      << text;
  EXPECT_EQ(sample(text, "sluice_metrics_series_overflow_total{metric=\"sluice_requests_total\"}"),
            4)
      << text;
  EXPECT_EQ(sample(text,
                   "sluice_metrics_series_overflow_total{metric=\"gen_ai_client_operation_duration_"
                   "seconds\"}"),
            4)
      << text;
}

}  // namespace
}  // namespace sluice::gateway
