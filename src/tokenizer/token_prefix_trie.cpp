#include "tokenizer/token_prefix_trie.hpp"

#include <bit>

namespace sluice::tokenizer {

TokenPrefixTrie::TokenPrefixTrie(const RankTable& ranks) {
  for (int b = 0; b < 256; ++b) {
    const auto byte = static_cast<std::uint8_t>(b);
    byte_rank_[b] = ranks.find(&byte, 1);
  }
  // Nodes below the second level: at most one per token byte past the second. Half-full at
  // most, so the misses that end each walk stay short.
  std::size_t deep_bytes = 0;
  for (Rank r = 0; r < ranks.size(); ++r) {
    const std::size_t len = ranks.token_len(r);
    if (len > 2) deep_bytes += len - 2;
  }
  const std::size_t capacity = std::bit_ceil(deep_bytes * 2 + 2);
  edges_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
  second_level_.assign(65536, kNoNode);

  for (Rank r = 0; r < ranks.size(); ++r) {
    const std::string_view token = ranks.bytes(r);
    if (token.size() < 2) continue;
    const auto* p = reinterpret_cast<const std::uint8_t*>(token.data());
    std::uint32_t& second = second_level_[(p[0] << 8) | p[1]];
    if (second == kNoNode) {
      second = static_cast<std::uint32_t>(node_rank_.size());
      node_rank_.push_back(kNoRank);
    }
    std::uint32_t node = second;
    for (std::size_t i = 2; i < token.size(); ++i) node = add_child(node, p[i]);
    node_rank_[node] = r;
  }
}

std::uint32_t TokenPrefixTrie::add_child(std::uint32_t node, std::uint8_t byte) {
  const std::uint64_t key = edge_key(node, byte);
  std::size_t i = slot_of(key);
  for (; edges_[i] != kEmpty; i = (i + 1) & mask_) {
    if ((edges_[i] >> 32) == key) return static_cast<std::uint32_t>(edges_[i]);
  }
  const auto created = static_cast<std::uint32_t>(node_rank_.size());
  node_rank_.push_back(kNoRank);
  edges_[i] = (key << 32) | created;
  return created;
}

}  // namespace sluice::tokenizer
