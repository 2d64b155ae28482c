#pragma once
// The in-process store of the exact cache: entries by key, each with its expiry, within a byte
// bound; when a new entry does not fit, the least recently used ones go first. Expired entries
// go when they are next looked up or reach the cold end of the list.
//
// Threads: one store is shared by every worker of the policy that owns it; one mutex guards it,
// held only for map and list updates (answers are shared, never copied, under the lock).
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "gateway/policies/cache/cache_stats.hpp"

namespace sluice::gateway::cache {

// One kept answer: a chat.completion JSON body, whether it came from a stream or not.
struct CachedAnswer {
  std::string body;
  std::int64_t total_tokens = 0;  // what it cost when it was made
  std::string model;
  std::chrono::steady_clock::time_point stored_at;
};

class MemoryStore {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // `stats` must outlive the store; its bytes and entries gauges follow this store's content.
  MemoryStore(std::uint64_t max_bytes, CacheStats& stats);
  ~MemoryStore();
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // The live answer under `key`, now the most recently used; null when absent or expired.
  std::shared_ptr<const CachedAnswer> find(const std::string& key, Time now);
  // Keeps `answer` under `key` until `expires_at`, replacing what was there, evicting the least
  // recently used entries until it fits. Returns false (nothing kept) when it alone exceeds the
  // bound.
  bool insert(const std::string& key, std::shared_ptr<const CachedAnswer> answer, Time expires_at);

  std::uint64_t bytes() const;
  std::size_t size() const;

  // The bytes an entry is charged: key, body, model and the bookkeeping around them.
  static std::uint64_t charge(const std::string& key, const CachedAnswer& answer);

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const CachedAnswer> answer;
    Time expires_at;
    std::uint64_t bytes = 0;
  };
  using List = std::list<Entry>;

  void erase(List::iterator it);  // with mutex_ held

  const std::uint64_t max_bytes_;
  CacheStats& stats_;
  mutable std::mutex mutex_;
  List lru_;  // most recently used first
  std::unordered_map<std::string, List::iterator> index_;
  std::uint64_t bytes_ = 0;
};

}  // namespace sluice::gateway::cache
