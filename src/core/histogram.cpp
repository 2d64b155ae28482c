#include "sluice/core/histogram.hpp"

#include <algorithm>
#include <bit>
#include <boost/json.hpp>
#include <limits>
#include <string>

namespace sluice::core {
namespace {

constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << Histogram::kPrecisionBits;
constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();

// Sums saturate instead of wrapping: a pinned sum is visibly wrong, a wrapped one is silently so.
std::uint64_t add_saturating(std::uint64_t a, std::uint64_t b) {
  std::uint64_t out = 0;
  return __builtin_add_overflow(a, b, &out) ? kSaturated : out;
}
std::uint64_t multiply_saturating(std::uint64_t a, std::uint64_t b) {
  std::uint64_t out = 0;
  return __builtin_mul_overflow(a, b, &out) ? kSaturated : out;
}

std::size_t used_size(const std::vector<std::uint64_t>& counts) {
  std::size_t size = counts.size();
  while (size > 0 && counts[size - 1] == 0) --size;
  return size;
}

Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, "invalid histogram JSON: " + std::move(message)};
}

Result<std::uint64_t> read_u64(const boost::json::value& value, const char* what) {
  if (value.is_uint64()) return value.get_uint64();
  if (value.is_int64() && value.get_int64() >= 0) {
    return static_cast<std::uint64_t>(value.get_int64());
  }
  return invalid(std::string(what) + " must be a non-negative integer");
}

Result<std::uint64_t> read_field(const boost::json::object& object, const char* key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr) return invalid(std::string("missing \"") + key + "\"");
  return read_u64(*value, key);
}

}  // namespace

std::size_t Histogram::bucket_index(std::uint64_t value) noexcept {
  if (value < kSubBuckets) return static_cast<std::size_t>(value);
  int shift = std::bit_width(value) - 1 - kPrecisionBits;
  return static_cast<std::size_t>((static_cast<std::uint64_t>(shift) + 1) * kSubBuckets +
                                  ((value >> shift) - kSubBuckets));
}

std::uint64_t Histogram::bucket_lowest(std::size_t index) noexcept {
  if (index < kSubBuckets) return index;
  std::uint64_t shift = index / kSubBuckets - 1;
  return (kSubBuckets + index % kSubBuckets) << shift;
}

std::uint64_t Histogram::bucket_highest(std::size_t index) noexcept {
  if (index < kSubBuckets) return index;
  std::uint64_t shift = index / kSubBuckets - 1;
  return bucket_lowest(index) + (std::uint64_t{1} << shift) - 1;
}

void Histogram::record(std::uint64_t value, std::uint64_t count) {
  if (count == 0) return;
  value = std::min(value, kMaxValue);
  std::size_t index = bucket_index(value);
  if (index >= counts_.size()) counts_.resize(index + 1, 0);
  counts_[index] += count;
  if (count_ == 0) {
    min_ = value;
    max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  count_ += count;
  sum_ = add_saturating(sum_, multiply_saturating(value, count));
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  std::size_t size = used_size(other.counts_);
  if (size > counts_.size()) counts_.resize(size, 0);
  for (std::size_t i = 0; i < size; ++i) counts_[i] += other.counts_[i];
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ = add_saturating(sum_, other.sum_);
}

void Histogram::clear() {
  counts_.clear();
  count_ = 0;
  min_ = 0;
  max_ = 0;
  sum_ = 0;
}

double Histogram::mean() const noexcept {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_);
}

std::uint64_t Histogram::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  if (!(p > 0)) return min_;  // also NaN
  if (p >= 100) return max_;
  // rank = ceil(p% of count), computed in integers (p to a millionth of a percent) so that e.g.
  // p = 99.9 of 1000 values is the 999th value, not the 1000th after floating-point rounding.
  constexpr unsigned __int128 kScale = 100'000'000;  // 100% in millionths of a percent
  auto millionths = static_cast<unsigned __int128>(p * 1e6 + 0.5);
  std::uint64_t rank = static_cast<std::uint64_t>((millionths * count_ + kScale - 1) / kScale);
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      std::uint64_t lowest = bucket_lowest(i);
      std::uint64_t middle = lowest + (bucket_highest(i) - lowest) / 2;
      return std::clamp(middle, min_, max_);
    }
  }
  return max_;
}

std::uint64_t Histogram::count_at_or_below(std::uint64_t value) const noexcept {
  std::size_t last = bucket_index(std::min(value, kMaxValue));
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= last && i < counts_.size(); ++i) total += counts_[i];
  return total;
}

bool operator==(const Histogram& a, const Histogram& b) noexcept {
  if (a.count_ != b.count_ || a.min() != b.min() || a.max_ != b.max_ || a.sum_ != b.sum_) {
    return false;
  }
  std::size_t size = used_size(a.counts_);
  return size == used_size(b.counts_) &&
         std::equal(a.counts_.begin(), a.counts_.begin() + static_cast<std::ptrdiff_t>(size),
                    b.counts_.begin());
}

boost::json::value Histogram::to_json() const {
  boost::json::array buckets;
  for_each_bucket([&](const Bucket& bucket) {
    buckets.push_back(boost::json::array{bucket.lowest, bucket.count});
  });
  return boost::json::object{
      {"count", count_},
      {"min", min()},
      {"max", max_},
      {"sum", sum_},
      {"precision_bits", kPrecisionBits},
      {"buckets", std::move(buckets)},
  };
}

Result<Histogram> Histogram::from_json(const boost::json::value& json) {
  const boost::json::object* object = json.if_object();
  if (object == nullptr) return invalid("expected an object");
  auto precision = read_field(*object, "precision_bits");
  if (!precision) return std::move(precision).error();
  if (*precision != static_cast<std::uint64_t>(kPrecisionBits)) {
    return invalid("precision_bits is " + std::to_string(*precision) + ", this build uses " +
                   std::to_string(kPrecisionBits));
  }
  auto count = read_field(*object, "count");
  auto min = read_field(*object, "min");
  auto max = read_field(*object, "max");
  auto sum = read_field(*object, "sum");
  for (const auto* field : {&count, &min, &max, &sum}) {
    if (!*field) return field->error();
  }
  const boost::json::value* buckets_value = object->if_contains("buckets");
  if (buckets_value == nullptr || !buckets_value->is_array()) {
    return invalid("\"buckets\" must be an array");
  }

  Histogram histogram;
  std::uint64_t total = 0;
  std::size_t next_index = 0;
  for (const auto& entry : buckets_value->get_array()) {
    const boost::json::array* pair = entry.if_array();
    if (pair == nullptr || pair->size() != 2) return invalid("each bucket must be [lowest, count]");
    auto lowest = read_u64((*pair)[0], "bucket lowest value");
    auto bucket_count = read_u64((*pair)[1], "bucket count");
    if (!lowest) return std::move(lowest).error();
    if (!bucket_count) return std::move(bucket_count).error();
    if (*lowest > kMaxValue) return invalid("bucket beyond the histogram's range");
    std::size_t index = bucket_index(*lowest);
    if (bucket_lowest(index) != *lowest) {
      return invalid("bucket " + std::to_string(*lowest) + " is not a bucket boundary");
    }
    if (index < next_index) return invalid("buckets out of order or repeated");
    if (*bucket_count == 0) return invalid("empty bucket listed");
    if (__builtin_add_overflow(total, *bucket_count, &total)) return invalid("counts overflow");
    if (index >= histogram.counts_.size()) histogram.counts_.resize(index + 1, 0);
    histogram.counts_[index] = *bucket_count;
    next_index = index + 1;
  }
  if (total != *count) return invalid("bucket counts do not add up to \"count\"");
  if (total == 0) {
    if (*min != 0 || *max != 0 || *sum != 0) return invalid("an empty histogram with values");
    return histogram;
  }
  std::size_t first = bucket_index(std::min(*min, kMaxValue));
  std::size_t last = used_size(histogram.counts_) - 1;
  if (*min > *max || *max > kMaxValue || first >= histogram.counts_.size() ||
      histogram.counts_[first] == 0 || bucket_index(*max) != last) {
    return invalid("\"min\"/\"max\" do not match the buckets");
  }
  for (std::size_t i = 0; i < first; ++i) {
    if (histogram.counts_[i] != 0) return invalid("\"min\" does not match the buckets");
  }
  // The sum cannot be checked exactly, but it must lie between count*min and count*max (or be
  // saturated).
  unsigned __int128 low = static_cast<unsigned __int128>(*min) * total;
  unsigned __int128 high = static_cast<unsigned __int128>(*max) * total;
  if (*sum != kSaturated && (*sum < low || *sum > high)) {
    return invalid("\"sum\" is impossible for these buckets");
  }
  histogram.count_ = total;
  histogram.min_ = *min;
  histogram.max_ = *max;
  histogram.sum_ = *sum;
  return histogram;
}

}  // namespace sluice::core
