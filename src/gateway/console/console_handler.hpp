#pragma once
// The console on the admin listener:
//   /                      the page (static, no admin data: it asks for a credential)
//   /console/console.js    its script;  /console/console.css  its style
//   /console/api/backends  /console/api/traffic  /console/api/chargeback[?format=csv]
//   /console/api/prompts   /console/api/config   /console/api/whoami
// Every /console/api/ route first passes authorize() (console_access.hpp).
#include <memory>
#include <string_view>

#include "gateway/console/reload_status.hpp"
#include "gateway/console/traffic_ring.hpp"
#include "gateway/proxy.hpp"
#include "sluice/http/server.hpp"

namespace sluice::gateway::console {

class ConsoleHandler {
 public:
  ConsoleHandler(RuntimeSource& source, std::shared_ptr<TrafficRing> traffic,
                 const ReloadStatus& reloads)
      : source_(source), traffic_(std::move(traffic)), reloads_(reloads) {}

  // Whether `path` is one of the console's routes.
  static bool serves(std::string_view path);
  // Answers a request whose path serves() accepted. Admin listener threads.
  http::Task<void> handle(http::Exchange& exchange, std::string_view path, std::string_view query);

 private:
  RuntimeSource& source_;
  std::shared_ptr<TrafficRing> traffic_;
  const ReloadStatus& reloads_;
};

}  // namespace sluice::gateway::console
