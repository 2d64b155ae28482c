#pragma once
// The simulator's own record of what it served, per deployment and per client identity (API key
// name or token appid/azp), so tests can reconcile a gateway's records against the backend's.
// Only tokens actually sent count: a stream cut short counts the chunks that went out.
// Thread-safety: all methods from any thread (one mutex; updated once per request).
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace sluice::sim {

struct UsageCounters {
  std::uint64_t requests = 0;  // served (2xx) requests
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t throttled = 0;    // 429s
  std::uint64_t errors = 0;       // other non-2xx answers
  std::uint64_t streams_cut = 0;  // streams that ended early (fault or client gone)
};

enum class Outcome { kServed, kThrottled, kError };

class UsageLedger {
 public:
  void record(const std::string& deployment, const std::string& client, Outcome outcome,
              std::uint64_t prompt_tokens = 0, std::uint64_t completion_tokens = 0,
              bool stream_cut = false);
  // {"total":{…},"deployments":{"name":{…}},"clients":{"name":{…}}}
  std::string to_json() const;
  UsageCounters total() const;
  void reset();

 private:
  mutable std::mutex mu_;
  UsageCounters total_;
  std::map<std::string, UsageCounters> deployments_;
  std::map<std::string, UsageCounters> clients_;
};

}  // namespace sluice::sim
