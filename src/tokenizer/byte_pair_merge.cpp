#include "tokenizer/byte_pair_merge.hpp"

#include <algorithm>
#include <functional>

namespace sluice::tokenizer::detail {
namespace {

// Reused per thread so that long pieces do not allocate once the buffers have grown.
struct HeapScratch {
  std::vector<std::uint32_t> next;  // next[i]: where the part after the one starting at i begins
  std::vector<std::uint32_t> prev;
  std::vector<Rank> part;           // rank of the part starting at i
  std::vector<Rank> pair;           // rank of the part at i joined with its successor
  std::vector<std::uint64_t> heap;  // (rank << 32 | start), smallest first
};
thread_local HeapScratch t_scratch;

template <class Emit>
void heap_merge_impl(const RankTable& ranks, const std::uint8_t* piece, std::size_t len,
                     Emit&& emit) {
  HeapScratch& s = t_scratch;
  const auto n = static_cast<std::uint32_t>(len);
  s.next.resize(n);
  s.prev.resize(n);
  s.part.resize(n);
  s.pair.resize(n);
  s.heap.clear();
  const std::greater<std::uint64_t> min_first;
  const auto push = [&](Rank rank, std::uint32_t at) {
    s.heap.push_back((std::uint64_t{rank} << 32) | at);
    std::push_heap(s.heap.begin(), s.heap.end(), min_first);
  };
  // Rank of the part at i joined with the part after it.
  const auto join_rank = [&](std::uint32_t i) -> Rank {
    const std::uint32_t j = s.next[i];
    if (j >= n) return kNoRank;
    const std::uint32_t k = s.next[j];
    return ranks.find(piece + i, k - i);
  };

  for (std::uint32_t i = 0; i < n; ++i) {
    s.next[i] = i + 1;
    s.prev[i] = i - 1;
    s.part[i] = ranks.find(piece + i, 1);
    s.pair[i] = i + 1 < n ? ranks.find(piece + i, 2) : kNoRank;
    if (s.pair[i] != kNoRank) s.heap.push_back((std::uint64_t{s.pair[i]} << 32) | i);
  }
  std::make_heap(s.heap.begin(), s.heap.end(), min_first);

  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), min_first);
    const std::uint64_t top = s.heap.back();
    s.heap.pop_back();
    const auto rank = static_cast<Rank>(top >> 32);
    const auto i = static_cast<std::uint32_t>(top);
    // A rank names one byte string, so an entry is current exactly when the pair at i still
    // has that rank; merged-away parts have kNoRank.
    if (s.pair[i] != rank) continue;
    const std::uint32_t j = s.next[i];
    const std::uint32_t k = s.next[j];
    s.next[i] = k;
    s.part[i] = rank;
    if (k < n) s.prev[k] = i;
    s.pair[j] = kNoRank;
    s.pair[i] = join_rank(i);
    if (s.pair[i] != kNoRank) push(s.pair[i], i);
    if (i > 0) {
      const std::uint32_t h = s.prev[i];
      s.pair[h] = join_rank(h);
      if (s.pair[h] != kNoRank) push(s.pair[h], h);
    }
  }
  for (std::uint32_t i = 0; i < n; i = s.next[i]) emit(s.part[i]);
}

}  // namespace

void heap_merge(const RankTable& ranks, const std::uint8_t* piece, std::size_t len,
                std::vector<Rank>& out) {
  heap_merge_impl(ranks, piece, len, [&](Rank r) { out.push_back(r); });
}

std::size_t heap_merge_count(const RankTable& ranks, const std::uint8_t* piece, std::size_t len) {
  std::size_t count = 0;
  heap_merge_impl(ranks, piece, len, [&](Rank) { ++count; });
  return count;
}

}  // namespace sluice::tokenizer::detail
