#pragma once
// Settings of the `cache` policy, read once from its config section and shared read-only.
// docs/policies/cache.md is the user's reference.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/caller_key.hpp"
#include "gateway/policies/token_limit/token_limit_settings.hpp"
#include "sluice/core/config_node.hpp"

namespace sluice::gateway::cache {

// One part of the partition an entry belongs to: callers in different partitions never share
// an answer.
using VaryPart = CallerKeyPart;

// The semantic cache: a question asked in other words (the last user message, compared by the
// cosine similarity of its embedding) is answered with the stored answer of the closest one.
struct SemanticSettings {
  bool enabled = false;
  // The deployment the questions are embedded with, sent through the gateway's own routes and
  // pools (a route must match it) with the caller's credentials.
  std::string embeddings_deployment;
  double threshold = 0.9;  // lowest cosine similarity that counts as the same question
  std::size_t max_entries = 10'000;
  std::uint64_t max_bytes = std::uint64_t{64} << 20;
  // The embedding call's deadline; past it the cache steps aside and the backend answers.
  std::chrono::milliseconds timeout{2'000};
  int dimensions = 0;  // > 0: asked of the embeddings deployment (text-embedding-3 models)

  static SemanticSettings from_config(const core::ConfigNode& node);
};

struct CacheSettings {
  std::chrono::milliseconds ttl{std::chrono::minutes(5)};
  std::uint64_t max_bytes = std::uint64_t{64} << 20;  // whole store; least recently used go first
  std::uint64_t max_entry_bytes = std::uint64_t{1} << 20;  // larger answers are not kept
  std::vector<VaryPart> vary_by{VaryPart{}};  // default: the caller's app id; empty: none
  // Top-level body fields that never change the answer, left out of the key (on top of
  // `stream`, `stream_options` and `user`, which always are).
  std::vector<std::string> ignore_fields;
  // When not empty: only these top-level body fields form the key (everything else may differ).
  std::vector<std::string> match_fields;
  bool allow_sampling = false;    // also cache requests with temperature > 0 (or no temperature)
  bool allow_tool_calls = false;  // also keep answers that call tools
  // Where entries live: this process (memory), or a Redis server every gateway shares (redis:
  // its connection, timeouts, key prefix and on_failure, as the token limit's).
  enum class Store { kMemory, kRedis };
  Store store = Store::kMemory;
  token_limit::RedisSettings redis;
  SemanticSettings semantic;

  // Reads and validates the section (and finish()es it). Throws core::ConfigError.
  static CacheSettings from_config(const core::ConfigNode& node);
};

}  // namespace sluice::gateway::cache
