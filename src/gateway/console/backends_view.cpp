#include <boost/json.hpp>

#include "gateway/backend_state.hpp"
#include "gateway/console/console_views.hpp"

namespace sluice::gateway::console {

boost::json::object backends_view(const Runtime& runtime, const TrafficRing* traffic,
                                  std::int64_t now_minute) {
  auto view = backend_state_json(runtime);
  TrafficSeries series;
  if (traffic) series = traffic->snapshot(now_minute, kRecentMinutes);
  for (auto& entry : view["backends"].as_array()) {
    auto& backend = entry.as_object();
    BackendCounts sum;
    if (auto it = series.by_backend.find(std::string(backend["name"].as_string()));
        it != series.by_backend.end()) {
      for (const auto& minute : it->second) {
        sum.attempts += minute.attempts;
        sum.throttled += minute.throttled;
        sum.server_errors += minute.server_errors;
        sum.failovers += minute.failovers;
      }
    }
    boost::json::object recent;
    recent["minutes"] = kRecentMinutes;
    recent["attempts"] = sum.attempts;
    recent["throttled"] = sum.throttled;
    recent["server_errors"] = sum.server_errors;
    recent["failovers"] = sum.failovers;
    backend["recent"] = std::move(recent);
    // The gateway does not read a utilisation figure from backend responses yet.
    backend["utilization"] = nullptr;
  }
  view["recent_source"] = traffic ? "usage records" : "not kept";
  return view;
}

}  // namespace sluice::gateway::console
