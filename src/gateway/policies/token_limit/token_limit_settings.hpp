#pragma once
// The `token_limit` policy's configuration, read once from its config section and shared
// read-only by every worker (docs/policies/token_limit.md is the reference):
//
//   token_limit:
//     limits:
//       - name: per-app
//         counter_key: [app_id]          # app_id | api_key | client_ip | deployment
//                                        # | header:NAME | claim:NAME, one or a list
//         tokens_per_minute: 20000       # sliding 60 s window; 429 + Retry-After
//         token_quota: 1000000           # calendar period (UTC); 403
//         token_quota_period: daily      # hourly | daily | weekly | monthly | yearly
//         estimate_prompt_tokens: true
//         default_completion_tokens: 256
//     store: local | redis
//     redis: {url, timeout, connect_timeout, pool_size, key_prefix, on_failure,
//             fallback_tokens_per_minute, retry_interval}
//     headers: {remaining_tokens, remaining_quota, consumed_tokens}
//     charge_cache_hits: false         # a response-cache hit costs its answer's tokens (true)
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/caller_key.hpp"
#include "gateway/policies/token_limit/quota_period.hpp"
#include "sluice/core/config_node.hpp"

namespace sluice::gateway::token_limit {

// One part of a counter key: what identifies "the same caller" for a limit.
using CounterKeyPart = CallerKeyPart;

struct LimitSpec {
  std::string name;  // unique within the policy; counters with the same name are shared
  std::vector<CounterKeyPart> counter_key;
  std::int64_t tokens_per_minute = 0;  // 0: no per-minute limit
  std::int64_t token_quota = 0;        // 0: no quota
  QuotaPeriod token_quota_period = QuotaPeriod::kDaily;
  bool estimate_prompt_tokens = true;
  std::int64_t default_completion_tokens = 256;  // reserved when the request has no max_tokens

  static LimitSpec from_config(const core::ConfigNode& node);
};

enum class StoreKind { kLocal, kRedis };
enum class FailureMode { kFailOpen, kFailClosed };

struct RedisSettings {
  std::string url = "redis://127.0.0.1:6379";
  std::string host = "127.0.0.1";  // parsed from url
  int port = 6379;
  std::string username;  // parsed from url (redis://user:password@host:port/db)
  std::string password;
  int database = 0;
  std::chrono::milliseconds timeout{50};  // a whole admission: queueing and the round trip
  std::chrono::milliseconds connect_timeout{50};
  int pool_size = 4;  // accepted for older configs; connections are one per worker thread
  std::string key_prefix = "sluice:";
  FailureMode on_failure = FailureMode::kFailOpen;
  // Per-instance per-minute budget of each limit while Redis is unreachable (fail_open);
  // 0: each limit's own tokens_per_minute, enforced per instance.
  std::int64_t fallback_tokens_per_minute = 0;
  // After a failure, Redis is not tried again for this long (requests take the failure mode
  // at once instead of each waiting for a timeout).
  std::chrono::milliseconds retry_interval{1000};

  static RedisSettings from_config(const core::ConfigNode& node);
};

struct HeaderNames {
  std::string remaining_tokens = "x-ratelimit-remaining-tokens";  // "" disables a header
  std::string remaining_quota = "x-ratelimit-remaining-quota";
  std::string consumed_tokens = "x-ratelimit-consumed-tokens";

  static HeaderNames from_config(const core::ConfigNode& node);
};

struct TokenLimitSettings {
  std::vector<LimitSpec> limits;
  StoreKind store = StoreKind::kLocal;
  RedisSettings redis;
  HeaderNames headers;
  // A response-cache hit is charged the tokens its answer cost when it was made (true), or
  // nothing (false: the default, as no backend capacity was used).
  bool charge_cache_hits = false;

  // Reads and validates the section (and finish()es it). Throws core::ConfigError.
  static TokenLimitSettings from_config(const core::ConfigNode& node);
};

// Parses "redis://[user[:password]@]host[:port][/db]" into `settings`. Returns an error message,
// or "" on success.
std::string parse_redis_url(std::string_view url, RedisSettings& settings);

}  // namespace sluice::gateway::token_limit
