#pragma once
// tiktoken's byte-pair merge: within one pre-tokenized piece, repeatedly merge the adjacent pair of
// parts whose concatenation has the lowest rank (the leftmost pair on ties) until no adjacent
// concatenation is a token.
//
// tiktoken rescans all parts after every merge, which is quadratic in the piece length; a 1 MiB run
// of one letter is a single piece. Short pieces (nearly all of them) use that same simple scan on
// the stack; long pieces go to the backtracking encoder (backtracking_bpe.hpp), which gives the
// same tokens in time linear in the piece length.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tokenizer/rank_table.hpp"

namespace sluice::tokenizer {

// Pieces up to this many bytes are merged with the scan; longer ones by backtracking. The scan
// makes two lookups per merge, like backtracking, plus an in-cache pass over the pairs, so it
// wins well past the longest pieces of real text (under 200 bytes in the benchmark corpus), and
// a process that never meets a longer piece never builds the backtracking tables. The bound
// keeps the scan's quadratic part to a constant per byte.
inline constexpr std::size_t kScanMergeMaxLen = 256;

namespace detail {
// Linear-time merge of a piece of any length (meant for those longer than kScanMergeMaxLen);
// appends the ranks to out.
void long_merge(const RankTable& ranks, const std::uint8_t* piece, std::size_t len,
                std::vector<Rank>& out);
// Like long_merge but only counts the tokens.
std::size_t long_merge_count(const RankTable& ranks, const std::uint8_t* piece, std::size_t len);
}  // namespace detail

// Calls emit(rank) for each token of the piece [piece, piece + len), len >= 1, in order.
// The piece must be absent from the table as a whole (callers check that first, as tiktoken does).
// Needs len <= kScanMergeMaxLen. Allocates nothing.
template <class Emit>
void scan_merge(const RankTable& ranks, const std::uint8_t* piece, std::size_t len, Emit&& emit) {
  // starts[i] is where part i begins and part[i] its rank; pair[i] is the rank of parts i and
  // i + 1 joined.
  std::uint32_t starts[kScanMergeMaxLen + 1];
  Rank part[kScanMergeMaxLen];
  Rank pair[kScanMergeMaxLen];
  std::size_t n = len;  // number of parts
  for (std::size_t i = 0; i < len; ++i) {
    starts[i] = static_cast<std::uint32_t>(i);
    part[i] = ranks.find(piece + i, 1);
  }
  starts[len] = static_cast<std::uint32_t>(len);
  for (std::size_t i = 0; i + 1 < n; ++i) pair[i] = ranks.find(piece + i, 2);
  pair[n - 1] = kNoRank;
  for (;;) {
    Rank best = kNoRank;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (pair[i] < best) {
        best = pair[i];
        at = i;
      }
    }
    if (best == kNoRank) break;
    // Part `at` absorbs part at + 1; then the pairs on both sides of it change.
    part[at] = best;
    for (std::size_t i = at + 1; i < n; ++i) starts[i] = starts[i + 1];
    for (std::size_t i = at + 1; i + 1 < n; ++i) {
      part[i] = part[i + 1];
      pair[i] = pair[i + 1];
    }
    --n;
    pair[at] = at + 1 < n ? ranks.find(piece + starts[at], starts[at + 2] - starts[at]) : kNoRank;
    if (at > 0) pair[at - 1] = ranks.find(piece + starts[at - 1], starts[at + 1] - starts[at - 1]);
  }
  for (std::size_t i = 0; i < n; ++i) emit(part[i]);
}

}  // namespace sluice::tokenizer
