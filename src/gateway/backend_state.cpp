#include "gateway/backend_state.hpp"

#include <boost/json.hpp>

namespace sluice::gateway {

boost::json::object backend_state_json(const Runtime& runtime) {
  auto now = std::chrono::steady_clock::now();
  boost::json::array backends;
  for (const auto& backend : runtime.backends()) {
    boost::json::object entry;
    entry["name"] = backend->settings.name;
    entry["url"] = backend->settings.url.origin() + backend->settings.url.path;
    // Where its connections go, password masked: a wrong proxy is a common cause of 502s.
    const auto& proxy = backend->settings.proxy;
    entry["proxy"] = proxy ? boost::json::value(proxy->display() + " (" + proxy->source + ")")
                           : boost::json::value(nullptr);
    entry["in_flight"] = backend->in_flight.load();
    entry["requests"] = backend->requests.load();
    entry["failures"] = backend->failures.load();
    entry["throttled"] = backend->throttled.load();
    entry["last_error"] = backend->last_error();
    boost::json::array pools;
    for (const auto& pool : runtime.pools()) {
      for (const auto& member : pool->members) {
        if (member->backend != backend.get()) continue;
        boost::json::object membership;
        membership["pool"] = pool->settings->name;
        membership["priority"] = member->priority;
        membership["weight"] = member->weight;
        membership["breaker"] = to_string(member->breaker.state(now));
        membership["breaker_trips"] = member->breaker.trips();
        membership["available"] = member->breaker.would_allow(now);
        if (member->breaker.state(now) == BreakerState::kOpen) {
          membership["open_for_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                          member->breaker.open_until() - now)
                                          .count();
        }
        pools.push_back(std::move(membership));
      }
    }
    entry["pools"] = std::move(pools);
    backends.push_back(std::move(entry));
  }
  boost::json::object body;
  body["backends"] = std::move(backends);
  return body;
}

}  // namespace sluice::gateway
