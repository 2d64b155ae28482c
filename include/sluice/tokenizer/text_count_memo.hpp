#pragma once
// The token counts of whole texts a thread counted lately, so that a text which comes again is not
// counted again. A chat request's system prompt, few-shot examples and tool descriptions repeat on
// every request of an app (a load test's prompt on every request of the test), and the gateway's
// token limit, the simulator and the load generator each count every request's prompt: BPE costs
// ~200 instructions a token, so a 2,000-token system prompt is ~400,000 instructions a request. A
// text seen before costs one hash of its bytes and one comparison with the copy kept here.
//
// Exact: a count is reused only for the same encoding and the same bytes (the copy is compared, a
// hash alone is not trusted), so no count differs from Encoding::count(). Two slots a hash (a
// system prompt and the user's message cannot take each other's place); a new text replaces the
// one of the two used less recently. Texts shorter than kMinTextBytes are counted directly: a role
// or a name is a token or two, cheaper to count than to look up. Bounded: 128 slots, texts up to
// kMaxTextBytes, at most kMaxKeptBytes of kept text a thread (a text that would pass that is
// counted and not kept). Allocated on a thread's first use, so threads that never count
// prompts pay nothing. Encodings are the registry's, alive for the process, so one is known by its
// address (as the merge cache knows a rank table).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/tokenizer/encoding.hpp"

namespace sluice::tokenizer {

class TextCountMemo {
 public:
  static constexpr std::size_t kSlots = 128;  // 64 sets of two
  static constexpr std::size_t kMinTextBytes = 16;
  static constexpr std::size_t kMaxTextBytes = 256 * 1024;
  static constexpr std::size_t kMaxKeptBytes = 2 * 1024 * 1024;

  // The calling thread's memo.
  static TextCountMemo& for_this_thread();

  // encoding.count(text), from the memo when this thread counted the same text lately.
  std::size_t count(const Encoding& encoding, std::string_view text);

  // For tests: counts served from the memo, and the bytes its kept texts hold (their strings'
  // capacity).
  std::uint64_t hits() const noexcept { return hits_; }
  std::size_t kept_bytes() const noexcept { return kept_bytes_; }

 private:
  struct Slot {
    const Encoding* encoding = nullptr;  // nullptr: empty
    std::uint64_t hash = 0;
    std::size_t count = 0;
    std::string text;
  };
  // What a slot's text holds, as counted in kept_bytes_: its string's capacity (0 while empty).
  static std::size_t held(const Slot& slot) noexcept {
    return slot.text.empty() ? 0 : slot.text.capacity();
  }

  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<bool[]> first_is_older_;  // per set: which of its two slots to replace next
  std::size_t kept_bytes_ = 0;
  std::uint64_t hits_ = 0;
};

}  // namespace sluice::tokenizer
