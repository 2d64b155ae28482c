#pragma once
// Counters of every cache policy in this process, monotonic across config reloads, exported as
// sluice_cache_* metrics (names declared in cache_policy.cpp, in one place).
#include <atomic>
#include <cstdint>

namespace sluice::gateway::cache {

struct CacheStats {
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> misses{0};
  // Requests the cache stepped aside for, by reason.
  std::atomic<std::uint64_t> bypass_no_store{0};           // Cache-Control: no-store
  std::atomic<std::uint64_t> bypass_sampling{0};           // temperature > 0 and allow_sampling off
  std::atomic<std::uint64_t> bypass_unparsable{0};         // a body the cache cannot normalise
  std::atomic<std::uint64_t> bypass_store_unavailable{0};  // Redis down, on_failure: fail_open
  std::atomic<std::uint64_t> store_failures{0};            // Redis look-ups and writes that failed
  std::atomic<std::uint64_t> stores{0};                    // answers kept
  std::atomic<std::uint64_t> not_stored{0};    // answers not kept (error, tool call, ...)
  std::atomic<std::uint64_t> evictions{0};     // removed to stay within max_bytes
  std::atomic<std::uint64_t> expirations{0};   // removed because their TTL ran out
  std::atomic<std::uint64_t> tokens_saved{0};  // total tokens of the answers served
  std::atomic<std::int64_t> bytes{0};          // held by every store, now
  std::atomic<std::int64_t> entries{0};

  // The semantic cache (semantic_index.hpp).
  std::atomic<std::uint64_t> semantic_hits{0};
  std::atomic<std::uint64_t> semantic_misses{0};
  std::atomic<std::uint64_t> semantic_stores{0};
  std::atomic<std::uint64_t> semantic_evictions{0};    // removed to stay within the bounds
  std::atomic<std::uint64_t> semantic_expirations{0};  // removed because their TTL ran out
  // Requests the semantic cache stepped aside for: no question to compare (no last user
  // message with text), or the embedding call failed (error status, timeout, unusable vector).
  std::atomic<std::uint64_t> semantic_bypass_no_question{0};
  std::atomic<std::uint64_t> semantic_embedding_failures{0};
  std::atomic<std::int64_t> semantic_bytes{0};
  std::atomic<std::int64_t> semantic_entries{0};
};

// The process-wide counters. Any thread.
CacheStats& cache_stats();

}  // namespace sluice::gateway::cache
