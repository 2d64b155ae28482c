#include "sluice/core/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <random>
#include <vector>

namespace sluice::core {
namespace {

using namespace std::chrono_literals;

// The exact percentile by the same definition the histogram documents: the smallest value with at
// least p% of the values at or below it.
std::uint64_t exact_percentile(std::vector<std::uint64_t> values, double p) {
  std::sort(values.begin(), values.end());
  // The epsilon keeps p/100*n from landing just above a whole rank through rounding.
  auto rank =
      static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size()) - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

// Latencies spread over the whole 1us..1h range, log-uniformly, like a mix of cache hits and
// long streams.
std::vector<std::uint64_t> random_latencies(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(0.0, std::log(3.6e9));
  std::vector<std::uint64_t> values(n);
  for (auto& v : values) v = static_cast<std::uint64_t>(std::exp(exponent(rng)));
  return values;
}

TEST(Histogram, LayoutIsContiguousAndCoversEveryValue) {
  // Every bucket starts right after the previous one ends, and indexes round-trip.
  for (std::size_t i = 1; i <= Histogram::bucket_index(Histogram::kMaxValue); ++i) {
    ASSERT_EQ(Histogram::bucket_lowest(i), Histogram::bucket_highest(i - 1) + 1) << i;
    ASSERT_EQ(Histogram::bucket_index(Histogram::bucket_lowest(i)), i);
    ASSERT_EQ(Histogram::bucket_index(Histogram::bucket_highest(i)), i);
    // Relative width bound behind the accuracy claim (buckets below 256 hold one value each).
    std::uint64_t width = Histogram::bucket_highest(i) - Histogram::bucket_lowest(i) + 1;
    if (i < 256) {
      ASSERT_EQ(width, 1u) << i;
    } else {
      ASSERT_LE(static_cast<double>(width) / static_cast<double>(Histogram::bucket_lowest(i)),
                1.0 / 128)
          << i;
    }
  }
  EXPECT_EQ(Histogram::bucket_highest(Histogram::bucket_index(Histogram::kMaxValue)),
            Histogram::kMaxValue);
  EXPECT_EQ(Histogram::bucket_index(255), 255u);  // small values are exact
}

TEST(Histogram, EmptyIsAllZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.percentile(50), 0u);
}

TEST(Histogram, ExactStatistics) {
  Histogram h;
  for (std::uint64_t v : {5u, 1000u, 1'000'000u, 3u}) h.record(v);
  h.record(7, 2);
  EXPECT_EQ(h.count(), 6u);
  EXPECT_EQ(h.min(), 3u);
  EXPECT_EQ(h.max(), 1'000'000u);
  EXPECT_EQ(h.sum(), 1'001'022u);
  EXPECT_DOUBLE_EQ(h.mean(), 1'001'022.0 / 6);
  EXPECT_EQ(h.percentile(0), 3u);
  EXPECT_EQ(h.percentile(100), 1'000'000u);
  EXPECT_EQ(h.percentile(50), 7u);  // 3 5 7 7 1000 1e6: 3rd value
}

TEST(Histogram, PercentilesWithinOnePercentOfExact) {
  auto values = random_latencies(200'000, 42);
  Histogram h;
  for (auto v : values) h.record(v);
  for (double p : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99}) {
    double exact = static_cast<double>(exact_percentile(values, p));
    double got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::abs(got - exact), 0.01 * exact)
        << "p" << p << " exact " << exact << " got " << got;
  }
}

TEST(Histogram, PercentileRankIsNotFooledByFloatingPoint) {
  // Values below 256 are exact, so the rank alone decides. In doubles 7 / 100.0 * 100 is
  // 7.000000000000001, whose ceiling would pick the 8th value.
  Histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.percentile(7), 7u);
  EXPECT_EQ(h.percentile(50), 50u);
  EXPECT_EQ(h.percentile(50.5), 51u);
  EXPECT_EQ(h.percentile(0.1), 1u);
  EXPECT_EQ(h.percentile(99.9), 100u);
}

TEST(Histogram, LargeValuesReportTheMiddleOfTheirBucket) {
  Histogram h;
  h.record(10);
  h.record(999, 2);  // bucket 996..999
  h.record(2000);
  EXPECT_EQ(h.percentile(50), 997u);
  EXPECT_EQ(h.percentile(100), 2000u);
}

TEST(Histogram, RecordsDurationsInMicroseconds) {
  Histogram h;
  h.record(250ms);
  h.record(1500ns);  // rounds to 2us
  h.record(-3ms);    // clock skew: counted as 0
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 250'000u);
  EXPECT_EQ(h.percentile(50), 2u);
}

TEST(Histogram, ClampsHugeValues) {
  Histogram h;
  h.record(UINT64_MAX);
  EXPECT_EQ(h.max(), Histogram::kMaxValue);
  EXPECT_EQ(h.percentile(99), Histogram::kMaxValue);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  auto a_values = random_latencies(50'000, 1);
  auto b_values = random_latencies(70'000, 2);
  Histogram a, b, all;
  for (auto v : a_values) {
    a.record(v);
    all.record(v);
  }
  for (auto v : b_values) {
    b.record(v);
    all.record(v);
  }
  EXPECT_FALSE(a == all);
  Histogram merged = a;
  merged.merge(b);
  EXPECT_TRUE(merged == all);
  Histogram other_order = b;
  other_order.merge(a);
  EXPECT_TRUE(other_order == all);
  for (double p : {50.0, 99.0}) EXPECT_EQ(merged.percentile(p), all.percentile(p));

  Histogram empty;
  merged.merge(empty);
  EXPECT_TRUE(merged == all);
  empty.merge(all);
  EXPECT_TRUE(empty == all);
}

TEST(Histogram, BucketsAndCumulativeCounts) {
  Histogram h;
  h.record(10, 3);
  h.record(1000);
  h.record(100'000);
  std::vector<Histogram::Bucket> buckets;
  h.for_each_bucket([&](const Histogram::Bucket& b) { buckets.push_back(b); });
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0].lowest, 10u);
  EXPECT_EQ(buckets[0].count, 3u);
  EXPECT_LE(buckets[1].lowest, 1000u);
  EXPECT_GE(buckets[1].highest, 1000u);
  EXPECT_EQ(h.count_at_or_below(9), 0u);
  EXPECT_EQ(h.count_at_or_below(10), 3u);
  EXPECT_EQ(h.count_at_or_below(buckets[1].highest), 4u);
  EXPECT_EQ(h.count_at_or_below(buckets[1].lowest - 1), 3u);
  EXPECT_EQ(h.count_at_or_below(UINT64_MAX), 5u);
}

TEST(Histogram, JsonRoundTripIsExactAndSparse) {
  Histogram h;
  for (auto v : random_latencies(10'000, 7)) h.record(v);
  boost::json::value json = h.to_json();
  std::string text = boost::json::serialize(json);
  auto back = Histogram::from_json(boost::json::parse(text));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == h);
  // Sparse: only the buckets in use are written.
  std::size_t used = 0;
  h.for_each_bucket([&](const Histogram::Bucket&) { ++used; });
  EXPECT_EQ(json.as_object().at("buckets").as_array().size(), used);

  auto empty = Histogram::from_json(Histogram().to_json());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->count(), 0u);
}

TEST(Histogram, FromJsonRejectsCorruptInput) {
  Histogram h;
  h.record(100);
  h.record(5000);
  auto corrupt = [&](auto edit) {
    boost::json::value json = h.to_json();
    edit(json.as_object());
    return Histogram::from_json(json);
  };
  EXPECT_FALSE(corrupt([](boost::json::object& o) { o["count"] = 3; }).ok());
  EXPECT_FALSE(corrupt([](boost::json::object& o) { o["precision_bits"] = 8; }).ok());
  EXPECT_FALSE(corrupt([](boost::json::object& o) {
                 o["min"] = 5000;
                 o["max"] = 100;
               }).ok());
  EXPECT_FALSE(corrupt([](boost::json::object& o) { o["sum"] = 1; }).ok());
  EXPECT_FALSE(corrupt([](boost::json::object& o) { o.erase("buckets"); }).ok());
  EXPECT_FALSE(corrupt([](boost::json::object& o) {
                 o["buckets"].as_array()[1].as_array()[0] = 5001;  // not a bucket boundary
               }).ok());
  EXPECT_FALSE(corrupt([](boost::json::object& o) {
                 auto& b = o["buckets"].as_array();
                 std::swap(b[0], b[1]);
               }).ok());
  EXPECT_FALSE(corrupt([](boost::json::object& o) { o["count"] = -2; }).ok());
  EXPECT_FALSE(Histogram::from_json(boost::json::array{}).ok());
  auto message = corrupt([](boost::json::object& o) { o["count"] = 3; }).error().message;
  EXPECT_NE(message.find("do not add up"), std::string::npos) << message;
}

}  // namespace
}  // namespace sluice::core
