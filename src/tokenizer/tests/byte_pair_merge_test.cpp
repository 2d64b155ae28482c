// The two merge strategies (stack scan for short pieces, backtracking for long ones) against a
// plain transcription of tiktoken's _byte_pair_merge: same tokens, in the same order.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tokenizer/backtracking_bpe.hpp"
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
const RankTable& o200k() {
  static const RankTable table =
      RankTable::parse_tiktoken(embedded::o200k_base_tiktoken(), "o200k_base");
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

std::vector<Rank> backtrack(const RankTable& ranks, const std::string& piece) {
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

// Bytes drawn from a small alphabet of one kind: letters, digits, or all 256 byte values.
std::string random_bytes(std::mt19937& rng, std::size_t len, std::string_view alphabet) {
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.empty() ? 255 : alphabet.size() - 1);
  std::string s(len, '\0');
  for (char& c : s) c = alphabet.empty() ? static_cast<char>(pick(rng)) : alphabet[pick(rng)];
  return s;
}

TEST(BytePairMerge, ScanAndBacktrackingMatchTiktokenOnShortPieces) {
  std::mt19937 rng(7);
  for (const RankTable* ranks : {&cl100k(), &o200k()}) {
    for (int i = 0; i < 20000; ++i) {
      const std::string piece = random_piece(rng, 2 + i % 63);
      const auto expected = reference_merge(*ranks, piece);
      ASSERT_EQ(scan(*ranks, piece), expected) << piece;
      ASSERT_EQ(backtrack(*ranks, piece), expected) << piece;
    }
    for (int i = 0; i < 400; ++i) {  // the longest the scan takes
      const std::string piece = random_piece(rng, 65 + i % (kScanMergeMaxLen - 64));
      const auto expected = reference_merge(*ranks, piece);
      ASSERT_EQ(scan(*ranks, piece), expected) << piece;
      ASSERT_EQ(backtrack(*ranks, piece), expected) << piece;
    }
  }
}

TEST(BytePairMerge, BacktrackingMatchesTiktokenOnLongPieces) {
  std::mt19937 rng(8);
  for (const RankTable* ranks : {&cl100k(), &o200k()}) {
    for (int i = 0; i < 300; ++i) {
      const std::string piece = random_piece(rng, kScanMergeMaxLen + 1 + (i * 37) % 900);
      ASSERT_EQ(backtrack(*ranks, piece), reference_merge(*ranks, piece)) << piece;
    }
    for (const std::string_view alphabet :
         {std::string_view("ab"), std::string_view("aab "), std::string_view("0123456789"),
          std::string_view("etaoin shrdlu"), std::string_view("=-_*#"), std::string_view()}) {
      for (int i = 0; i < 40; ++i) {
        const std::string piece = random_bytes(rng, 65 + i * 23, alphabet);
        ASSERT_EQ(backtrack(*ranks, piece), reference_merge(*ranks, piece)) << piece;
      }
    }
    // Runs of one character and short repeated patterns: every pair ties with its neighbours.
    for (const std::string unit : {"a", " ", "0", "\xff", "\xe6\x97\xa5", "ab", "abc", "aab", "\n",
                                   "=", "ing", " the", "\xd0\xb0"}) {
      for (const std::size_t repeat : {70, 129, 257, 600}) {
        std::string piece;
        while (piece.size() < repeat) piece += unit;
        ASSERT_EQ(backtrack(*ranks, piece), reference_merge(*ranks, piece))
            << unit << " x" << repeat;
      }
    }
  }
}

// The backtracking encoder's founding assumption: the merge tree it reverse-engineers from the
// ranks reproduces every token, i.e. each token's bytes, merged alone, give that one token.
TEST(BytePairMerge, EveryTokenEncodesToItselfByBacktracking) {
  for (const RankTable* ranks : {&cl100k(), &o200k()}) {
    const BacktrackingBpe& bpe = ranks->backtracking();
    std::vector<Rank> out;
    for (Rank r = 0; r < ranks->size(); ++r) {
      const std::string_view bytes = ranks->bytes(r);
      out.clear();
      bpe.encode(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), out);
      ASSERT_EQ(out, std::vector<Rank>{r}) << "token " << r;
    }
  }
}

TEST(BytePairMerge, CompatiblePairsAreTheOnesTiktokenKeepsApart) {
  const RankTable& t = cl100k();
  const BacktrackingBpe& bpe = t.backtracking();
  // "hello" + " world" stays two tokens; "hel" + "lo" merges into "hello" first.
  EXPECT_TRUE(bpe.is_compatible(t.find("hello"), t.find(" world")));
  EXPECT_FALSE(bpe.is_compatible(t.find("hel"), t.find("lo")));
  EXPECT_FALSE(bpe.is_compatible(t.find("a"), t.find("a")));
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
