#include "sluice/tokenizer/text_count_memo.hpp"

#include <cstring>
#include <functional>

namespace sluice::tokenizer {

TextCountMemo& TextCountMemo::for_this_thread() {
  thread_local TextCountMemo memo;
  return memo;
}

std::size_t TextCountMemo::count(const Encoding& encoding, std::string_view text) {
  if (text.size() < kMinTextBytes || text.size() > kMaxTextBytes) return encoding.count(text);
  if (!slots_) {
    slots_ = std::make_unique<Slot[]>(kSlots);
    first_is_older_ = std::make_unique<bool[]>(kSlots / 2);
  }
  const std::uint64_t hash = std::hash<std::string_view>{}(text);
  // The product's top six bits pick the set of two slots.
  static_assert(kSlots == 128, "64 sets: the product's top 6 bits");
  const std::size_t set = (hash * 0x9E3779B97F4A7C15ull) >> 58;
  Slot* pair = &slots_[2 * set];
  for (int i = 0; i < 2; ++i) {
    const Slot& slot = pair[i];
    if (slot.encoding == &encoding && slot.hash == hash && slot.text.size() == text.size() &&
        std::memcmp(slot.text.data(), text.data(), text.size()) == 0) {
      first_is_older_[set] = i == 1;
      ++hits_;
      return slot.count;
    }
  }
  const std::size_t count = encoding.count(text);
  const int victim = first_is_older_[set] ? 0 : 1;
  Slot& slot = pair[victim];
  // What the slots hold is counted by their strings' capacity, and a replaced text's room is given
  // back (a fresh string, not assign(), which would keep a 256 KiB buffer under a short text):
  // otherwise every slot could come to hold the largest text it ever had.
  const std::size_t kept_after = kept_bytes_ - held(slot) + text.size();
  if (kept_after <= kMaxKeptBytes) {
    kept_bytes_ -= held(slot);
    slot.text = std::string(text);
    kept_bytes_ += held(slot);
    slot.encoding = &encoding;
    slot.hash = hash;
    slot.count = count;
    first_is_older_[set] = victim == 1;
  }
  return count;
}

}  // namespace sluice::tokenizer
