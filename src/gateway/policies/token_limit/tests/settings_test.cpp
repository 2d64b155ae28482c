#include "gateway/policies/token_limit/token_limit_settings.hpp"

#include <gtest/gtest.h>

#include "sluice/core/config.hpp"

namespace sluice::gateway::token_limit {
namespace {

TokenLimitSettings load(std::string_view yaml) {
  auto root = core::load_config_string(yaml, "gateway.yaml");
  auto settings = TokenLimitSettings::from_config(root.section("token_limit"));
  root.finish();
  return settings;
}

std::string error_of(std::string_view yaml) {
  try {
    load(yaml);
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TokenLimitSettings, ReadsTheDocumentedShape) {
  auto s = load(R"(
token_limit:
  limits:
    - name: per-app
      counter_key: [app_id, deployment]
      tokens_per_minute: 20000
      token_quota: 1000000
      token_quota_period: monthly
      estimate_prompt_tokens: false
      default_completion_tokens: 64
    - name: per-team
      counter_key: header:X-Team
      tokens_per_minute: 5000
    - {name: per-tenant, counter_key: [claim:tid, client_ip, api_key], token_quota: 10, token_quota_period: hourly}
  store: redis
  redis: {url: "redis://:secret@10.0.0.5:6380/2", timeout: 20ms, pool_size: 2, key_prefix: "x:",
          on_failure: fail_closed, retry_interval: 2s}
  headers: {remaining_tokens: x-left, consumed_tokens: ""}
)");
  ASSERT_EQ(s.limits.size(), 3u);
  const auto& app = s.limits[0];
  EXPECT_EQ(app.name, "per-app");
  ASSERT_EQ(app.counter_key.size(), 2u);
  EXPECT_EQ(app.counter_key[0].kind, CounterKeyPart::Kind::kAppId);
  EXPECT_EQ(app.counter_key[1].kind, CounterKeyPart::Kind::kDeployment);
  EXPECT_EQ(app.tokens_per_minute, 20000);
  EXPECT_EQ(app.token_quota, 1000000);
  EXPECT_EQ(app.token_quota_period, QuotaPeriod::kMonthly);
  EXPECT_FALSE(app.estimate_prompt_tokens);
  EXPECT_EQ(app.default_completion_tokens, 64);
  ASSERT_EQ(s.limits[1].counter_key.size(), 1u);
  EXPECT_EQ(s.limits[1].counter_key[0].kind, CounterKeyPart::Kind::kHeader);
  EXPECT_EQ(s.limits[1].counter_key[0].name, "x-team");  // header names are case-insensitive
  EXPECT_EQ(s.limits[1].token_quota, 0);
  EXPECT_TRUE(s.limits[1].estimate_prompt_tokens);
  EXPECT_EQ(s.limits[1].default_completion_tokens, 256);
  EXPECT_EQ(s.limits[2].counter_key[0].to_string(), "claim:tid");
  EXPECT_EQ(s.limits[2].counter_key[2].kind, CounterKeyPart::Kind::kApiKey);
  EXPECT_EQ(s.store, StoreKind::kRedis);
  EXPECT_EQ(s.redis.host, "10.0.0.5");
  EXPECT_EQ(s.redis.port, 6380);
  EXPECT_EQ(s.redis.password, "secret");
  EXPECT_EQ(s.redis.database, 2);
  EXPECT_EQ(s.redis.timeout, std::chrono::milliseconds(20));
  EXPECT_EQ(s.redis.connect_timeout, std::chrono::milliseconds(20));
  EXPECT_EQ(s.redis.pool_size, 2);
  EXPECT_EQ(s.redis.key_prefix, "x:");
  EXPECT_EQ(s.redis.on_failure, FailureMode::kFailClosed);
  EXPECT_EQ(s.redis.retry_interval, std::chrono::seconds(2));
  EXPECT_EQ(s.headers.remaining_tokens, "x-left");
  EXPECT_EQ(s.headers.remaining_quota, "x-ratelimit-remaining-quota");
  EXPECT_EQ(s.headers.consumed_tokens, "");
}

TEST(TokenLimitSettings, DefaultsToTheLocalStore) {
  auto s = load("token_limit: {limits: [{name: a, counter_key: app_id, tokens_per_minute: 10}]}\n");
  EXPECT_EQ(s.store, StoreKind::kLocal);
  EXPECT_EQ(s.headers.remaining_tokens, "x-ratelimit-remaining-tokens");
  EXPECT_EQ(s.headers.consumed_tokens, "x-ratelimit-consumed-tokens");
}

TEST(TokenLimitSettings, ErrorsSayWhatIsWrongAndWhere) {
  auto error =
      error_of("token_limit: {limits: [{name: a, counter_key: ip, tokens_per_minute: 1}]}\n");
  EXPECT_NE(error.find("unknown counter key part 'ip'"), std::string::npos) << error;
  EXPECT_NE(error.find("gateway.yaml:1"), std::string::npos) << error;

  error = error_of("token_limit: {limits: [{name: a, counter_key: app_id}]}\n");
  EXPECT_NE(error.find("neither tokens_per_minute nor token_quota"), std::string::npos) << error;

  error = error_of("token_limit: {limits: [{name: a, counter_key: app_id, token_quota: 5}]}\n");
  EXPECT_NE(error.find("token_quota_period"), std::string::npos) << error;

  error = error_of(
      "token_limit: {limits: [{name: a, counter_key: app_id, token_quota: 5, "
      "token_quota_period: fortnightly}]}\n");
  EXPECT_NE(error.find("fortnightly"), std::string::npos) << error;

  error = error_of(R"(
token_limit:
  limits:
    - {name: a, counter_key: app_id, tokens_per_minute: 1}
    - {name: a, counter_key: api_key, tokens_per_minute: 2}
)");
  EXPECT_NE(error.find("duplicate limit name 'a'"), std::string::npos) << error;
  EXPECT_NE(error.find("gateway.yaml:5"), std::string::npos) << error;

  error = error_of(
      "token_limit: {limits: [{name: a, counter_key: app_id, tokens_per_minute: 1, tpm: 3}]}\n");
  EXPECT_NE(error.find("tpm"), std::string::npos) << error;

  error = error_of(
      "token_limit: {limits: [{name: a, counter_key: app_id, tokens_per_minute: 1}], "
      "redis: {url: 'redis://h:1'}}\n");
  EXPECT_NE(error.find("needs store: redis"), std::string::npos) << error;

  error = error_of(
      "token_limit: {limits: [{name: a, counter_key: app_id, tokens_per_minute: 1}], "
      "store: redis, redis: {url: 'http://h:1'}}\n");
  EXPECT_NE(error.find("invalid Redis URL"), std::string::npos) << error;

  error = error_of("token_limit: {limits: []}\n");
  EXPECT_NE(error.find("at least one"), std::string::npos) << error;

  error = error_of(
      "token_limit: {limits: [{name: a, counter_key: 'header:', tokens_per_minute: 1}]}\n");
  EXPECT_NE(error.find("needs a name"), std::string::npos) << error;
}

TEST(TokenLimitSettings, ParsesRedisUrls) {
  RedisSettings s;
  EXPECT_EQ(parse_redis_url("redis://localhost", s), "");
  EXPECT_EQ(s.host, "localhost");
  EXPECT_EQ(s.port, 6379);
  EXPECT_EQ(parse_redis_url("redis://user:pw@[::1]:7000/3", s), "");
  EXPECT_EQ(s.host, "::1");
  EXPECT_EQ(s.port, 7000);
  EXPECT_EQ(s.username, "user");
  EXPECT_EQ(s.password, "pw");
  EXPECT_EQ(s.database, 3);
  EXPECT_NE(parse_redis_url("redis://host:99999", s), "");
  EXPECT_NE(parse_redis_url("redis://host/x", s), "");
  EXPECT_NE(parse_redis_url("rediss://host", s), "");
}

}  // namespace
}  // namespace sluice::gateway::token_limit
