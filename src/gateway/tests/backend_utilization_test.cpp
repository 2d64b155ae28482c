#include <gtest/gtest.h>

#include "gateway/backend_utilization.hpp"

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;

TEST(ParseUtilizationPercent, ReadsAzureFormat) {
  EXPECT_DOUBLE_EQ(*parse_utilization_percent("42.5%"), 42.5);
  EXPECT_DOUBLE_EQ(*parse_utilization_percent("0.0%"), 0.0);
  EXPECT_DOUBLE_EQ(*parse_utilization_percent(" 7 % "), 7.0);
  EXPECT_DOUBLE_EQ(*parse_utilization_percent("100"), 100.0);
}

TEST(ParseUtilizationPercent, KeepsOverCommittedValuesAbove100) {
  EXPECT_DOUBLE_EQ(*parse_utilization_percent("130.2%"), 130.2);
  EXPECT_FALSE(parse_utilization_percent("1000.1%"));
}

TEST(ParseUtilizationPercent, IgnoresGarbage) {
  for (std::string_view bad : {"", "%", "  ", "high", "42.5%%", "42,5%", "-3%", "nan", "inf%",
                               "1e2%", "42.5% extra", "0x10", "+5%"}) {
    EXPECT_FALSE(parse_utilization_percent(bad)) << "'" << bad << "'";
  }
}

TEST(BackendUtilization, NeverReportedIsEmpty) {
  BackendUtilization utilization;
  EXPECT_FALSE(utilization.fresh(std::chrono::system_clock::now()));
}

TEST(BackendUtilization, KeepsTheLastFigureWhileFresh) {
  BackendUtilization utilization;
  auto t0 = std::chrono::system_clock::now();
  utilization.record(42.5, t0);
  utilization.record(55.0, t0 + 1s);
  auto reading = utilization.fresh(t0 + 11s);
  ASSERT_TRUE(reading);
  EXPECT_DOUBLE_EQ(reading->percent, 55.0);
  EXPECT_EQ(reading->age, 10s);
  EXPECT_FALSE(utilization.fresh(t0 + 1s + kUtilizationFreshFor + 1ms));
}

TEST(BackendUtilization, ReadsTheHeaderAndIgnoresAMissingOrBadOne) {
  BackendUtilization utilization;
  http::ResponseHeader header;
  utilization.note(header);
  EXPECT_FALSE(utilization.fresh(std::chrono::system_clock::now()));
  header.set(kUtilizationHeader, "lots");
  utilization.note(header);
  EXPECT_FALSE(utilization.fresh(std::chrono::system_clock::now()));
  header.set("Azure-OpenAI-Deployment-Utilization", "12.5%");  // names are case-insensitive
  utilization.note(header);
  auto reading = utilization.fresh(std::chrono::system_clock::now());
  ASSERT_TRUE(reading);
  EXPECT_DOUBLE_EQ(reading->percent, 12.5);
  header.set(kUtilizationHeader, "garbage");
  utilization.note(header);  // a bad figure leaves the last good one
  EXPECT_DOUBLE_EQ(utilization.fresh(std::chrono::system_clock::now())->percent, 12.5);
}

}  // namespace
}  // namespace sluice::gateway
