#include "gateway/policies/identity/token_cache.hpp"

#include <vector>

namespace sluice::gateway::identity {

namespace {
// Policy instances a thread keeps caches for: the current config's one or two identity sections,
// plus a reload or two in flight.
constexpr std::size_t kOwnersPerThread = 8;
}  // namespace

std::shared_ptr<const Identity> TokenCache::find(std::string_view token, std::int64_t now,
                                                 std::uint64_t generation) {
  auto it = entries_.find(token);
  if (it == entries_.end()) return nullptr;
  if (now >= it->second.valid_until || it->second.generation != generation) {
    entries_.erase(it);
    return nullptr;
  }
  return it->second.identity;
}

void TokenCache::insert(std::string_view token, Entry entry, std::int64_t now) {
  if (capacity_ == 0) return;
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_, [now](const auto& item) { return now >= item.second.valid_until; });
    // Still full of live tokens: drop an eighth, so the sweep above is not repeated per insert.
    std::size_t drop = entries_.size() >= capacity_ ? std::max<std::size_t>(1, capacity_ / 8) : 0;
    for (auto it = entries_.begin(); drop > 0 && it != entries_.end(); --drop)
      it = entries_.erase(it);
  }
  entries_.insert_or_assign(std::string(token), std::move(entry));
}

TokenCache& thread_token_cache(std::uint64_t owner, std::size_t capacity) {
  thread_local std::vector<std::pair<std::uint64_t, std::unique_ptr<TokenCache>>> caches;
  for (auto& [id, cache] : caches) {
    if (id == owner) return *cache;
  }
  if (caches.size() >= kOwnersPerThread) caches.erase(caches.begin());
  caches.emplace_back(owner, std::make_unique<TokenCache>(capacity));
  return *caches.back().second;
}

}  // namespace sluice::gateway::identity
