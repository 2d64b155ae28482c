#include "gateway/policies/cache/memory_store.hpp"

#include <gtest/gtest.h>

namespace sluice::gateway::cache {
namespace {

using namespace std::chrono_literals;
using Time = MemoryStore::Time;

std::shared_ptr<const CachedAnswer> answer(std::size_t body_bytes, Time at) {
  auto a = std::make_shared<CachedAnswer>();
  a->body.assign(body_bytes, 'x');
  a->stored_at = at;
  return a;
}

TEST(MemoryStore, FindsWhatWasStoredUntilItExpires) {
  CacheStats stats;
  MemoryStore store(1 << 20, stats);
  Time t0{};
  ASSERT_TRUE(store.insert("k", answer(100, t0), t0 + 10s));
  EXPECT_NE(store.find("k", t0 + 9s), nullptr);
  EXPECT_EQ(store.find("other", t0), nullptr);
  EXPECT_EQ(store.find("k", t0 + 10s), nullptr);  // expired: gone
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(stats.expirations.load(), 1u);
  EXPECT_EQ(stats.entries.load(), 0);
  EXPECT_EQ(stats.bytes.load(), 0);
}

TEST(MemoryStore, StaysWithinItsByteBoundEvictingTheLeastRecentlyUsed) {
  CacheStats stats;
  Time t0{};
  auto one = MemoryStore::charge("a", *answer(1000, t0));
  MemoryStore store(3 * one, stats);  // room for three
  for (auto key : {"a", "b", "c"}) ASSERT_TRUE(store.insert(key, answer(1000, t0), t0 + 1h));
  EXPECT_NE(store.find("a", t0), nullptr);  // "a" is now the most recently used; "b" the least
  ASSERT_TRUE(store.insert("d", answer(1000, t0), t0 + 1h));
  EXPECT_EQ(store.find("b", t0), nullptr);
  for (auto key : {"a", "c", "d"}) EXPECT_NE(store.find(key, t0), nullptr) << key;
  EXPECT_LE(store.bytes(), 3 * one);
  EXPECT_EQ(stats.evictions.load(), 1u);
  EXPECT_EQ(stats.bytes.load(), static_cast<std::int64_t>(store.bytes()));
  EXPECT_EQ(stats.entries.load(), 3);
}

TEST(MemoryStore, RefusesAnEntryLargerThanTheWholeBound) {
  CacheStats stats;
  MemoryStore store(4096, stats);
  Time t0{};
  EXPECT_FALSE(store.insert("big", answer(8192, t0), t0 + 1h));
  EXPECT_EQ(store.size(), 0u);
}

TEST(MemoryStore, ReplacingAKeyKeepsOneEntry) {
  CacheStats stats;
  MemoryStore store(1 << 20, stats);
  Time t0{};
  ASSERT_TRUE(store.insert("k", answer(10, t0), t0 + 1h));
  ASSERT_TRUE(store.insert("k", answer(20, t0), t0 + 1h));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.find("k", t0)->body.size(), 20u);
}

TEST(MemoryStore, GaugesFollowTheStoreWhenItGoes) {
  CacheStats stats;
  {
    MemoryStore store(1 << 20, stats);
    ASSERT_TRUE(store.insert("k", answer(10, Time{}), Time{} + 1h));
    EXPECT_GT(stats.bytes.load(), 0);
  }
  EXPECT_EQ(stats.bytes.load(), 0);
  EXPECT_EQ(stats.entries.load(), 0);
}

}  // namespace
}  // namespace sluice::gateway::cache
