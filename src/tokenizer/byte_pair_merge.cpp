#include "tokenizer/byte_pair_merge.hpp"

#include <bit>

namespace sluice::tokenizer::detail {
namespace {

// Pieces up to this size keep their buffers per thread between calls; longer ones (megabytes of
// one repeated character) allocate and free them, so a thread does not hold onto that memory.
constexpr std::size_t kKeepScratchMaxLen = 1 << 16;

// Key of a pair in the tree: lower rank first, then the leftmost start, as tiktoken chooses.
constexpr std::uint64_t kNoPair = ~std::uint64_t{0};
inline std::uint64_t pair_key(Rank rank, std::uint32_t start) {
  return rank == kNoRank ? kNoPair : (std::uint64_t{rank} << 32) | start;
}

struct MergeScratch {
  std::vector<std::uint32_t> next;  // next[i]: where the part after the one starting at i begins
  std::vector<std::uint32_t> prev;
  std::vector<Rank> part;  // rank of the part starting at i
  // A min segment tree over pair keys: leaves at [size, 2 * size), the root at 1. Unlike a heap
  // it holds exactly one entry per position, and updates touch neighbouring memory, because
  // merges in a long run happen next to each other.
  std::vector<std::uint64_t> tree;
};
thread_local MergeScratch t_scratch;

template <class Emit>
void merge_with_tree(MergeScratch& s, const RankTable& ranks, const std::uint8_t* piece,
                     std::size_t len, Emit&& emit) {
  const auto n = static_cast<std::uint32_t>(len);
  const std::size_t size = std::bit_ceil(len);
  s.next.resize(n);
  s.prev.resize(n);
  s.part.resize(n);
  s.tree.assign(2 * size, kNoPair);
  for (std::uint32_t i = 0; i < n; ++i) {
    s.next[i] = i + 1;
    s.prev[i] = i - 1;
    s.part[i] = ranks.find(piece + i, 1);
    if (i + 1 < n) s.tree[size + i] = pair_key(ranks.find(piece + i, 2), i);
  }
  for (std::size_t k = size - 1; k >= 1; --k)
    s.tree[k] = std::min(s.tree[2 * k], s.tree[2 * k + 1]);

  const auto update = [&](std::uint32_t i, std::uint64_t key) {
    std::size_t k = size + i;
    s.tree[k] = key;
    for (k >>= 1; k >= 1; k >>= 1) {
      const std::uint64_t m = std::min(s.tree[2 * k], s.tree[2 * k + 1]);
      if (s.tree[k] == m) break;  // nothing above changes either
      s.tree[k] = m;
    }
  };
  // Key of the part at i joined with the part after it.
  const auto join_key = [&](std::uint32_t i) {
    const std::uint32_t j = s.next[i];
    if (j >= n) return kNoPair;
    return pair_key(ranks.find(piece + i, s.next[j] - i), i);
  };

  while (s.tree[1] != kNoPair) {
    const std::uint64_t top = s.tree[1];
    const auto i = static_cast<std::uint32_t>(top);
    // Part i absorbs part j; the pairs starting at i and at its predecessor change.
    const std::uint32_t j = s.next[i];
    const std::uint32_t k = s.next[j];
    s.part[i] = static_cast<Rank>(top >> 32);
    s.next[i] = k;
    if (k < n) s.prev[k] = i;
    update(j, kNoPair);
    update(i, join_key(i));
    if (i > 0) update(s.prev[i], join_key(s.prev[i]));
  }
  for (std::uint32_t i = 0; i < n; i = s.next[i]) emit(s.part[i]);
}

template <class Emit>
void merge_long_piece(const RankTable& ranks, const std::uint8_t* piece, std::size_t len,
                      Emit&& emit) {
  if (len <= kKeepScratchMaxLen) {
    merge_with_tree(t_scratch, ranks, piece, len, emit);
  } else {
    MergeScratch scratch;
    merge_with_tree(scratch, ranks, piece, len, emit);
  }
}

}  // namespace

void long_merge(const RankTable& ranks, const std::uint8_t* piece, std::size_t len,
                std::vector<Rank>& out) {
  merge_long_piece(ranks, piece, len, [&](Rank r) { out.push_back(r); });
}

std::size_t long_merge_count(const RankTable& ranks, const std::uint8_t* piece, std::size_t len) {
  std::size_t count = 0;
  merge_long_piece(ranks, piece, len, [&](Rank) { ++count; });
  return count;
}

}  // namespace sluice::tokenizer::detail
