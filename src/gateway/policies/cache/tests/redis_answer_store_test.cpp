#include "gateway/policies/cache/redis_answer_store.hpp"

#include <gtest/gtest.h>

namespace sluice::gateway::cache {
namespace {

TEST(RedisAnswerValue, RoundTrips) {
  CachedAnswer answer;
  answer.body = "{\"choices\":[]}\nwith a newline";
  answer.model = "gpt-4o";
  answer.total_tokens = 42;
  auto value = encode_answer(answer, 1'700'000'000'123);
  CachedAnswer back;
  std::int64_t stored_at = 0;
  ASSERT_TRUE(decode_answer(value, back, stored_at));
  EXPECT_EQ(back.body, answer.body);
  EXPECT_EQ(back.model, "gpt-4o");
  EXPECT_EQ(back.total_tokens, 42);
  EXPECT_EQ(stored_at, 1'700'000'000'123);
}

TEST(RedisAnswerValue, AnythingElseReadsAsAbsent) {
  CachedAnswer back;
  std::int64_t stored_at = 0;
  EXPECT_FALSE(decode_answer("", back, stored_at));
  EXPECT_FALSE(decode_answer("{\"choices\":[]}", back, stored_at));
  EXPECT_FALSE(decode_answer("sluice-cache-2\n1\n2\nm\n{}", back, stored_at));
  EXPECT_FALSE(decode_answer("sluice-cache-1\nx\n2\nm\n{}", back, stored_at));
  EXPECT_FALSE(decode_answer("sluice-cache-1\n1\n2", back, stored_at));
}

}  // namespace
}  // namespace sluice::gateway::cache
