#include <chrono>

#include <boost/json.hpp>

#include "gateway/console/console_views.hpp"

namespace sluice::gateway::console {

namespace {
std::int64_t epoch_ms(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}
}  // namespace

boost::json::object config_view(const ConsoleSettings& settings, const ReloadStatus& reloads) {
  boost::json::object view;
  view["source"] = settings.config_source;
  view["loaded_at_ms"] = epoch_ms(settings.loaded_at);
  view["config"] = boost::json::parse(settings.masked_config);
  if (auto last = reloads.last()) {
    boost::json::object reload;
    reload["at_ms"] = epoch_ms(last->at);
    reload["ok"] = last->ok;
    reload["error"] = last->error;
    view["last_reload"] = std::move(reload);
  } else {
    view["last_reload"] = nullptr;
  }
  return view;
}

}  // namespace sluice::gateway::console
