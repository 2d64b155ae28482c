#include "gateway/policies/token_limit/token_limit_settings.hpp"

#include <charconv>
#include <set>

namespace sluice::gateway::token_limit {

using core::ConfigNode;

LimitSpec LimitSpec::from_config(const ConfigNode& node) {
  LimitSpec spec;
  spec.name = node.required<std::string>("name");
  if (spec.name.empty()) node.fail_at("name", "a limit needs a non-empty name");
  for (char c : spec.name) {
    if (c == ':' || c == '|' || std::isspace(static_cast<unsigned char>(c))) {
      node.fail_at("name", "limit names may not contain ':', '|' or spaces");
    }
  }
  auto key = node.find("counter_key");
  if (!key || key->is_null()) node.fail_at("counter_key", "missing required key 'counter_key'");
  if (key->is_scalar()) {
    spec.counter_key.push_back(CounterKeyPart::from_config(*key, "counter key"));
  } else {
    for (const auto& item : key->items()) {
      spec.counter_key.push_back(CounterKeyPart::from_config(item, "counter key"));
    }
  }
  if (spec.counter_key.empty()) node.fail_at("counter_key", "counter_key needs at least one part");

  spec.tokens_per_minute = node.optional<std::int64_t>("tokens_per_minute", 0);
  spec.token_quota = node.optional<std::int64_t>("token_quota", 0);
  if (spec.tokens_per_minute < 0) node.fail_at("tokens_per_minute", "must not be negative");
  if (spec.token_quota < 0) node.fail_at("token_quota", "must not be negative");
  if (spec.tokens_per_minute == 0 && spec.token_quota == 0) {
    node.fail("limit '" + spec.name + "' sets neither tokens_per_minute nor token_quota");
  }
  if (node.has("token_quota_period")) {
    if (spec.token_quota == 0) {
      node.fail_at("token_quota_period", "token_quota_period needs token_quota");
    }
    spec.token_quota_period =
        node.required_choice<QuotaPeriod>("token_quota_period", {{"hourly", QuotaPeriod::kHourly},
                                                                 {"daily", QuotaPeriod::kDaily},
                                                                 {"weekly", QuotaPeriod::kWeekly},
                                                                 {"monthly", QuotaPeriod::kMonthly},
                                                                 {"yearly", QuotaPeriod::kYearly}});
  } else if (spec.token_quota > 0) {
    node.fail_at("token_quota_period",
                 "token_quota needs token_quota_period (hourly, daily, weekly, monthly, yearly)");
  }
  spec.estimate_prompt_tokens = node.optional<bool>("estimate_prompt_tokens", true);
  spec.default_completion_tokens = node.optional<std::int64_t>("default_completion_tokens", 256);
  if (spec.default_completion_tokens < 0) {
    node.fail_at("default_completion_tokens", "must not be negative");
  }
  node.finish();
  return spec;
}

std::string parse_redis_url(std::string_view url, RedisSettings& settings) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return "expected redis://[user:password@]host[:port][/db]";
  std::string_view rest = url.substr(kScheme.size());
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = credentials.find(':'); colon != std::string_view::npos) {
      settings.username = std::string(credentials.substr(0, colon));
      settings.password = std::string(credentials.substr(colon + 1));
    } else {
      settings.password = std::string(credentials);
    }
  }
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  settings.port = 6379;
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos && !rest.ends_with(']')) {
    host = rest.substr(0, colon);
    std::string_view port = rest.substr(colon + 1);
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value <= 0 || value > 65535) {
      return "invalid port '" + std::string(port) + "'";
    }
    settings.port = value;
  }
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host.empty()) return "missing host";
  settings.host = std::string(host);
  settings.database = 0;
  if (!path.empty()) {
    auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), settings.database);
    if (ec != std::errc() || end != path.data() + path.size() || settings.database < 0) {
      return "invalid database number '" + std::string(path) + "'";
    }
  }
  return "";
}

RedisSettings RedisSettings::from_config(const ConfigNode& node) {
  RedisSettings settings;
  settings.url = node.optional<std::string>("url", settings.url);
  if (auto error = parse_redis_url(settings.url, settings); !error.empty()) {
    node.fail_at("url", "invalid Redis URL '" + settings.url + "': " + error);
  }
  settings.timeout = node.optional<std::chrono::milliseconds>("timeout", settings.timeout);
  settings.connect_timeout =
      node.optional<std::chrono::milliseconds>("connect_timeout", settings.timeout);
  if (settings.timeout.count() <= 0) node.fail_at("timeout", "must be positive");
  if (settings.connect_timeout.count() <= 0) node.fail_at("connect_timeout", "must be positive");
  settings.pool_size = node.optional<int>("pool_size", settings.pool_size);
  if (settings.pool_size < 1 || settings.pool_size > 64) {
    node.fail_at("pool_size", "must be between 1 and 64");
  }
  settings.key_prefix = node.optional<std::string>("key_prefix", settings.key_prefix);
  settings.on_failure = node.optional_choice<FailureMode>(
      "on_failure",
      {{"fail_open", FailureMode::kFailOpen}, {"fail_closed", FailureMode::kFailClosed}},
      settings.on_failure);
  settings.fallback_tokens_per_minute =
      node.optional<std::int64_t>("fallback_tokens_per_minute", 0);
  if (settings.fallback_tokens_per_minute < 0) {
    node.fail_at("fallback_tokens_per_minute", "must not be negative");
  }
  if (settings.on_failure == FailureMode::kFailClosed && node.has("fallback_tokens_per_minute")) {
    node.fail_at("fallback_tokens_per_minute", "only applies with on_failure: fail_open");
  }
  settings.retry_interval =
      node.optional<std::chrono::milliseconds>("retry_interval", settings.retry_interval);
  node.finish();
  return settings;
}

HeaderNames HeaderNames::from_config(const ConfigNode& node) {
  HeaderNames names;
  names.remaining_tokens = node.optional<std::string>("remaining_tokens", names.remaining_tokens);
  names.remaining_quota = node.optional<std::string>("remaining_quota", names.remaining_quota);
  names.consumed_tokens = node.optional<std::string>("consumed_tokens", names.consumed_tokens);
  node.finish();
  return names;
}

TokenLimitSettings TokenLimitSettings::from_config(const ConfigNode& node) {
  TokenLimitSettings settings;
  auto limits = node.list("limits");
  if (limits.empty()) node.fail_at("limits", "token_limit needs at least one entry in 'limits'");
  std::set<std::string> names;
  for (const auto& item : limits) {
    auto spec = LimitSpec::from_config(item);
    if (!names.insert(spec.name).second) {
      item.fail_at("name", "duplicate limit name '" + spec.name + "'");
    }
    settings.limits.push_back(std::move(spec));
  }
  settings.store = node.optional_choice<StoreKind>(
      "store", {{"local", StoreKind::kLocal}, {"redis", StoreKind::kRedis}}, StoreKind::kLocal);
  if (node.has("redis")) {
    if (settings.store != StoreKind::kRedis) node.fail_at("redis", "'redis' needs store: redis");
    settings.redis = RedisSettings::from_config(node.section("redis"));
  }
  settings.headers = HeaderNames::from_config(node.section("headers"));
  settings.charge_cache_hits = node.optional<bool>("charge_cache_hits", false);
  node.finish();
  return settings;
}

}  // namespace sluice::gateway::token_limit
