#include "gateway/policies/cache/cache_settings.hpp"

#include <gtest/gtest.h>

#include "core/tests/config_error_of.hpp"
#include "sluice/core/config.hpp"

namespace sluice::gateway::cache {
namespace {

CacheSettings parse(std::string_view yaml) {
  auto root = core::load_config_string(yaml, "test.yaml");
  return CacheSettings::from_config(root);
}

std::string error_of(std::string_view yaml) {
  return core::testing::config_error_of([&] { parse(yaml); });
}

TEST(CacheSettings, Defaults) {
  auto s = parse("{}");
  EXPECT_EQ(s.ttl, std::chrono::minutes(5));
  ASSERT_EQ(s.vary_by.size(), 1u);
  EXPECT_EQ(s.vary_by[0].kind, VaryPart::Kind::kAppId);
  EXPECT_FALSE(s.allow_sampling);
  EXPECT_FALSE(s.allow_tool_calls);
}

TEST(CacheSettings, ReadsEverything) {
  auto s = parse(R"(
ttl: 30s
max_bytes: 1MiB
max_entry_bytes: 64KiB
vary_by: [app_id, header:X-Team]
ignore_fields: [metadata]
match_fields: [messages, model]
allow_sampling: true
allow_tool_calls: true
store: memory
)");
  EXPECT_EQ(s.ttl, std::chrono::seconds(30));
  EXPECT_EQ(s.max_bytes, 1u << 20);
  EXPECT_EQ(s.max_entry_bytes, 64u << 10);
  ASSERT_EQ(s.vary_by.size(), 2u);
  EXPECT_EQ(s.vary_by[1].kind, VaryPart::Kind::kHeader);
  EXPECT_EQ(s.vary_by[1].name, "x-team");
  EXPECT_EQ(s.ignore_fields, std::vector<std::string>{"metadata"});
  EXPECT_EQ(s.match_fields.size(), 2u);
  EXPECT_TRUE(s.allow_sampling);
  EXPECT_TRUE(s.allow_tool_calls);
  EXPECT_TRUE(parse("vary_by: none").vary_by.empty());
  auto redis =
      parse("store: redis\nredis: {url: 'redis://127.0.0.1:7000', on_failure: fail_closed}");
  EXPECT_EQ(redis.store, CacheSettings::Store::kRedis);
  EXPECT_EQ(redis.redis.port, 7000);
  EXPECT_EQ(redis.redis.on_failure, token_limit::FailureMode::kFailClosed);
  EXPECT_EQ(parse("max_bytes: 4KiB").max_entry_bytes, 4096u);  // the default fits the store
}

TEST(CacheSettings, SaysWhatIsWrong) {
  EXPECT_NE(error_of("ttl: 0s").find("ttl"), std::string::npos);
  EXPECT_NE(error_of("vary_by: [app]").find("unknown vary_by part 'app'"), std::string::npos);
  EXPECT_NE(error_of("vary_by: ['header:']").find("needs a name"), std::string::npos);
  EXPECT_NE(error_of("max_bytes: 1KiB").find("max_bytes"), std::string::npos);
  EXPECT_NE(error_of("max_bytes: 1MiB\nmax_entry_bytes: 2MiB").find("max_entry_bytes"),
            std::string::npos);
  EXPECT_NE(error_of("redis: {url: 'redis://h'}").find("needs store: redis"), std::string::npos);
  EXPECT_NE(error_of("store: redis\nredis: {fallback_tokens_per_minute: 5}").find("token_limit"),
            std::string::npos);
  EXPECT_NE(error_of("tll: 5m").find("tll"), std::string::npos);
}

TEST(CacheSettings, SemanticIsOffUnlessConfiguredAndReadsEverything) {
  EXPECT_FALSE(parse("{}").semantic.enabled);
  auto s = parse(R"(
semantic:
  embeddings_deployment: text-embedding-3-small
  threshold: 0.85
  max_entries: 500
  max_bytes: 8MiB
  timeout: 300ms
  dimensions: 256
)");
  EXPECT_TRUE(s.semantic.enabled);
  EXPECT_EQ(s.semantic.embeddings_deployment, "text-embedding-3-small");
  EXPECT_DOUBLE_EQ(s.semantic.threshold, 0.85);
  EXPECT_EQ(s.semantic.max_entries, 500u);
  EXPECT_EQ(s.semantic.max_bytes, 8u << 20);
  EXPECT_EQ(s.semantic.timeout, std::chrono::milliseconds(300));
  EXPECT_EQ(s.semantic.dimensions, 256);
  auto defaults = parse("semantic: {embeddings_deployment: emb}");
  EXPECT_DOUBLE_EQ(defaults.semantic.threshold, 0.9);
  EXPECT_EQ(defaults.semantic.dimensions, 0);
  EXPECT_FALSE(parse("semantic: {enabled: false}").semantic.enabled);
}

TEST(CacheSettings, SemanticSaysWhatIsWrong) {
  EXPECT_NE(error_of("semantic: {threshold: 0.9}").find("embeddings_deployment"),
            std::string::npos);
  EXPECT_NE(error_of("semantic: {embeddings_deployment: e, threshold: 1.5}").find("threshold"),
            std::string::npos);
  EXPECT_NE(error_of("semantic: {embeddings_deployment: e, threshold: 0}").find("threshold"),
            std::string::npos);
  EXPECT_NE(error_of("semantic: {embeddings_deployment: e, max_entries: 0}").find("max_entries"),
            std::string::npos);
  EXPECT_NE(error_of("semantic: {embeddings_deployment: e, timeout: 0s}").find("timeout"),
            std::string::npos);
  EXPECT_NE(error_of("semantic: {embeddings_deployment: e, score_threshold: 0.9}")
                .find("score_threshold"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::gateway::cache
