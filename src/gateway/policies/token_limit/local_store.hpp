#pragma once
// Token counters in this process: one sliding window and one quota counter per (limit name,
// counter key value).
//
// Concurrency: counters live in kShards hash maps, each behind its own mutex, picked by a hash of
// the counter's name. A request locks only the shards of its own counters, all of them together
// and in ascending shard order (so two requests never deadlock), checks every limit, and charges
// all or none. There is no global lock: requests of different callers meet only when their
// counters hash to the same shard.
//
// Idle counters (empty window, no quota usage left in a current period) are swept from a shard
// once the operations on it since the last sweep outnumber its counters (and at least
// kSweepEvery), so sweeping costs O(1) per operation amortized and a counter keyed by client IP
// does not grow forever.
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "gateway/policies/token_limit/reservation.hpp"
#include "gateway/policies/token_limit/sliding_window.hpp"

namespace sluice::gateway::token_limit {

class LocalStore {
 public:
  // Checks every charge and, only when all fit (judge()), charges every one of them. Atomic with
  // respect to any other reserve/settle touching the same counters. Any thread.
  ReserveResult reserve(std::span<const Charge> charges, const Instant& now);
  // Applies the settlements (each one atomic; they need not be applied together). Any thread.
  void settle(std::span<const Settlement> settlements, const Instant& now);
  // Number of counters held (for tests of the idle sweep). Any thread.
  std::size_t counters() const;

  // One counter as the operator console shows it.
  struct CounterUse {
    std::string limit;             // the limit's name
    std::string counter;           // the counter key's value (app id, key id, client IP, ...)
    std::int64_t window_used = 0;  // tokens in the sliding minute at `now`
    std::int64_t quota_used = 0;   // tokens of the current quota period (0 once it ended)
  };
  // Up to `max` counters with their use at `now`. Locks each shard in turn, briefly. Any thread.
  std::vector<CounterUse> usage(const Instant& now, std::size_t max) const;

 private:
  static constexpr std::size_t kShards = 64;
  static constexpr std::size_t kSweepEvery = 1024;

  struct Counter {
    SlidingWindow window;
    // The latest time this window was used at. Callers read the clock before they get the lock,
    // so a request may arrive with a time older than one already applied; it is treated as
    // happening at this time instead, or it could count buckets a later caller has already seen
    // leave the window.
    std::int64_t latest_ms = std::numeric_limits<std::int64_t>::min();
    std::int64_t period_start = 0;  // quota period of quota_used
    std::int64_t period_end = 0;
    std::int64_t quota_used = 0;
  };
  // A counter's name (the limit's name, '\x1f', the counter key's value) with its hash, worked out
  // once: it picks the shard and is the shard map's hash (hashing the name again for the map
  // cost ~75 instructions a look-up).
  struct CounterKey {
    std::string name;
    std::size_t hash = 0;
    bool operator==(const CounterKey& other) const { return name == other.name; }
  };
  struct CounterKeyHash {
    std::size_t operator()(const CounterKey& key) const noexcept { return key.hash; }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<CounterKey, Counter, CounterKeyHash> counters;
    std::size_t operations = 0;
  };

  static CounterKey counter_key(const LimitSpec& limit, const std::string& counter);
  static std::size_t shard_of(const CounterKey& key) { return key.hash % kShards; }
  // Rolls the quota over when `now` is in a later period than the counter's.
  static void roll_quota(Counter& counter, const PeriodBounds& period);
  // Called with the shard locked.
  void maybe_sweep(Shard& shard, const Instant& now);

  std::array<Shard, kShards> shards_;
};

}  // namespace sluice::gateway::token_limit
