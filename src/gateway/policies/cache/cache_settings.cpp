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

SemanticSettings SemanticSettings::from_config(const core::ConfigNode& node) {
  SemanticSettings s;
  s.enabled = node.optional<bool>("enabled", true);
  s.embeddings_deployment = node.optional<std::string>("embeddings_deployment", "");
  if (s.enabled && s.embeddings_deployment.empty()) {
    node.fail_at("embeddings_deployment",
                 "is required: name an embeddings deployment one of this gateway's routes "
                 "serves (e.g. text-embedding-3-small)");
  }
  s.threshold = node.optional<double>("threshold", s.threshold);
  if (!(s.threshold > 0 && s.threshold <= 1)) {
    node.fail_at("threshold", "must be a cosine similarity above 0 and at most 1 (e.g. 0.9)");
  }
  s.max_entries = node.optional<std::size_t>("max_entries", s.max_entries);
  if (s.max_entries == 0) node.fail_at("max_entries", "must be at least 1");
  s.max_bytes = node.optional<core::ByteSize>("max_bytes", {s.max_bytes}).bytes;
  if (s.max_bytes < 64 * 1024) node.fail_at("max_bytes", "must be at least 64KiB");
  s.timeout = node.optional<std::chrono::milliseconds>("timeout", s.timeout);
  if (s.timeout.count() <= 0) node.fail_at("timeout", "must be longer than 0s");
  s.dimensions = node.optional<int>("dimensions", s.dimensions);
  if (s.dimensions < 0 || s.dimensions > 8192) {
    node.fail_at("dimensions", "must be between 1 and 8192 (or left out: the model's own)");
  }
  node.finish();
  return s;
}

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
  if (node.has("semantic")) s.semantic = SemanticSettings::from_config(node.section("semantic"));
  node.finish();
  return s;
}

}  // namespace sluice::gateway::cache
