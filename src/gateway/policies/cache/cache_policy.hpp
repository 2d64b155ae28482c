#pragma once
// `cache`: the response cache. A chat completion asked again (same route, deployment and
// partition, same body once normalised: request_key.hpp) within the TTL is answered from the
// store, as one body or as a re-chunked stream, without a backend. With `semantic` on, an exact
// miss embeds the last user message (through the gateway's own pool, its own usage record) and
// takes the stored answer of the most similar question of the same partition and conversation
// (semantic_index.hpp) above the threshold. docs/policies/cache.md is the user's reference.
//
//   policies:
//     cache:
//       ttl: 5m
//       max_bytes: 64MiB           # the store; least recently used entries go first
//       max_entry_bytes: 1MiB      # larger answers are not kept
//       vary_by: [app_id]          # app_id | api_key | client_ip | header:NAME | claim:NAME, or
//       none ignore_fields: [metadata]  # also left out of the key (stream, stream_options, user
//       always) match_fields: []           # when set, only these body fields form the key
//       allow_sampling: false      # also cache temperature > 0 (an absent temperature is 1)
//       allow_tool_calls: false    # also keep answers that call tools
//       store: memory              # or redis: shared by every gateway instance
//       redis: {url, timeout, connect_timeout, pool_size, key_prefix, on_failure, retry_interval}
//       semantic: {enabled, embeddings_deployment, threshold: 0.9, max_entries, max_bytes,
//                  timeout: 2s, dimensions}
//
// Phases: on_request (kCache, after identity and limits) looks the request up and answers a hit;
// a miss leaves a note, on_stream_event collects a streamed answer's chunks, and on_response_end
// keeps a 200 answer that finished cleanly. A hit sets RequestContext::cache, so the usage record
// says cache=exact with tokens_saved and no backend tokens, and the token limit charges it only
// if its charge_cache_hits says so.
//
// Threads: one object shared by all workers; the store is locked only around map updates.
#include <memory>

#include "gateway/policies/cache/cache_settings.hpp"
#include "gateway/policies/cache/memory_store.hpp"
#include "gateway/policies/cache/redis_answer_store.hpp"
#include "gateway/policies/cache/semantic_index.hpp"
#include "sluice/core/clock.hpp"
#include "sluice/core/config_node.hpp"
#include "sluice/gateway/policy.hpp"
#include "sluice/gateway/settings.hpp"
#include "sluice/usage/metric_registry.hpp"

namespace sluice::gateway {

class CachePolicy final : public Policy {
 public:
  // `clock` must outlive the policy; `keep_alive` holds the metric contributions;
  // `lookup_seconds` (optional) is the look-up latency histogram, variants memory and redis.
  CachePolicy(cache::CacheSettings settings, const core::Clock& clock,
              std::shared_ptr<void> keep_alive,
              std::shared_ptr<usage::MetricFamily> lookup_seconds = nullptr,
              std::shared_ptr<usage::MetricFamily> embedding_seconds = nullptr);

  std::string_view name() const override { return "cache"; }
  PhaseOrder phase_order() const override { return PhaseOrder::kCache; }
  http::Task<std::optional<http::Response>> on_request(RequestContext& context) override;
  bool observes_stream_events() const override { return true; }
  void on_stream_event(RequestContext& context, std::string_view data) override;
  void on_response_end(RequestContext& context, std::string_view body) override;

  const cache::MemoryStore& store() const { return store_; }

 private:
  struct Pending;  // a miss waiting for its answer

  std::string partition_of(const RequestContext& context) const;
  http::Response hit_response(RequestContext& context, const cache::CachedAnswer& answer,
                              std::string_view kind, double similarity);
  // The question's embedding through the gateway's own pipeline (its own usage record), as a
  // unit vector; nullopt when the call failed, timed out or answered no usable vector.
  http::Task<std::optional<std::vector<float>>> embed(RequestContext& context,
                                                      const std::string& text);

  cache::CacheSettings settings_;
  const core::Clock& clock_;
  cache::MemoryStore store_;
  std::unique_ptr<cache::RedisAnswerStore> redis_;  // store: redis
  std::unique_ptr<cache::SemanticIndex> semantic_;  // semantic: enabled
  std::shared_ptr<void> keep_alive_;
  std::shared_ptr<usage::MetricFamily> lookup_seconds_;
  std::shared_ptr<usage::MetricFamily> embedding_seconds_;
};

// Factory for PolicyRegistry: reads the `cache` section (throws core::ConfigError).
PolicyPtr make_cache_policy(const core::ConfigNode& section, PolicyServices& services);

}  // namespace sluice::gateway
