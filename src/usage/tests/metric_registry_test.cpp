#include "sluice/usage/metric_registry.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::usage {
namespace {

std::string scrape(const MetricRegistry& registry) {
  std::string out;
  registry.write(out);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

TEST(MetricRegistry, ThreadShardsAddUpAtScrape) {
  auto registry = std::make_shared<MetricRegistry>();
  auto tokens = registry->family({.name = "t_tokens_total",
                                  .help = "Tokens.",
                                  .variant_label = "type",
                                  .variants = {"prompt", "completion"},
                                  .labels = {"app"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        std::string_view values[] = {i % 2 ? "a" : "b\"quoted\""};
        auto series = tokens->series(values);
        MetricFamily::add(series, 0, 3);
        MetricFamily::add(series, 1, 1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto text = scrape(*registry);
  EXPECT_TRUE(has_line(text, "t_tokens_total{type=\"prompt\",app=\"a\"} 6000")) << text;
  EXPECT_TRUE(has_line(text, "t_tokens_total{type=\"completion\",app=\"a\"} 2000")) << text;
  EXPECT_TRUE(has_line(text, "t_tokens_total{type=\"prompt\",app=\"b\\\"quoted\\\"\"} 6000"))
      << text;
  EXPECT_TRUE(has_line(text, "# TYPE t_tokens_total counter")) << text;
}

TEST(MetricRegistry, CardinalityCapFoldsIntoOtherAndCounts) {
  auto registry = std::make_shared<MetricRegistry>();
  auto family = registry->family(
      {.name = "t_requests_total", .help = "Requests.", .labels = {"ip", "app"}, .max_series = 2});
  for (int i = 0; i < 5; ++i) {
    auto ip = std::to_string(i);
    std::string_view values[] = {ip, "x"};
    auto series = family->series(values);
    EXPECT_EQ(series.folded, i >= 2) << i;
    MetricFamily::add(series, 0, 1);
  }
  std::string_view seen[] = {"0", "x"};
  EXPECT_FALSE(family->series(seen).folded);  // a label set within the cap, looked up again
  auto text = scrape(*registry);
  EXPECT_TRUE(has_line(text, "t_requests_total{ip=\"0\",app=\"x\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "t_requests_total{ip=\"1\",app=\"x\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "t_requests_total{ip=\"other\",app=\"other\"} 3")) << text;
  EXPECT_TRUE(has_line(text, "sluice_metrics_series_overflow_total{metric=\"t_requests_total\"} 3"))
      << text;
  EXPECT_EQ(text.find("ip=\"4\""), std::string::npos);
}

TEST(MetricRegistry, HistogramBucketsAreCumulativeAndScaled) {
  auto registry = std::make_shared<MetricRegistry>();
  auto latency = registry->family({.name = "t_latency_seconds",
                                   .help = "Latency.",
                                   .type = MetricType::kHistogram,
                                   .bounds = {1000, 10000},
                                   .scale = 1e-6});
  auto series = latency->series({});
  latency->observe(series, 0, 500);
  latency->observe(series, 0, 1000);  // le is inclusive
  latency->observe(series, 0, 5000);
  latency->observe(series, 0, 50000);
  auto text = scrape(*registry);
  EXPECT_TRUE(has_line(text, "t_latency_seconds_bucket{le=\"0.001\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "t_latency_seconds_bucket{le=\"0.01\"} 3")) << text;
  EXPECT_TRUE(has_line(text, "t_latency_seconds_bucket{le=\"+Inf\"} 4")) << text;
  EXPECT_TRUE(has_line(text, "t_latency_seconds_count 4")) << text;
  EXPECT_TRUE(has_line(text, "t_latency_seconds_sum 0.0565")) << text;
}

TEST(MetricRegistry, SameSpecKeepsCountingAcrossReloads) {
  auto registry = std::make_shared<MetricRegistry>();
  FamilySpec spec{.name = "t_total", .help = "T.", .labels = {"a"}};
  auto first = registry->family(spec);
  std::string_view values[] = {"v"};
  MetricFamily::add(first->series(values), 0, 2);
  auto second = registry->family(spec);
  EXPECT_EQ(first, second);
  spec.labels = {"a", "b"};
  auto third = registry->family(spec);
  EXPECT_NE(first, third) << "a different label set is a new family";
  auto text = scrape(*registry);
  EXPECT_EQ(text.find("t_total{a=\"v\"} 2"), std::string::npos)
      << "replaced families are not exported";
}

TEST(MetricRegistry, ContributionsShareOneHeaderAndEndWithTheirToken) {
  auto registry = std::make_shared<MetricRegistry>();
  auto one = registry->contribute("t_backlog_bytes", "Backlog.", "gauge", [](std::string& out) {
    out += "t_backlog_bytes{dir=\"a\"} 1\n";
  });
  auto two = registry->contribute("t_backlog_bytes", "Backlog.", "gauge", [](std::string& out) {
    out += "t_backlog_bytes{dir=\"b\"} 2\n";
  });
  auto text = scrape(*registry);
  EXPECT_EQ(text.find("# TYPE t_backlog_bytes gauge"), text.rfind("# TYPE t_backlog_bytes gauge"));
  EXPECT_TRUE(has_line(text, "t_backlog_bytes{dir=\"b\"} 2")) << text;
  two.reset();
  text = scrape(*registry);
  EXPECT_FALSE(has_line(text, "t_backlog_bytes{dir=\"b\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "t_backlog_bytes{dir=\"a\"} 1")) << text;
}

}  // namespace
}  // namespace sluice::usage
