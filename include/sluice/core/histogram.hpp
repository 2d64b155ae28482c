#pragma once
// A mergeable log-linear histogram (the HDR histogram layout) of non-negative integer values.
//
// Latencies are recorded in microseconds by convention (record(duration) converts). Values below
// 256 get a bucket each; above, every power of two is split into 128 equal buckets, so a bucket is
// at most 1/128 (0.78%) of its lowest value wide and any percentile is within 0.4% of the exact
// one. Range: 0 to kMaxValue (about 51 days in microseconds); larger values are clamped to it.
//
// Counts are integers and merge() adds them, so merging per-thread or per-engine histograms gives
// exactly the histogram of all the values (the load tester relies on this to merge engines).
//
// Threads: thread-compatible. Keep one per thread and merge into an aggregate.
#include <chrono>
#include <cstdint>
#include <vector>

#include <boost/json/fwd.hpp>  // to_json/from_json callers include <boost/json.hpp>

#include "sluice/core/result.hpp"

namespace sluice::core {

class Histogram {
 public:
  static constexpr int kPrecisionBits = 7;
  static constexpr std::uint64_t kMaxValue = (std::uint64_t{1} << 42) - 1;

  // One bucket: it holds the values lowest..highest (inclusive).
  struct Bucket {
    std::uint64_t lowest;
    std::uint64_t highest;
    std::uint64_t count;
  };

  // Records `value` (clamped to kMaxValue) `count` times. May allocate the first time a larger
  // value is seen (at most 37 KiB in all).
  void record(std::uint64_t value, std::uint64_t count = 1);
  // Records a duration in whole microseconds, rounded to nearest; negative durations count as 0.
  template <class Rep, class Period>
  void record(std::chrono::duration<Rep, Period> latency) {
    auto us = std::chrono::round<std::chrono::microseconds>(
        std::chrono::duration_cast<std::chrono::duration<double, std::micro>>(latency));
    record(us.count() < 0 ? 0 : static_cast<std::uint64_t>(us.count()));
  }

  // Adds every count of `other`. Exact: the result equals one histogram of both value sets.
  void merge(const Histogram& other);
  void clear();

  std::uint64_t count() const noexcept { return count_; }
  // Exact smallest and largest value recorded (after clamping); 0 when empty.
  std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const noexcept { return max_; }
  // Exact sum and mean of the recorded values; 0 when empty.
  std::uint64_t sum() const noexcept { return sum_; }
  double mean() const noexcept;

  // The value at percentile `p` (0..100, clamped): the smallest recorded value v such that at least
  // p% of the values are <= v, reported as the middle of its bucket (exact below 256) and clamped
  // to [min(), max()]. percentile(0) is min(), percentile(100) is max(). 0 when empty.
  std::uint64_t percentile(double p) const noexcept;

  // Calls f(const Bucket&) for every non-empty bucket in ascending order.
  template <class F>
  void for_each_bucket(F&& f) const {
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] != 0) f(Bucket{bucket_lowest(i), bucket_highest(i), counts_[i]});
    }
  }
  // How many recorded values are <= `value`, counting a bucket as soon as its lowest value is
  // <= `value`: exact at bucket boundaries and at most one bucket (0.78%) generous elsewhere. For
  // Prometheus `le` buckets.
  std::uint64_t count_at_or_below(std::uint64_t value) const noexcept;

  // Compact JSON: {"count":N,"min":..,"max":..,"sum":..,"precision_bits":7,
  //                "buckets":[[lowest,count],...]} listing non-empty buckets only.
  boost::json::value to_json() const;
  // The inverse of to_json, validating everything (bucket boundaries, totals) so a corrupt or
  // foreign file is a kInvalidArgument error, never a wrong merge. Any thread.
  static Result<Histogram> from_json(const boost::json::value& json);

  // Same counts, min, max and sum.
  friend bool operator==(const Histogram& a, const Histogram& b) noexcept;

  // The layout, exposed for tests and exporters.
  static std::size_t bucket_index(std::uint64_t value) noexcept;
  static std::uint64_t bucket_lowest(std::size_t index) noexcept;
  static std::uint64_t bucket_highest(std::size_t index) noexcept;

 private:
  std::vector<std::uint64_t> counts_;  // grown on demand up to the largest bucket used
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t sum_ = 0;
};

}  // namespace sluice::core
