#include <chrono>

#include <boost/json.hpp>

#include "gateway/backend_state.hpp"
#include "gateway/console/console_views.hpp"

namespace sluice::gateway::console {

boost::json::object backends_view(const Runtime& runtime, const TrafficRing* traffic,
                                  std::int64_t now_minute) {
  auto view = backend_state_json(runtime);
  const auto now = std::chrono::system_clock::now();
  // backend_state_json lists the runtime's backends in order: the same index is the same backend.
  std::size_t index = 0;
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
    const auto& runtime_backend = *runtime.backends()[index++];
    if (auto reading = runtime_backend.utilization.fresh(now)) {
      boost::json::object utilization;
      utilization["percent"] = reading->percent;
      utilization["age_ms"] = reading->age.count();
      backend["utilization"] = std::move(utilization);
    } else {
      backend["utilization"] = nullptr;  // never reported, or not within kUtilizationFreshFor
    }
  }
  view["recent_source"] = traffic ? "usage records" : "not kept";
  return view;
}

}  // namespace sluice::gateway::console
