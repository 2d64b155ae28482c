#include "gateway/policies/cache/semantic_index.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace sluice::gateway::cache {
namespace {

using namespace std::chrono_literals;
using Time = SemanticIndex::Time;
constexpr std::size_t kDims = 64;

std::shared_ptr<const CachedAnswer> answer(std::string body, Time at) {
  auto a = std::make_shared<CachedAnswer>();
  a->body = std::move(body);
  a->stored_at = at;
  return a;
}

std::vector<float> unit(std::vector<float> v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  for (auto& x : v) x = static_cast<float>(x / std::sqrt(norm));
  return v;
}

// A random unit vector; `near` mixes in a little noise around an existing one.
std::vector<float> random_unit(std::mt19937& random) {
  std::normal_distribution<float> normal;
  std::vector<float> v(kDims);
  for (auto& x : v) x = normal(random);
  return unit(std::move(v));
}

std::vector<float> near(const std::vector<float>& base, float noise, std::mt19937& random) {
  std::normal_distribution<float> normal(0, noise);
  auto v = base;
  for (auto& x : v) x += normal(random) / std::sqrt(static_cast<float>(kDims));
  return unit(std::move(v));
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += static_cast<double>(a[i]) * b[i];
  return d;
}

TEST(SemanticIndex, FindsTheNearestAboveTheThresholdInItsPartitionOnly) {
  CacheStats stats;
  SemanticIndex index(100, 1 << 20, stats);
  std::mt19937 random(1);
  Time t0{};
  auto france = random_unit(random);
  auto bread = random_unit(random);
  ASSERT_TRUE(index.insert("p", france, answer("paris", t0), t0 + 1h));
  ASSERT_TRUE(index.insert("p", bread, answer("flour", t0), t0 + 1h));
  auto paraphrase = near(france, 0.3f, random);
  auto match = index.find("p", paraphrase, 0.8, t0);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->answer->body, "paris");
  EXPECT_NEAR(match->similarity, dot(france, paraphrase), 1e-4);
  EXPECT_LT(match->similarity, 1.0);
  // The same vector is similarity 1; an unrelated one is below any sensible threshold.
  EXPECT_NEAR(index.find("p", bread, 0.99, t0)->similarity, 1.0, 1e-5);
  EXPECT_FALSE(index.find("p", random_unit(random), 0.8, t0));
  // Another partition, or a vector of another size, never sees these entries.
  EXPECT_FALSE(index.find("q", france, 0.5, t0));
  EXPECT_FALSE(index.find("p", std::vector<float>(kDims / 2, 0.1f), 0.0, t0));
  EXPECT_FALSE(index.insert("p", std::vector<float>(kDims / 2, 0.1f), answer("x", t0), t0 + 1h));
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(stats.semantic_entries.load(), 2);
}

TEST(SemanticIndex, ExpiredEntriesAreNotFoundAndGo) {
  CacheStats stats;
  SemanticIndex index(100, 1 << 20, stats);
  std::mt19937 random(2);
  Time t0{};
  auto old_question = random_unit(random);
  auto other = random_unit(random);
  ASSERT_TRUE(index.insert("p", old_question, answer("old", t0), t0 + 10s));
  ASSERT_TRUE(index.insert("p", other, answer("other", t0 + 5s), t0 + 1h));
  EXPECT_TRUE(index.find("p", old_question, 0.9, t0 + 9s));
  EXPECT_FALSE(index.find("p", old_question, 0.9, t0 + 10s));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(stats.semantic_expirations.load(), 1u);
  // Its slot is reused by the next entry, which is found.
  auto next = random_unit(random);
  ASSERT_TRUE(index.insert("p", next, answer("next", t0 + 11s), t0 + 1h));
  EXPECT_EQ(index.find("p", next, 0.9, t0 + 11s)->answer->body, "next");
  EXPECT_EQ(index.find("p", other, 0.9, t0 + 11s)->answer->body, "other");
  // A partition whose last entry expired is freed whole.
  ASSERT_TRUE(index.insert("solo", old_question, answer("solo", t0), t0 + 1s));
  EXPECT_FALSE(index.find("solo", old_question, 0.5, t0 + 2s));
  EXPECT_EQ(index.size(), 2u);
}

TEST(SemanticIndex, StaysWithinItsEntryAndByteBoundsRemovingTheOldest) {
  CacheStats stats;
  std::mt19937 random(3);
  Time t0{};
  SemanticIndex by_count(3, 1 << 20, stats);
  std::vector<std::vector<float>> questions;
  for (int i = 0; i < 5; ++i) {
    questions.push_back(random_unit(random));
    ASSERT_TRUE(by_count.insert(i % 2 ? "odd" : "even", questions.back(),
                                answer(std::to_string(i), t0 + std::chrono::seconds(i)), t0 + 1h));
  }
  EXPECT_EQ(by_count.size(), 3u);
  EXPECT_FALSE(by_count.find("even", questions[0], 0.9, t0));
  EXPECT_FALSE(by_count.find("odd", questions[1], 0.9, t0));
  EXPECT_TRUE(by_count.find("even", questions[2], 0.9, t0));
  EXPECT_TRUE(by_count.find("even", questions[4], 0.9, t0));
  EXPECT_EQ(stats.semantic_evictions.load(), 2u);

  const auto one = SemanticIndex::charge(kDims, *answer(std::string(1000, 'x'), t0));
  SemanticIndex by_bytes(1000, 2 * one, stats);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(
        by_bytes.insert("p", random_unit(random), answer(std::string(1000, 'x'), t0), t0 + 1h));
    EXPECT_LE(by_bytes.bytes(), 2 * one);
  }
  EXPECT_EQ(by_bytes.size(), 2u);
  // An entry larger than the whole bound is refused.
  EXPECT_FALSE(
      by_bytes.insert("p", random_unit(random), answer(std::string(4 * one, 'x'), t0), t0 + 1h));
}

TEST(SemanticIndex, GrowsPastItsInitialCapacityAndKeepsFindingEveryEntry) {
  CacheStats stats;
  SemanticIndex index(10'000, 64 << 20, stats);
  std::mt19937 random(4);
  Time t0{};
  std::vector<std::vector<float>> questions;
  for (int i = 0; i < 500; ++i) {
    questions.push_back(random_unit(random));
    ASSERT_TRUE(index.insert("p", questions.back(), answer(std::to_string(i), t0), t0 + 1h));
  }
  int found = 0;
  for (int i = 0; i < 500; ++i) {
    auto match = index.find("p", questions[i], 0.99, t0);
    found += match && match->answer->body == std::to_string(i);
  }
  EXPECT_GE(found, 495);  // HNSW is approximate; exact vectors are found essentially always
  EXPECT_EQ(stats.semantic_entries.load(), 500);
}

}  // namespace
}  // namespace sluice::gateway::cache
