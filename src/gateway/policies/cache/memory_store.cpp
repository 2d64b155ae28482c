#include "gateway/policies/cache/memory_store.hpp"

namespace sluice::gateway::cache {

namespace {
// Two list nodes, a hash node and the shared answer's control block, roughly.
constexpr std::uint64_t kEntryOverhead = 160;
}  // namespace

MemoryStore::MemoryStore(std::uint64_t max_bytes, CacheStats& stats)
    : max_bytes_(max_bytes), stats_(stats) {}

MemoryStore::~MemoryStore() {
  stats_.bytes.fetch_sub(static_cast<std::int64_t>(bytes_), std::memory_order_relaxed);
  stats_.entries.fetch_sub(static_cast<std::int64_t>(lru_.size()), std::memory_order_relaxed);
}

std::uint64_t MemoryStore::charge(const std::string& key, const CachedAnswer& answer) {
  return 2 * key.size() + answer.body.size() + answer.model.size() + kEntryOverhead;
}

std::shared_ptr<const CachedAnswer> MemoryStore::find(const std::string& key, Time now) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  auto entry = it->second;
  if (entry->expires_at <= now) {
    erase(entry);
    stats_.expirations.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, entry);
  return entry->answer;
}

bool MemoryStore::insert(const std::string& key, std::shared_ptr<const CachedAnswer> answer,
                         Time expires_at) {
  auto bytes = charge(key, *answer);
  if (bytes > max_bytes_) return false;
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) erase(it->second);
  while (bytes_ + bytes > max_bytes_ && !lru_.empty()) {
    auto coldest = std::prev(lru_.end());
    bool expired = coldest->expires_at <= answer->stored_at;
    erase(coldest);
    (expired ? stats_.expirations : stats_.evictions).fetch_add(1, std::memory_order_relaxed);
  }
  lru_.push_front(Entry{key, std::move(answer), expires_at, bytes});
  index_.emplace(key, lru_.begin());
  bytes_ += bytes;
  stats_.bytes.fetch_add(static_cast<std::int64_t>(bytes), std::memory_order_relaxed);
  stats_.entries.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void MemoryStore::erase(List::iterator it) {
  bytes_ -= it->bytes;
  stats_.bytes.fetch_sub(static_cast<std::int64_t>(it->bytes), std::memory_order_relaxed);
  stats_.entries.fetch_sub(1, std::memory_order_relaxed);
  index_.erase(it->key);
  lru_.erase(it);
}

std::uint64_t MemoryStore::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t MemoryStore::size() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

}  // namespace sluice::gateway::cache
