// The two merge strategies (stack scan for short pieces, segment tree for long ones) against a
// plain transcription of tiktoken's _byte_pair_merge: same tokens, in the same order.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tokenizer/byte_pair_merge.hpp"
#include "tokenizer/embedded_rank_files.hpp"
#include "tokenizer/rank_table.hpp"

namespace sluice::tokenizer {
namespace {

const RankTable& cl100k() {
  static const RankTable table =
      RankTable::parse_tiktoken(embedded::cl100k_base_tiktoken(), "cl100k_base");
  return table;
}

// tiktoken src/lib.rs _byte_pair_merge, written for clarity: parts hold (start, rank of the pair
// starting there); merge the lowest rank, leftmost on ties, until none is left.
std::vector<Rank> reference_merge(const RankTable& ranks, const std::string& piece) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(piece.data());
  std::vector<std::pair<std::size_t, Rank>> parts;
  for (std::size_t i = 0; i + 1 < piece.size(); ++i) parts.emplace_back(i, ranks.find(p + i, 2));
  parts.emplace_back(piece.size() - 1, kNoRank);
  parts.emplace_back(piece.size(), kNoRank);
  const auto get_rank = [&](std::size_t i) {
    return i + 3 < parts.size()
               ? ranks.find(p + parts[i].first, parts[i + 3].first - parts[i].first)
               : kNoRank;
  };
  for (;;) {
    Rank best = kNoRank;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      if (parts[i].second < best) {
        best = parts[i].second;
        at = i;
      }
    }
    if (best == kNoRank) break;
    if (at > 0) parts[at - 1].second = get_rank(at - 1);
    parts[at].second = get_rank(at);
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  std::vector<Rank> out;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    out.push_back(ranks.find(p + parts[i].first, parts[i + 1].first - parts[i].first));
  }
  return out;
}

std::vector<Rank> scan(const RankTable& ranks, const std::string& piece) {
  std::vector<Rank> out;
  scan_merge(ranks, reinterpret_cast<const std::uint8_t*>(piece.data()), piece.size(),
             [&](Rank r) { out.push_back(r); });
  return out;
}

std::vector<Rank> tree(const RankTable& ranks, const std::string& piece) {
  std::vector<Rank> out;
  detail::long_merge(ranks, reinterpret_cast<const std::uint8_t*>(piece.data()), piece.size(), out);
  EXPECT_EQ(detail::long_merge_count(ranks, reinterpret_cast<const std::uint8_t*>(piece.data()),
                                     piece.size()),
            out.size());
  return out;
}

// Few distinct symbols make many equal-rank pairs, which is where tie-breaking shows.
std::string random_piece(std::mt19937& rng, std::size_t len) {
  static const std::vector<std::string> kSymbols = {
      "a", "b", "e", "r", "s", " ", "aa", "ab", "ing", "\xe6\x97\xa5", "\xff"};
  std::uniform_int_distribution<std::size_t> pick(0, kSymbols.size() - 1);
  std::string s;
  while (s.size() < len) s += kSymbols[pick(rng)];
  s.resize(len);
  return s;
}

TEST(BytePairMerge, ScanAndTreeMatchTiktokenOnShortPieces) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const std::string piece = random_piece(rng, 2 + i % (kScanMergeMaxLen - 1));
    const auto expected = reference_merge(cl100k(), piece);
    ASSERT_EQ(scan(cl100k(), piece), expected) << piece;
    ASSERT_EQ(tree(cl100k(), piece), expected) << piece;
  }
}

TEST(BytePairMerge, TreeMatchesTiktokenOnLongPieces) {
  std::mt19937 rng(8);
  for (int i = 0; i < 300; ++i) {
    const std::string piece = random_piece(rng, kScanMergeMaxLen + 1 + (i * 37) % 900);
    ASSERT_EQ(tree(cl100k(), piece), reference_merge(cl100k(), piece)) << piece;
  }
  for (const std::string piece :
       {std::string(1000, 'a'), std::string(777, ' '), std::string(300, '\xff')}) {
    EXPECT_EQ(tree(cl100k(), piece), reference_merge(cl100k(), piece));
  }
}

TEST(BytePairMerge, SingleByteAndUnmergeablePieces) {
  EXPECT_EQ(scan(cl100k(), "\xff"), std::vector<Rank>{cl100k().find("\xff")});
  const std::string bytes = "\xff\xfe\xfd";
  EXPECT_EQ(scan(cl100k(), bytes), reference_merge(cl100k(), bytes));
  EXPECT_EQ(scan(cl100k(), bytes).size(), 3u);
}

TEST(RankTable, FindsEveryTokenAndRejectsOthers) {
  const RankTable& t = cl100k();
  ASSERT_EQ(t.size(), 100256u);
  EXPECT_EQ(t.max_token_len(), 128u);
  for (Rank r = 0; r < t.size(); ++r) ASSERT_EQ(t.find(t.bytes(r)), r);
  EXPECT_EQ(t.find(std::string_view()), kNoRank);
  EXPECT_EQ(t.find("xqzjv"), kNoRank);
  EXPECT_EQ(t.find(std::string(129, ' ')), kNoRank);
}

TEST(RankTable, RejectsMalformedFiles) {
  EXPECT_THROW(RankTable::parse_tiktoken("YQ== 1\n", "t"), std::runtime_error);  // not from 0
  EXPECT_THROW(RankTable::parse_tiktoken("Y!== 0\n", "t"), std::runtime_error);  // bad base64
  EXPECT_THROW(RankTable::parse_tiktoken("YQ==\n", "t"), std::runtime_error);    // no rank
  EXPECT_THROW(RankTable::parse_tiktoken("YQ== 0\n", "t"), std::runtime_error);  // < 256 tokens
}

}  // namespace
}  // namespace sluice::tokenizer
