#pragma once
// Settlements waiting to be sent to Redis, merged while a flush is queued. Settlements are off
// every request's critical path, so a burst of them can wait for one script call instead of
// costing one each: while a flush is queued on a connection, new ones are added to it; the
// connection takes them all when it writes the flush.
//
// Merging keeps the result exact: entries merge only when they name the same window key, bucket
// and quota key AND move the counters the same way. Refunds (negative) and charges (positive) are
// kept apart because the settle script treats them differently when their bucket has left the
// window (a refund is dropped, a charge moves to the current bucket) and clamps counters at zero;
// within one direction, one call with the sum does exactly what the calls one by one would do.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <tuple>
#include <vector>

namespace sluice::gateway::token_limit {

// One limit's settlement as the settle script takes it (redis_scripts.hpp).
struct SettleEntry {
  std::string window_key;
  std::string quota_key;
  std::int64_t bucket = 0;
  std::int64_t window_delta = 0;
  std::int64_t quota_delta = 0;
  std::int64_t quota_ttl_seconds = 0;
};

class SettlementCoalescer {
 public:
  using Done = std::function<void(bool ok, const std::string& error)>;

  struct Batch {
    std::vector<SettleEntry> entries;  // merged
    std::int64_t now_ms = 0;           // the latest time of the settlements in it
    std::vector<Done> dones;           // one per add() that passed a callback
    std::size_t settlements = 0;       // add() calls merged into it
  };

  // Adds the entries of one settlement (`done` optional, called with the flush's outcome). True
  // when no flush is queued: the caller must queue one, which calls take(). Any thread.
  bool add(std::span<const SettleEntry> entries, std::int64_t now_ms, Done done);

  // Everything added since the last take(); the next add() asks for a new flush. Any thread.
  Batch take();

 private:
  // window key, bucket, quota key, charge (true) or refund (false)
  using MergeKey = std::tuple<std::string, std::int64_t, std::string, bool>;

  std::mutex mutex_;
  bool flush_queued_ = false;
  std::map<MergeKey, std::size_t> index_;  // into pending_.entries
  Batch pending_;
};

}  // namespace sluice::gateway::token_limit
