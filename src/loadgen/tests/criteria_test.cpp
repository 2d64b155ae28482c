#include "sluice/loadgen/criteria.hpp"

#include <gtest/gtest.h>

namespace sluice::loadgen {
namespace {

TEST(Criteria, ParsesAzureSyntaxWithRequestPrefix) {
  auto c = parse_criterion("GetCustomerDetails: avg(latency) >200");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->label, "GetCustomerDetails");
  EXPECT_EQ(c->aggregate, "avg");
  EXPECT_EQ(c->metric, "latency");
  EXPECT_EQ(c->op, ">");
  EXPECT_EQ(c->threshold, 200);
  auto p = parse_criterion("p99.9(ttft_ms) > 1500");
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->percentile, 99.9);
}

TEST(Criteria, RefusesUnknownMetricsAndWrongAggregates) {
  auto m = parse_criterion("avg(speed) > 3");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("unknown metric \"speed\""), std::string::npos);
  EXPECT_FALSE(parse_criterion("percentage(response_time_ms) > 3"));
  EXPECT_FALSE(parse_criterion("avg(error) > 3"));
  EXPECT_FALSE(parse_criterion("p95(latency) >> 3"));
  EXPECT_FALSE(parse_criterion("p95(latency) > fast"));
  EXPECT_FALSE(parse_criterion("p0(latency) > 1"));
}

TEST(Criteria, EvaluatesAgainstResults) {
  Results r;
  for (int i = 0; i < 100; ++i) {
    Sample s;
    s.e2e_us = (i + 1) * 1000;  // 1..100 ms
    s.ttfb_us = 500;
    s.status = i < 10 ? 500 : 200;
    s.success = i >= 10;
    s.ttft_us = 100'000;
    r.record(i % 2 ? "a" : "b", s);
  }
  auto crit = [](const char* t) { return *parse_criterion(t); };
  auto out =
      evaluate_criteria({crit("percentage(error) > 5"), crit("percentage(error) > 20"),
                         crit("p95(response_time_ms) > 90"), crit("avg(ttft_ms) < 50"),
                         crit("missing: avg(latency) > 1"), crit("avg(requests_per_sec) > 40")},
                        r, 2.0);
  EXPECT_TRUE(out[0].failed);
  EXPECT_FALSE(out[1].failed);
  EXPECT_TRUE(out[2].failed);
  EXPECT_NEAR(*out[2].actual, 95, 1);
  EXPECT_FALSE(out[3].failed);
  EXPECT_FALSE(out[4].actual.has_value());
  EXPECT_FALSE(out[4].failed);
  EXPECT_TRUE(out[5].failed);  // 50 req/s
}

}  // namespace
}  // namespace sluice::loadgen
