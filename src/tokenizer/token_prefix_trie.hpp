#pragma once
// A trie over the bytes of every token of a rank table, answering one question fast: which is the
// longest token that the text at p starts with? The backtracking encoder asks it once per token it
// places, so a long piece costs one short walk per output token.
//
// The first two levels are plain arrays (every byte is a token, and most two-byte strings that
// begin a token are found in one load); deeper edges live in one open-addressing table keyed by
// (node, byte). Built once per rank table, read-only after.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tokenizer/rank_table.hpp"

namespace sluice::tokenizer {

class TokenPrefixTrie {
 public:
  explicit TokenPrefixTrie(const RankTable& ranks);

  // The longest token that [p, end) starts with. Needs p < end; always finds one, because every
  // single byte is a token. Thread-safe (read-only).
  Rank longest_prefix(const std::uint8_t* p, const std::uint8_t* end) const noexcept {
    Rank best = byte_rank_[p[0]];
    if (end - p < 2) return best;
    std::uint32_t node = second_level_[(p[0] << 8) | p[1]];
    if (node == kNoNode) return best;
    for (const std::uint8_t* q = p + 2;; ++q) {
      if (node_rank_[node] != kNoRank) best = node_rank_[node];
      if (q == end) return best;
      node = child(node, *q);
      if (node == kNoNode) return best;
    }
  }

  std::size_t node_count() const noexcept { return node_rank_.size(); }

 private:
  static constexpr std::uint32_t kNoNode = 0xFFFFFFFFu;
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};

  // An edge is packed as (node << 8 | byte) << 32 | child.
  static std::uint64_t edge_key(std::uint32_t node, std::uint8_t byte) noexcept {
    return (std::uint64_t{node} << 8) | byte;
  }
  std::size_t slot_of(std::uint64_t key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  std::uint32_t child(std::uint32_t node, std::uint8_t byte) const noexcept {
    const std::uint64_t key = edge_key(node, byte);
    for (std::size_t i = slot_of(key);; i = (i + 1) & mask_) {
      const std::uint64_t e = edges_[i];
      if (e == kEmpty) return kNoNode;
      if ((e >> 32) == key) return static_cast<std::uint32_t>(e);
    }
  }
  std::uint32_t add_child(std::uint32_t node, std::uint8_t byte);

  Rank byte_rank_[256];
  std::vector<std::uint32_t> second_level_;  // 65536 nodes by (first byte << 8 | second byte)
  std::vector<Rank> node_rank_;              // the token ending at each node, or kNoRank
  std::vector<std::uint64_t> edges_;         // deeper edges
  std::size_t mask_ = 0;
  int shift_ = 64;
};

}  // namespace sluice::tokenizer
