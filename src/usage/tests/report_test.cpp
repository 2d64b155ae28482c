#include "sluice/usage/report.hpp"

#include <gtest/gtest.h>

namespace sluice::usage {
namespace {

std::vector<SummaryRow> summary() {
  return {
      {.keys = {"app-a"},
       .model = "gpt-4o-2024-08-06",
       .requests = 2,
       .prompt_tokens = 1000,
       .completion_tokens = 500,
       .total_tokens = 1500,
       .cached_tokens = 200},
      {.keys = {"app-a"},
       .model = "gpt-4o-mini",
       .requests = 1,
       .prompt_tokens = 100,
       .completion_tokens = 0,
       .total_tokens = 100},
      {.keys = {"app,b"},
       .model = "mystery",
       .requests = 1,
       .prompt_tokens = 300,
       .completion_tokens = 100,
       .total_tokens = 400},
  };
}

TEST(Report, GroupsSharesAndOrdersByTokens) {
  auto report = build_report(summary(), {"app"}, nullptr);
  ASSERT_EQ(report.rows.size(), 2u);
  EXPECT_EQ(report.rows[0].keys[0], "app-a");
  EXPECT_EQ(report.rows[0].requests, 3);
  EXPECT_EQ(report.rows[0].total_tokens, 1600);
  EXPECT_DOUBLE_EQ(report.rows[0].share, 0.8);
  EXPECT_EQ(report.total.total_tokens, 2000);
}

TEST(Report, PricesMatchTheLongestModelPrefix) {
  PriceTable prices;
  prices.models["gpt-4o"] = {.input = 2.5, .output = 10, .cached_input = 1.25};
  prices.models["gpt-4o-mini"] = {.input = 0.15, .output = 0.6};
  EXPECT_EQ(prices.find("gpt-4o-2024-08-06"), &prices.models["gpt-4o"]);
  EXPECT_EQ(prices.find("gpt-4o-mini"), &prices.models["gpt-4o-mini"]);
  EXPECT_EQ(prices.find("gpt-4"), nullptr);
  auto report = build_report(summary(), {"app"}, &prices);
  // app-a: (800*2.5 + 200*1.25 + 500*10)/1000 + 100*0.15/1000
  EXPECT_NEAR(report.rows[0].cost, 7.25 + 0.015, 1e-9);
  EXPECT_EQ(report.unpriced_models, std::set<std::string>{"mystery"});
}

TEST(Report, ShowsCacheHitsHitRatioAndTokensSaved) {
  std::vector<SummaryRow> rows = {{.keys = {"app-a"},
                                   .model = "gpt-4o",
                                   .requests = 4,
                                   .total_tokens = 30,
                                   .cache_hits = 1,
                                   .tokens_saved = 10}};
  auto report = build_report(rows, {"app"}, nullptr);
  EXPECT_EQ(report.total.cache_hits, 1);
  EXPECT_EQ(report.total.tokens_saved, 10);
  auto table = format_report(report, ReportFormat::kTable);
  EXPECT_NE(table.find("cache_hits  hit_pct  tokens_saved"), std::string::npos) << table;
  EXPECT_NE(format_report(report, ReportFormat::kCsv).find("app-a,4,0,0,30,0,100.00,1,25.00,10"),
            std::string::npos);
  auto json = format_report(report, ReportFormat::kJson);
  EXPECT_NE(json.find("\"hit_ratio\":2.5E-1"), std::string::npos) << json;
}

TEST(Report, CsvQuotesAndJsonCarriesEveryRow) {
  auto report = build_report(summary(), {"app"}, nullptr);
  auto csv = format_report(report, ReportFormat::kCsv);
  EXPECT_NE(csv.find("\"app,b\",1,300,100,400,0,20.00"), std::string::npos) << csv;
  auto json = format_report(report, ReportFormat::kJson);
  EXPECT_NE(json.find("\"total\":{\"requests\":4"), std::string::npos) << json;
  auto table = format_report(report, ReportFormat::kTable);
  EXPECT_NE(table.find("TOTAL"), std::string::npos) << table;
}

}  // namespace
}  // namespace sluice::usage
