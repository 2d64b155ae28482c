#pragma once
// The per-minute window: a sliding window of one-second buckets, counted conservatively.
//
// A reservation is charged to the bucket of the second it was admitted in. At time t (bucket
// c = floor(t / 1 s)) the window holds buckets c-60 .. c: every bucket that overlaps the last
// 60 seconds, including the one partly older than that. A bucket therefore counts for 60 to 61
// seconds, never less than 60, so the tokens admitted in ANY 60-second interval never exceed the
// limit (a token bucket or a two-bucket weighted estimate lets up to twice the limit through
// across an edge). The price is that freed capacity returns up to one second late.
//
// The Redis store runs the same arithmetic in Lua (redis_scripts.cpp); both are checked by the
// same tests.
#include <array>
#include <cstdint>
#include <limits>

namespace sluice::gateway::token_limit {

inline constexpr std::int64_t kBucketMs = 1000;
inline constexpr std::int64_t kWindowBuckets = 60;  // buckets older than current-60 are dropped

// floor(ms / kBucketMs), also for negative times.
constexpr std::int64_t bucket_of(std::int64_t ms) {
  return ms >= 0 ? ms / kBucketMs : -((-ms + kBucketMs - 1) / kBucketMs);
}

// When bucket `bucket` stops counting: the start of bucket + kWindowBuckets + 1.
constexpr std::int64_t bucket_expiry_ms(std::int64_t bucket) {
  return (bucket + kWindowBuckets + 1) * kBucketMs;
}

// Not thread-safe: the local store guards each window with its shard's mutex.
class SlidingWindow {
 public:
  // Tokens charged to the live buckets at `now_ms`. Summed over the slots once per bucket (second)
  // and kept up to date by add() in between: a request asks on every reservation, and the scan of
  // 64 slots was ~530 instructions of it.
  std::int64_t used(std::int64_t now_ms) const;
  // Adds `tokens` (may be negative) to `bucket` if it is still live at `now_ms`; a bucket that has
  // left the window takes no refund, and a positive amount for it is charged to the current bucket
  // instead. Buckets never go below zero.
  void add(std::int64_t bucket, std::int64_t tokens, std::int64_t now_ms);
  // Milliseconds from `now_ms` until `need` more tokens fit under `limit` as old buckets leave the
  // window (0 when they fit now); -1 when they never can (need > limit).
  std::int64_t wait_ms(std::int64_t now_ms, std::int64_t need, std::int64_t limit) const;
  // True when no live bucket holds tokens (the counter can be forgotten).
  bool empty(std::int64_t now_ms) const { return used(now_ms) == 0; }

 private:
  struct Slot {
    std::int64_t bucket = std::numeric_limits<std::int64_t>::min();
    std::int64_t tokens = 0;
  };
  // 64 > 61 live buckets: a slot is only reused for a bucket that is already out of the window.
  static constexpr std::size_t kSlots = 64;
  static std::size_t slot_of(std::int64_t bucket) {
    return static_cast<std::size_t>(static_cast<std::uint64_t>(bucket) % kSlots);
  }
  static constexpr std::int64_t kNoBucket = std::numeric_limits<std::int64_t>::min();
  // Is `bucket` live when the current bucket is `current`?
  static bool live(std::int64_t bucket, std::int64_t current) {
    return current != kNoBucket && bucket >= current - kWindowBuckets && bucket <= current;
  }
  std::array<Slot, kSlots> slots_{};
  // The sum of the slots live at bucket `sum_bucket_` (kNoBucket: not worked out yet).
  mutable std::int64_t sum_bucket_ = kNoBucket;
  mutable std::int64_t sum_ = 0;
};

}  // namespace sluice::gateway::token_limit
