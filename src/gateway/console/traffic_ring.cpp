#include "gateway/console/traffic_ring.hpp"

#include <chrono>

namespace sluice::gateway::console {

namespace {

// The entry for `name` in a slot's map, or the shared overflow entry once the map is full.
template <class Counts>
Counts& entry(std::map<std::string, Counts, std::less<>>& map, std::string_view name) {
  if (name.empty()) name = "(none)";
  if (auto it = map.find(name); it != map.end()) return it->second;
  if (map.size() >= TrafficRing::kMaxKeysPerSlot) {
    return map[std::string(TrafficRing::kOtherKey)];
  }
  return map.emplace(std::string(name), Counts{}).first->second;
}

void add(TrafficCounts& to, const TrafficSample& sample) {
  to.requests += 1;
  to.prompt_tokens += sample.prompt_tokens;
  to.completion_tokens += sample.completion_tokens;
  to.total_tokens += sample.total_tokens;
  if (sample.status >= 400) to.errors += 1;
}

template <class Counts>
void copy_into(const std::map<std::string, Counts, std::less<>>& from,
               std::map<std::string, std::vector<Counts>>& to, std::size_t index,
               std::size_t length) {
  for (const auto& [name, counts] : from) {
    auto& series = to[name];
    if (series.empty()) series.resize(length);
    series[index] = counts;
  }
}

}  // namespace

std::int64_t TrafficRing::current_minute() {
  return std::chrono::duration_cast<std::chrono::minutes>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void TrafficRing::record(const TrafficSample& sample) {
  std::lock_guard lock(mutex_);
  Slot& slot = slots_[static_cast<std::size_t>(sample.epoch_minute % kMinutes)];
  if (slot.minute > sample.epoch_minute) return;  // older than the hour the ring holds
  if (slot.minute != sample.epoch_minute) {
    slot = Slot{};
    slot.minute = sample.epoch_minute;
  }
  add(entry(slot.by_app, sample.app), sample);
  add(entry(slot.by_deployment, sample.deployment), sample);
  for (std::size_t i = 0; i < sample.attempts.size(); ++i) {
    const auto& attempt = sample.attempts[i];
    auto& counts = entry(slot.by_backend, attempt.backend);
    counts.attempts += 1;
    bool failed = attempt.status == 0 || attempt.status == 429 || attempt.status >= 500;
    if (attempt.status == 429) counts.throttled += 1;
    if (attempt.status == 0 || attempt.status >= 500) counts.server_errors += 1;
    if (failed && i + 1 < sample.attempts.size()) counts.failovers += 1;
  }
}

TrafficSeries TrafficRing::snapshot(std::int64_t now_minute, int minutes) const {
  if (minutes < 1) minutes = 1;
  if (minutes > kMinutes) minutes = kMinutes;
  TrafficSeries series;
  const auto length = static_cast<std::size_t>(minutes);
  for (std::size_t i = 0; i < length; ++i) {
    series.minutes.push_back(now_minute - static_cast<std::int64_t>(length - 1 - i));
  }
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < length; ++i) {
    const Slot& slot = slots_[static_cast<std::size_t>(series.minutes[i] % kMinutes)];
    if (slot.minute != series.minutes[i]) continue;
    copy_into(slot.by_app, series.by_app, i, length);
    copy_into(slot.by_deployment, series.by_deployment, i, length);
    copy_into(slot.by_backend, series.by_backend, i, length);
  }
  return series;
}

}  // namespace sluice::gateway::console
