#pragma once
// The semantic cache's store: answers indexed by the embedding of the question they answered,
// one HNSW graph (hnswlib, inner product on unit vectors = cosine) per partition, so a look-up
// only ever sees answers of its own partition (caller, route, deployment, conversation so far).
//
// Bounded in entries and bytes across partitions: when a new entry does not fit, the oldest go
// first (with one TTL for all, the oldest are also the first to expire). An expired entry is
// marked deleted in its graph when a look-up meets it or when it reaches the old end; its slot is
// reused by the partition's next entry, and a partition left empty is freed whole.
//
// Threads: one index is shared by every worker; one mutex guards it (hnswlib's search keeps
// counters it does not lock). A look-up at 100,000 entries takes well under a millisecond
// (bench/gateway/cache.sh).
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "gateway/policies/cache/cache_stats.hpp"
#include "gateway/policies/cache/memory_store.hpp"

namespace sluice::gateway::cache {

struct SemanticMatch {
  std::shared_ptr<const CachedAnswer> answer;
  double similarity = 0;  // cosine similarity of the question to the stored one
};

class SemanticIndex {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // `stats` must outlive the index; its semantic gauges follow this index's content.
  SemanticIndex(std::size_t max_entries, std::uint64_t max_bytes, CacheStats& stats);
  ~SemanticIndex();
  SemanticIndex(const SemanticIndex&) = delete;
  SemanticIndex& operator=(const SemanticIndex&) = delete;

  // The live answer of `partition` most similar to `vector` (unit length) if its similarity is at
  // least `threshold`. A vector of another size than the partition's finds nothing.
  std::optional<SemanticMatch> find(const std::string& partition, std::span<const float> vector,
                                    double threshold, Time now);
  // Keeps `answer` under `vector` in `partition` until `expires_at`, making room by removing the
  // oldest entries. Returns false (nothing kept) when the entry alone exceeds the byte bound or
  // its vector's size differs from the partition's.
  bool insert(const std::string& partition, std::span<const float> vector,
              std::shared_ptr<const CachedAnswer> answer, Time expires_at);

  std::size_t size() const;
  std::uint64_t bytes() const;

  // The bytes an entry is charged: its answer, its vector and its place in the graph.
  static std::uint64_t charge(std::size_t dimensions, const CachedAnswer& answer);

 private:
  struct Partition;
  struct Age {  // one entry in age order
    Partition* partition;
    std::size_t label;
  };
  using AgeList = std::list<Age>;
  struct Entry {
    std::shared_ptr<const CachedAnswer> answer;
    Time expires_at;
    std::uint64_t bytes = 0;
    AgeList::iterator age;
  };

  void remove(Partition& partition, std::size_t label, bool expired);  // with mutex_ held
  void remove_oldest(Time now);                                        // with mutex_ held

  const std::size_t max_entries_;
  const std::uint64_t max_bytes_;
  CacheStats& stats_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Partition>> partitions_;
  AgeList oldest_first_;
  std::size_t entries_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace sluice::gateway::cache
