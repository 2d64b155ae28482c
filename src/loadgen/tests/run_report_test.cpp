#include "sluice/loadgen/run_report.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace sluice::loadgen {
namespace {

RunReport make_report(int seed, int n, std::int64_t start_ms) {
  RunReport r;
  r.test_id = "t";
  r.started_at_ms = start_ms;
  r.ended_at_ms = start_ms + 10'000;
  r.criteria = {"p95(response_time_ms) > 80", "percentage(error) > 50"};
  for (int i = 0; i < n; ++i) {
    Sample s;
    s.timestamp_ms = start_ms + i * 10;
    s.e2e_us = ((i * 7919 + seed) % 100'000) + 1;
    s.ttft_us = s.e2e_us / 2;
    s.itl_us = {100, 200};
    s.status = 200;
    s.success = (i + seed) % 9 != 0;
    s.prompt_tokens = 10;
    s.completion_tokens = 20;
    r.results.record(i % 3 ? "chat" : "entra token", s);
  }
  r.evaluate();
  return r;
}

TEST(RunReport, JsonRoundTripIsExact) {
  auto r = make_report(1, 500, 1'700'000'000'000);
  auto back = report_from_json(to_json(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->results.total.e2e, r.results.total.e2e);
  EXPECT_EQ(back->results.labels.at("chat").itl, r.results.labels.at("chat").itl);
  EXPECT_EQ(back->results.timeline.size(), r.results.timeline.size());
  EXPECT_EQ(back->criteria, r.criteria);
  EXPECT_EQ(back->passed(), r.passed());
}

TEST(RunReport, MergeOfEnginesEqualsOneEngineWithAllSamples) {
  auto a = make_report(1, 300, 1'700'000'000'000);
  auto b = make_report(2, 200, 1'700'000'000'500);
  // The same samples recorded by one engine.
  RunReport one = a;
  one.results.merge(b.results);
  auto merged = merge_reports({*report_from_json(to_json(a)), *report_from_json(to_json(b))});
  EXPECT_EQ(merged.results.total.requests, 500u);
  EXPECT_EQ(merged.results.total.e2e, one.results.total.e2e);
  EXPECT_EQ(merged.results.total.errors, one.results.total.errors);
  EXPECT_EQ(merged.results.total.e2e.percentile(95), one.results.total.e2e.percentile(95));
  EXPECT_EQ(merged.results.timeline.size(), one.results.timeline.size());
  EXPECT_EQ(merged.started_at_ms, a.started_at_ms);
  EXPECT_EQ(merged.ended_at_ms, b.ended_at_ms);
  EXPECT_EQ(merged.engines_merged, 2);
  ASSERT_EQ(merged.outcomes.size(), 2u);
}

TEST(RunReport, RefusesForeignOrCorruptFiles) {
  EXPECT_FALSE(report_from_json(boost::json::parse(R"({"format":"other"})")));
  auto r = make_report(1, 10, 0);
  auto json = to_json(r);
  json.as_object()["total"].as_object()["histograms"].as_object()["e2e_us"].as_object()["count"] =
      999;
  EXPECT_FALSE(report_from_json(json));
}

TEST(RunReport, HtmlIsSelfContained) {
  auto html = render_html_report(make_report(1, 100, 1'700'000'000'000));
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_NE(html.find("createElement('canvas')"), std::string::npos);
  EXPECT_NE(html.find("report-data"), std::string::npos);
}

}  // namespace
}  // namespace sluice::loadgen
