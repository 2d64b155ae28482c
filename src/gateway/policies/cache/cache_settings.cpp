#include "gateway/policies/cache/cache_settings.hpp"

#include <algorithm>

namespace sluice::gateway::cache {

namespace {

std::vector<std::string> field_names(const core::ConfigNode& node, std::string_view key) {
  std::vector<std::string> names;
  for (const auto& item : node.list(key)) {
    auto name = item.as<std::string>();
    if (name.empty()) item.fail("a field name may not be empty");
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace

CacheSettings CacheSettings::from_config(const core::ConfigNode& node) {
  CacheSettings s;
  s.ttl = node.optional<std::chrono::milliseconds>("ttl", s.ttl);
  if (s.ttl.count() <= 0) node.fail_at("ttl", "must be longer than 0s");
  s.max_bytes = node.optional<core::ByteSize>("max_bytes", {s.max_bytes}).bytes;
  if (s.max_bytes < 4096) node.fail_at("max_bytes", "must be at least 4KiB");
  s.max_entry_bytes =
      node.optional<core::ByteSize>("max_entry_bytes", {std::min(s.max_entry_bytes, s.max_bytes)})
          .bytes;
  if (s.max_entry_bytes == 0 || s.max_entry_bytes > s.max_bytes) {
    node.fail_at("max_entry_bytes", "must be at least 1B and at most max_bytes");
  }
  if (auto vary = node.find("vary_by"); vary && !vary->is_null()) {
    s.vary_by.clear();
    if (vary->is_scalar() && vary->scalar() == "none") {
      // one partition for every caller: answers are shared across apps
    } else if (vary->is_scalar()) {
      s.vary_by.push_back(VaryPart::from_config(*vary, "vary_by"));
    } else {
      for (const auto& item : vary->items())
        s.vary_by.push_back(VaryPart::from_config(item, "vary_by"));
      if (s.vary_by.empty()) node.fail_at("vary_by", "needs a part, or `none` to share answers");
    }
  }
  s.ignore_fields = field_names(node, "ignore_fields");
  s.match_fields = field_names(node, "match_fields");
  s.allow_sampling = node.optional<bool>("allow_sampling", s.allow_sampling);
  s.allow_tool_calls = node.optional<bool>("allow_tool_calls", s.allow_tool_calls);
  s.store = node.optional_choice<Store>(
      "store", {{"memory", Store::kMemory}, {"redis", Store::kRedis}}, Store::kMemory);
  if (node.has("redis")) {
    if (s.store != Store::kRedis) node.fail_at("redis", "'redis' needs store: redis");
    auto redis = node.section("redis");
    // The token limit's per-instance budget has no meaning for a cache.
    if (redis.has("fallback_tokens_per_minute")) {
      redis.fail_at("fallback_tokens_per_minute", "is a token_limit setting; a cache has none");
    }
    s.redis = token_limit::RedisSettings::from_config(redis);
  }
  node.finish();
  return s;
}

}  // namespace sluice::gateway::cache
