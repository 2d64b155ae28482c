#include "gateway/policies/token_limit/local_store.hpp"

#include <algorithm>
#include <functional>
#include <vector>

#include <boost/container/small_vector.hpp>

namespace sluice::gateway::token_limit {

namespace {

std::int64_t wall_seconds(const Instant& now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.wall.time_since_epoch()).count();
}

}  // namespace

LocalStore::CounterKey LocalStore::counter_key(const LimitSpec& limit, const std::string& counter) {
  CounterKey key;
  key.name.reserve(limit.name.size() + 1 + counter.size());
  key.name.append(limit.name).push_back('\x1f');
  key.name.append(counter);
  key.hash = std::hash<std::string>{}(key.name);
  return key;
}

void LocalStore::roll_quota(Counter& counter, const PeriodBounds& period) {
  // A wall clock stepped back keeps the later period's count rather than resetting it.
  if (period.start > counter.period_start) {
    counter.period_start = period.start;
    counter.period_end = period.end;
    counter.quota_used = 0;
  }
}

void LocalStore::maybe_sweep(Shard& shard, const Instant& now) {
  if (++shard.operations < std::max(kSweepEvery, shard.counters.size())) return;
  shard.operations = 0;
  std::int64_t wall = wall_seconds(now);
  std::erase_if(shard.counters, [&](const auto& entry) {
    const Counter& counter = entry.second;
    bool quota_idle = counter.quota_used == 0 || counter.period_end <= wall;
    return quota_idle && counter.window.empty(now.window_ms);
  });
}

ReserveResult LocalStore::reserve(std::span<const Charge> charges, const Instant& now) {
  ReserveResult result;
  result.standing.resize(charges.size());

  // Small inline vectors: a request has one or two charges, and these were four allocations
  // a request.
  boost::container::small_vector<CounterKey, 4> keys;
  boost::container::small_vector<std::size_t, 4> shards;  // per charge
  boost::container::small_vector<std::size_t, 4> order;   // shard indices, ascending and unique
  for (const auto& charge : charges) {
    keys.push_back(counter_key(*charge.limit, charge.counter));
    shards.push_back(shard_of(keys.back()));
  }
  order.assign(shards.begin(), shards.end());
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  boost::container::small_vector<std::unique_lock<std::mutex>, 4> locks;
  for (std::size_t index : order) locks.emplace_back(shards_[index].mutex);

  boost::container::small_vector<Counter*, 4> counters(charges.size());
  std::int64_t window_ms = now.window_ms;  // never older than a time the windows have seen
  for (std::size_t i = 0; i < charges.size(); ++i) {
    counters[i] = &shards_[shards[i]].counters[keys[i]];
    window_ms = std::max(window_ms, counters[i]->latest_ms);
  }
  result.bucket = bucket_of(window_ms);
  for (std::size_t i = 0; i < charges.size(); ++i) {
    const LimitSpec& limit = *charges[i].limit;
    Counter& counter = *counters[i];
    counter.latest_ms = window_ms;
    Standing& standing = result.standing[i];
    if (limit.tokens_per_minute > 0) {
      standing.window_used = counter.window.used(window_ms);
      // The wait is only worth working out when the request does not fit now (0 when it does).
      const std::int64_t need = needed(charges[i]);
      if (standing.window_used + need > limit.tokens_per_minute) {
        standing.wait_ms = counter.window.wait_ms(window_ms, need, limit.tokens_per_minute);
      }
    }
    if (limit.token_quota > 0) {
      standing.period = period_bounds(limit.token_quota_period, now.wall);
      roll_quota(counter, standing.period);
      standing.quota_used = counter.quota_used;
    }
  }
  judge(charges, result);
  if (result.admitted) {
    for (std::size_t i = 0; i < charges.size(); ++i) {
      const LimitSpec& limit = *charges[i].limit;
      Standing& standing = result.standing[i];
      if (limit.tokens_per_minute > 0 && charges[i].tokens > 0) {
        counters[i]->window.add(result.bucket, charges[i].tokens, window_ms);
        standing.window_used += charges[i].tokens;
      }
      if (limit.token_quota > 0 && charges[i].tokens > 0) {
        counters[i]->quota_used += charges[i].tokens;
        standing.quota_used += charges[i].tokens;
      }
    }
  }
  for (std::size_t index : order) maybe_sweep(shards_[index], now);
  return result;
}

void LocalStore::settle(std::span<const Settlement> settlements, const Instant& now) {
  for (const auto& settlement : settlements) {
    if (settlement.delta == 0) continue;
    const LimitSpec& limit = *settlement.limit;
    CounterKey key = counter_key(limit, settlement.counter);
    Shard& shard = shards_[shard_of(key)];
    std::lock_guard lock(shard.mutex);
    auto it = shard.counters.find(key);
    if (it == shard.counters.end()) {
      if (settlement.delta < 0) continue;  // swept: nothing left to release
      it = shard.counters.emplace(std::move(key), Counter{}).first;
    }
    Counter& counter = it->second;
    counter.latest_ms = std::max(counter.latest_ms, now.window_ms);
    if (limit.tokens_per_minute > 0) {
      counter.window.add(settlement.bucket, settlement.delta, counter.latest_ms);
    }
    if (limit.token_quota > 0) {
      auto period = period_bounds(limit.token_quota_period, now.wall);
      roll_quota(counter, period);
      if (counter.period_start == settlement.period_start) {
        counter.quota_used = std::max<std::int64_t>(0, counter.quota_used + settlement.delta);
      } else if (settlement.delta > 0) {
        // The request ran into the next period: what it used beyond its reservation counts now.
        counter.quota_used += settlement.delta;
      }
    }
  }
}

std::vector<LocalStore::CounterUse> LocalStore::usage(const Instant& now, std::size_t max) const {
  std::vector<CounterUse> out;
  const std::int64_t wall = wall_seconds(now);
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (const auto& [key, counter] : shard.counters) {
      if (out.size() >= max) return out;
      const std::string& name = key.name;
      auto separator = name.find('\x1f');
      CounterUse use;
      use.limit = name.substr(0, separator);
      use.counter = separator == std::string::npos ? std::string() : name.substr(separator + 1);
      use.window_used = counter.window.used(now.window_ms);
      use.quota_used = wall < counter.period_end ? counter.quota_used : 0;
      out.push_back(std::move(use));
    }
  }
  return out;
}

std::size_t LocalStore::counters() const {
  std::size_t total = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.counters.size();
  }
  return total;
}

}  // namespace sluice::gateway::token_limit
