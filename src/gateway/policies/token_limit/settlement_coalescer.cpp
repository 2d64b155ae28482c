#include "gateway/policies/token_limit/settlement_coalescer.hpp"

#include <algorithm>

namespace sluice::gateway::token_limit {

bool SettlementCoalescer::add(std::span<const SettleEntry> entries, std::int64_t now_ms,
                              Done done) {
  std::lock_guard lock(mutex_);
  for (const auto& entry : entries) {
    bool charge = entry.window_delta > 0 || (entry.window_delta == 0 && entry.quota_delta > 0);
    auto it = index_.find(MergeKey{entry.window_key, entry.bucket, entry.quota_key, charge});
    if (it == index_.end()) {
      const auto& kept = pending_.entries.emplace_back(
          Batch::Entry{std::string(entry.window_key), std::string(entry.quota_key), entry.bucket,
                       entry.window_delta, entry.quota_delta, entry.quota_ttl_seconds});
      index_.emplace(MergeKey{kept.window_key, kept.bucket, kept.quota_key, charge},
                     pending_.entries.size() - 1);
      continue;
    }
    Batch::Entry& merged = pending_.entries[it->second];
    merged.window_delta += entry.window_delta;
    merged.quota_delta += entry.quota_delta;
    merged.quota_ttl_seconds = std::max(merged.quota_ttl_seconds, entry.quota_ttl_seconds);
  }
  pending_.now_ms = std::max(pending_.now_ms, now_ms);
  if (done) pending_.dones.push_back(std::move(done));
  ++pending_.settlements;
  if (flush_queued_) return false;
  flush_queued_ = true;
  return true;
}

SettlementCoalescer::Batch SettlementCoalescer::take() {
  std::lock_guard lock(mutex_);
  Batch batch = std::move(pending_);
  pending_ = Batch{};
  index_.clear();
  flush_queued_ = false;
  return batch;
}

}  // namespace sluice::gateway::token_limit
