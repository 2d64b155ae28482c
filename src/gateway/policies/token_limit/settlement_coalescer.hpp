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
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace sluice::gateway::token_limit {

// One limit's settlement as the settle script takes it (redis_scripts.hpp), its keys as `Text`.
template <class Text>
struct BasicSettleEntry {
  Text window_key;
  Text quota_key;
  std::int64_t bucket = 0;
  std::int64_t window_delta = 0;
  std::int64_t quota_delta = 0;
  std::int64_t quota_ttl_seconds = 0;
};

// What add() takes: the keys are the caller's, valid for the call. A batch copies them only for an
// entry it did not have, so a settlement that merges makes no string at all (a request's
// settlement used to copy its two keys three times, ~700 instructions with the Redis limit).
using SettleEntry = BasicSettleEntry<std::string_view>;

class SettlementCoalescer {
 public:
  using Done = std::function<void(bool ok, const std::string& error)>;

  struct Batch {
    using Entry = BasicSettleEntry<std::string>;  // with its keys kept
    // Merged. A deque: the merge index views the keys of entries already in it, so they must
    // not move when one is added.
    std::deque<Entry> entries;
    std::int64_t now_ms = 0;      // the latest time of the settlements in it
    std::vector<Done> dones;      // one per add() that passed a callback
    std::size_t settlements = 0;  // add() calls merged into it
  };

  // Adds the entries of one settlement (`done` optional, called with the flush's outcome). True
  // when no flush is queued: the caller must queue one, which calls take(). Any thread.
  bool add(std::span<const SettleEntry> entries, std::int64_t now_ms, Done done);

  // Everything added since the last take(); the next add() asks for a new flush. Any thread.
  Batch take();

 private:
  // window key, bucket, quota key, charge (true) or refund (false); the keys view the entry's own
  using MergeKey = std::tuple<std::string_view, std::int64_t, std::string_view, bool>;

  std::mutex mutex_;
  bool flush_queued_ = false;
  std::map<MergeKey, std::size_t> index_;  // into pending_.entries
  Batch pending_;
};

}  // namespace sluice::gateway::token_limit
