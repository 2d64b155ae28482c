#pragma once
// Linear-time byte-pair encoding with tiktoken's exact output, for pieces too long for the scan.
//
// The algorithm is the backtracking encoder of GitHub's `bpe` crate (rust-gems, "So many tokens,
// so little time"). It rests on one property of byte-pair encoding: a sequence of tokens is the
// encoding of its bytes exactly when every adjacent pair of tokens is "compatible", i.e. when
// merging the bytes of the two tokens alone ends in those same two tokens. So the encoder walks
// left to right, places the longest token that starts at the current position, and checks it
// against the token before it; if the pair is not compatible it tries the next shorter token that
// is a prefix there, and if none is left it takes the previous token back. A bit per position
// records positions from which no encoding can continue; each bit is cleared at most once, so the
// number of steps is linear in the piece length (times the longest token's length, a constant of
// the vocabulary), whatever the input.
//
// Compatibility is decided from the vocabulary's merge tree, reverse-engineered once from the
// ranks: for each token, the pair of lower-ranked tokens whose merge makes it. Every token of
// cl100k_base and o200k_base encodes to itself under this scheme; the unit tests check that, and
// check the output against a transcription of tiktoken's merge.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tokenizer/rank_table.hpp"
#include "tokenizer/token_prefix_trie.hpp"

namespace sluice::tokenizer {

class BacktrackingBpe {
 public:
  // Builds the trie and the merge tree (tens of milliseconds). Startup only.
  explicit BacktrackingBpe(const RankTable& ranks);

  // Appends the tokens of the piece [piece, piece + len) to out, in order. len >= 1. Gives what
  // tiktoken's merge gives for the piece; like that merge it does not look the whole piece up
  // first (callers do). Thread-safe; uses the calling thread's scratch memory.
  void encode(const std::uint8_t* piece, std::size_t len, std::vector<Rank>& out) const;
  // The number of tokens encode would append.
  std::size_t count(const std::uint8_t* piece, std::size_t len) const;

  // Whether the adjacent tokens (left, right) are what merging their bytes alone ends in.
  // Needs: both are ranks of the table.
  bool is_compatible(Rank left, Rank right) const noexcept;

  // Encoder steps (token placements and take-backs) taken by this thread so far. Counts work
  // without timing it, so tests can check that the work grows linearly with the input.
  static std::uint64_t thread_steps() noexcept;

 private:
  struct Split {
    Rank left;
    Rank right;  // left == right == the token itself for single bytes and unmergeable tokens
  };

  // Runs the encoder over the piece; the tokens end up in `tokens`.
  void run(const std::uint8_t* piece, std::size_t len, std::vector<Rank>& tokens,
           std::vector<std::uint64_t>& reachable) const;
  // The token that the pair (left, right) merges into, if that merge is in the tree; else kNoRank.
  Rank merged(Rank left, Rank right) const noexcept;
  void add_merge(Rank left, Rank right, Rank token);

  const RankTable& ranks_;
  TokenPrefixTrie trie_;
  std::vector<Rank> next_prefix_;  // the longest token that is a proper prefix of each token
  std::vector<Split> splits_;      // by token
  // (left << 32 | right) -> token, open addressing; an empty slot has key kNoPair.
  struct MergeSlot {
    std::uint64_t pair;
    Rank token;
  };
  std::vector<MergeSlot> merges_;
  std::size_t merge_mask_ = 0;
  int merge_shift_ = 64;
};

}  // namespace sluice::tokenizer
