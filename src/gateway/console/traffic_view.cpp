#include <boost/json.hpp>

#include <set>

#include "gateway/console/console_views.hpp"
#include "gateway/policies/token_limit/token_limit_policy.hpp"

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

// Every token_limit policy of the running config (top level and routes), each once.
std::vector<const TokenLimitPolicy*> token_limit_policies(const Runtime& runtime) {
  std::vector<const TokenLimitPolicy*> out;
  std::set<const Policy*> seen;
  auto add = [&](const std::vector<PolicyPtr>& policies) {
    for (const auto& p : policies) {
      if (!seen.insert(p.get()).second) continue;
      if (const auto* limit = dynamic_cast<const TokenLimitPolicy*>(p.get())) out.push_back(limit);
    }
  };
  add(runtime.settings().global_policies);
  for (const auto& route : runtime.settings().routes) add(route.policies);
  return out;
}

boost::json::value remaining(std::int64_t limit, std::int64_t used) {
  if (limit <= 0) return nullptr;  // no such limit
  return std::max<std::int64_t>(0, limit - used);
}

boost::json::array headroom(const Runtime& runtime) {
  boost::json::array rows;
  for (const auto* policy : token_limit_policies(runtime)) {
    for (const auto& h : policy->headroom(kMaxHeadroomRows - rows.size())) {
      boost::json::object row;
      row["limit"] = h.limit;
      row["key"] = h.counter;
      row["tokens_per_minute"] = h.tokens_per_minute;
      row["used_this_minute"] = h.window_used;
      row["remaining_this_minute"] = remaining(h.tokens_per_minute, h.window_used);
      row["token_quota"] = h.token_quota;
      row["quota_used"] = h.quota_used;
      row["quota_remaining"] = remaining(h.token_quota, h.quota_used);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace

boost::json::object traffic_view(const Runtime& runtime, const TrafficRing* traffic,
                                 std::int64_t now_minute, int minutes) {
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
  view["limits"] = headroom(runtime);
  return view;
}

}  // namespace sluice::gateway::console
