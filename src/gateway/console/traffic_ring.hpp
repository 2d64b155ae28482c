#pragma once
// The console's last hour of traffic: per wall-clock minute, requests and tokens per app and per
// deployment, and per backend the upstream attempts, 429s, 5xx and failovers. Fed once per request
// where its usage record is made (the usage policy), so the charts count exactly what the usage
// store will hold; read by the console's JSON API.
//
// Sixty slots indexed by minute % 60; a slot whose minute is stale is cleared when a newer minute
// writes to it, so nothing ages out on a timer. Each slot keeps at most kMaxKeysPerSlot distinct
// names per dimension; more are summed under kOtherKey, so a flood of app ids cannot grow memory.
//
// Threads: record() on any worker, snapshot() on the admin listener; one mutex, held for a few map
// updates per request (the request path never waits on I/O here).
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::gateway::console {

struct TrafficCounts {
  std::int64_t requests = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  std::int64_t errors = 0;  // answered with status >= 400
};

struct BackendCounts {
  std::int64_t attempts = 0;
  std::int64_t throttled = 0;      // attempts answered 429
  std::int64_t server_errors = 0;  // attempts answered 5xx or with no response
  std::int64_t failovers = 0;      // failed attempts after which another backend was tried
};

// One request as the ring needs it (built from the request's context by the usage policy).
struct TrafficSample {
  std::int64_t epoch_minute = 0;  // completed_at in minutes since the Unix epoch
  std::string_view app;
  std::string_view deployment;
  int status = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  struct Attempt {
    std::string_view backend;
    unsigned status = 0;  // 0: no HTTP response
  };
  std::vector<Attempt> attempts;
};

struct TrafficSeries {
  std::vector<std::int64_t> minutes;  // oldest first, one per minute, ending at the newest
  // name → one entry per element of `minutes`
  std::map<std::string, std::vector<TrafficCounts>> by_app;
  std::map<std::string, std::vector<TrafficCounts>> by_deployment;
  std::map<std::string, std::vector<BackendCounts>> by_backend;
};

class TrafficRing {
 public:
  static constexpr int kMinutes = 60;
  static constexpr std::size_t kMaxKeysPerSlot = 256;
  static constexpr std::string_view kOtherKey = "(other)";

  void record(const TrafficSample& sample);
  // The `minutes` minutes ending at `now_minute` (1..kMinutes), zeros where nothing happened.
  TrafficSeries snapshot(std::int64_t now_minute, int minutes = kMinutes) const;

  // Minutes since the Unix epoch of the system clock now.
  static std::int64_t current_minute();

 private:
  struct Slot {
    std::int64_t minute = -1;
    std::map<std::string, TrafficCounts, std::less<>> by_app;
    std::map<std::string, TrafficCounts, std::less<>> by_deployment;
    std::map<std::string, BackendCounts, std::less<>> by_backend;
  };

  mutable std::mutex mutex_;
  std::array<Slot, kMinutes> slots_;
};

}  // namespace sluice::gateway::console
