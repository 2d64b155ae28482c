#include "gateway/policies/token_limit/sliding_window.hpp"

#include <algorithm>

namespace sluice::gateway::token_limit {

std::int64_t SlidingWindow::used(std::int64_t now_ms) const {
  const std::int64_t current = bucket_of(now_ms);
  if (current == sum_bucket_) return sum_;
  std::int64_t sum = 0;
  for (const auto& slot : slots_) {
    if (live(slot.bucket, current)) sum += slot.tokens;
  }
  sum_bucket_ = current;
  sum_ = sum;
  return sum;
}

void SlidingWindow::add(std::int64_t bucket, std::int64_t tokens, std::int64_t now_ms) {
  std::int64_t current = bucket_of(now_ms);
  if (bucket < current - kWindowBuckets || bucket > current) {
    if (tokens <= 0) return;  // nothing to refund in a bucket that has left the window
    bucket = current;
  }
  Slot& slot = slots_[slot_of(bucket)];
  const Slot before = slot;
  if (slot.bucket != bucket) {
    if (tokens <= 0) return;
    slot.bucket = bucket;
    slot.tokens = 0;
  }
  slot.tokens = std::max<std::int64_t>(0, slot.tokens + tokens);
  // Keep the running sum true: out with what the slot held, in with what it holds now, each as
  // far as it counts at the bucket the sum is for.
  if (live(before.bucket, sum_bucket_)) sum_ -= before.tokens;
  if (live(slot.bucket, sum_bucket_)) sum_ += slot.tokens;
}

std::int64_t SlidingWindow::wait_ms(std::int64_t now_ms, std::int64_t need,
                                    std::int64_t limit) const {
  if (need > limit) return -1;
  std::int64_t current = bucket_of(now_ms);
  std::array<Slot, kSlots> live{};
  std::size_t count = 0;
  std::int64_t sum = 0;
  for (const auto& slot : slots_) {
    if (slot.bucket >= current - kWindowBuckets && slot.bucket <= current && slot.tokens > 0) {
      live[count++] = slot;
      sum += slot.tokens;
    }
  }
  std::int64_t excess = sum + need - limit;
  if (excess <= 0) return 0;
  std::sort(live.begin(), live.begin() + static_cast<std::ptrdiff_t>(count),
            [](const Slot& a, const Slot& b) { return a.bucket < b.bucket; });
  std::int64_t freed = 0;
  for (std::size_t i = 0; i < count; ++i) {
    freed += live[i].tokens;
    if (freed >= excess)
      return std::max<std::int64_t>(0, bucket_expiry_ms(live[i].bucket) - now_ms);
  }
  return bucket_expiry_ms(current) - now_ms;  // unreachable while need <= limit
}

}  // namespace sluice::gateway::token_limit
