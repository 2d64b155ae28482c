#include <boost/json.hpp>

#include "gateway/console/console_views.hpp"

namespace sluice::gateway::console {

namespace {

boost::json::object per_name(const std::map<std::string, std::vector<TrafficCounts>>& series) {
  boost::json::object out;
  for (const auto& [name, minutes] : series) {
    boost::json::array requests, tokens, errors;
    for (const auto& m : minutes) {
      requests.push_back(m.requests);
      tokens.push_back(m.total_tokens);
      errors.push_back(m.errors);
    }
    boost::json::object entry;
    entry["requests"] = std::move(requests);
    entry["tokens"] = std::move(tokens);
    entry["errors"] = std::move(errors);
    out[name] = std::move(entry);
  }
  return out;
}

}  // namespace

boost::json::object traffic_view(const TrafficRing* traffic, std::int64_t now_minute, int minutes) {
  TrafficSeries series;
  if (traffic) series = traffic->snapshot(now_minute, minutes);
  boost::json::object view;
  boost::json::array epoch_minutes;
  for (auto m : series.minutes) epoch_minutes.push_back(m);
  view["minutes"] = std::move(epoch_minutes);
  view["apps"] = per_name(series.by_app);
  view["deployments"] = per_name(series.by_deployment);
  std::int64_t requests = 0, tokens = 0;
  for (const auto& [name, per_minute] : series.by_app) {
    for (const auto& m : per_minute) {
      requests += m.requests;
      tokens += m.total_tokens;
    }
  }
  view["total_requests"] = requests;
  view["total_tokens"] = tokens;
  view["kept"] = traffic != nullptr;
  return view;
}

}  // namespace sluice::gateway::console
