// The merge cache gives back exactly what was stored for the same bytes under the same table, and
// nothing for another table or other bytes.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "sluice/tokenizer/encoding.hpp"
#include "tokenizer/merge_cache.hpp"

namespace sluice::tokenizer {
namespace {

const std::uint8_t* bytes_of(const std::string& s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

TEST(MergeCache, HitsOnlyTheSameBytesUnderTheSameTable) {
  MergeCache& cache = MergeCache::for_this_thread();
  const RankTable& cl100k = cl100k_base().rank_table();
  const RankTable& o200k = o200k_base().rank_table();
  const std::string piece = " Überblicksartikel";
  MergeCache::Entry* slot = nullptr;
  ASSERT_EQ(cache.find(cl100k, bytes_of(piece), piece.size(), slot), nullptr);
  const Rank stored[] = {1, 2, 3};
  cache.store(slot, cl100k, piece.size(), stored, 3);

  const MergeCache::Entry* hit = cache.find(cl100k, bytes_of(piece), piece.size(), slot);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(std::vector<Rank>(hit->tokens, hit->tokens + hit->count), std::vector<Rank>({1, 2, 3}));
  EXPECT_EQ(cache.find(o200k, bytes_of(piece), piece.size(), slot), nullptr);
  const std::string shorter = piece.substr(0, piece.size() - 1);
  EXPECT_EQ(cache.find(cl100k, bytes_of(shorter), shorter.size(), slot), nullptr);
}

TEST(MergeCache, PiecesOfTooManyTokensAreNotKept) {
  MergeCache& cache = MergeCache::for_this_thread();
  const RankTable& cl100k = cl100k_base().rank_table();
  const std::string piece = "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8";
  MergeCache::Entry* slot = nullptr;
  ASSERT_EQ(cache.find(cl100k, bytes_of(piece), piece.size(), slot), nullptr);
  const Rank stored[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  cache.store(slot, cl100k, piece.size(), stored, 8);
  EXPECT_EQ(cache.find(cl100k, bytes_of(piece), piece.size(), slot), nullptr);
}

// A text of distinct words is encoded first by merging (in a new thread, so with an empty cache)
// and then again from the cache: the same ids both times.
TEST(MergeCache, EncodingFromTheCacheGivesTheMergedIds) {
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    std::string word = " zq";
    for (int n = i; n > 0; n /= 26) word += static_cast<char>('a' + n % 26);
    text += word + "ü";
  }
  for (const Encoding* enc : {&cl100k_base(), &o200k_base()}) {
    std::vector<Rank> merged;
    std::vector<Rank> cached;
    std::size_t counted = 0;
    std::thread([&] {
      merged = enc->encode_ordinary(text);
      cached = enc->encode_ordinary(text);
      counted = enc->count(text);
    }).join();
    EXPECT_EQ(cached, merged);
    EXPECT_EQ(counted, merged.size());
    EXPECT_GT(merged.size(), 6000u);
  }
}

}  // namespace
}  // namespace sluice::tokenizer
