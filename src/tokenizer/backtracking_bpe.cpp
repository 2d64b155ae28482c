#include "tokenizer/backtracking_bpe.hpp"

#include <bit>

namespace sluice::tokenizer {
namespace {

constexpr std::uint64_t kNoPair = ~std::uint64_t{0};

// Pieces up to this size keep their buffers per thread between calls; longer ones (megabytes of
// one repeated character) allocate and free them, so a thread does not hold onto that memory.
constexpr std::size_t kKeepScratchMaxLen = 1 << 16;

struct Scratch {
  std::vector<Rank> tokens;
  std::vector<std::uint64_t> reachable;  // one bit per position of the piece, and its end
};
thread_local Scratch t_scratch;
thread_local std::uint64_t t_steps = 0;

std::uint64_t pair_of(Rank left, Rank right) noexcept {
  return (std::uint64_t{left} << 32) | right;
}

}  // namespace

BacktrackingBpe::BacktrackingBpe(const RankTable& ranks) : ranks_(ranks), trie_(ranks) {
  const std::size_t n = ranks.size();
  const std::size_t capacity = std::bit_ceil(n * 2);
  merges_.assign(capacity, MergeSlot{kNoPair, kNoRank});
  merge_mask_ = capacity - 1;
  merge_shift_ = 64 - std::countr_zero(capacity);

  next_prefix_.resize(n);
  for (Rank r = 0; r < n; ++r) {
    const std::string_view bytes = ranks.bytes(r);
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
    next_prefix_[r] = bytes.size() == 1 ? kNoRank : trie_.longest_prefix(p, p + bytes.size() - 1);
  }
  // The merge that makes each token: the longest prefix token whose rest is a token, both ranked
  // lower, and compatible with each other under the merges found so far (ranks are merge order,
  // so every lower token's split is known by then).
  splits_.reserve(n);
  for (Rank r = 0; r < n; ++r) {
    const std::string_view bytes = ranks.bytes(r);
    Rank left = next_prefix_[r];
    for (; left != kNoRank; left = next_prefix_[left]) {
      const std::string_view rest = bytes.substr(ranks.token_len(left));
      const Rank right = ranks.find(rest);
      if (right != kNoRank && left < r && right < r && is_compatible(left, right)) {
        add_merge(left, right, r);
        splits_.push_back({left, right});
        break;
      }
    }
    if (left == kNoRank) splits_.push_back({r, r});
  }
}

Rank BacktrackingBpe::merged(Rank left, Rank right) const noexcept {
  const std::uint64_t key = pair_of(left, right);
  for (std::size_t i = (key * 0x9E3779B97F4A7C15ull) >> merge_shift_;; i = (i + 1) & merge_mask_) {
    const MergeSlot& slot = merges_[i];
    if (slot.pair == key) return slot.token;
    if (slot.pair == kNoPair) return kNoRank;
  }
}

void BacktrackingBpe::add_merge(Rank left, Rank right, Rank token) {
  const std::uint64_t key = pair_of(left, right);
  std::size_t i = (key * 0x9E3779B97F4A7C15ull) >> merge_shift_;
  while (merges_[i].pair != kNoPair) i = (i + 1) & merge_mask_;
  merges_[i] = MergeSlot{key, token};
}

// Undoes the merges on both sides of the boundary between left and right, highest rank first,
// as byte-pair encoding would have made them in the opposite order. If at some point the tokens
// touching the boundary merge into a token ranked below everything undone so far, the encoder
// would have made that merge across the boundary instead, so the pair is not what it produces.
bool BacktrackingBpe::is_compatible(Rank left, Rank right) const noexcept {
  Rank limit = kNoRank;  // every token across the boundary must rank at least this
  for (;;) {
    const Rank across = merged(left, right);
    if (across != kNoRank && across < limit) return false;
    if (left > right) {
      limit = left;
      left = splits_[left].right;
      if (left == limit) {  // left is a single byte or unmergeable: undo on the right
        limit = right + 1;
        right = splits_[right].left;
        if (right + 1 == limit) return true;
      }
    } else {
      limit = right + 1;
      right = splits_[right].left;
      if (right + 1 == limit) {
        limit = left;
        left = splits_[left].right;
        if (left == limit) return true;
      }
    }
  }
}

void BacktrackingBpe::run(const std::uint8_t* piece, std::size_t len, std::vector<Rank>& tokens,
                          std::vector<std::uint64_t>& reachable) const {
  tokens.clear();
  reachable.assign(len / 64 + 1, ~std::uint64_t{0});
  const auto can_continue_from = [&](std::size_t pos) {
    return (reachable[pos >> 6] >> (pos & 63)) & 1;
  };
  const std::uint8_t* const end = piece + len;
  std::size_t pos = 0;
  Rank next = trie_.longest_prefix(piece, end);
  std::uint64_t steps = 0;
  while (next != kNoRank) {
    ++steps;
    const Rank last = tokens.empty() ? kNoRank : tokens.back();
    Rank token = next;
    for (;;) {
      const std::size_t stop = pos + ranks_.token_len(token);
      if (can_continue_from(stop) && (last == kNoRank || is_compatible(last, token))) {
        tokens.push_back(token);
        pos = stop;
        next = stop < len ? trie_.longest_prefix(piece + stop, end) : kNoRank;
        break;
      }
      token = next_prefix_[token];
      if (token == kNoRank) {
        // No token starting here fits after `last`: nothing continues from this position, and
        // `last` must give way to a shorter token. (With last == kNoRank, at the start, the
        // single byte always fits, since the encoding of the piece exists.)
        reachable[pos >> 6] &= ~(std::uint64_t{1} << (pos & 63));
        tokens.pop_back();
        pos -= ranks_.token_len(last);
        next = last;
        break;
      }
    }
  }
  t_steps += steps;
}

void BacktrackingBpe::encode(const std::uint8_t* piece, std::size_t len,
                             std::vector<Rank>& out) const {
  if (len <= kKeepScratchMaxLen) {
    run(piece, len, t_scratch.tokens, t_scratch.reachable);
    out.insert(out.end(), t_scratch.tokens.begin(), t_scratch.tokens.end());
  } else {
    Scratch scratch;
    run(piece, len, scratch.tokens, scratch.reachable);
    out.insert(out.end(), scratch.tokens.begin(), scratch.tokens.end());
  }
}

std::size_t BacktrackingBpe::count(const std::uint8_t* piece, std::size_t len) const {
  if (len <= kKeepScratchMaxLen) {
    run(piece, len, t_scratch.tokens, t_scratch.reachable);
    return t_scratch.tokens.size();
  }
  Scratch scratch;
  run(piece, len, scratch.tokens, scratch.reachable);
  return scratch.tokens.size();
}

std::uint64_t BacktrackingBpe::thread_steps() noexcept {
  return t_steps;
}

}  // namespace sluice::tokenizer
