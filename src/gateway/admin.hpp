#pragma once
// The admin listener: /healthz (alive), /readyz (every pool has a backend to send to),
// /admin/backends (state, breaker, in-flight, last error), /metrics (Prometheus text), and the
// operator console (`/`, /console/..., console/console_handler.hpp).
//
// /healthz and /readyz are always open (probes carry no credential). /admin/backends and /metrics
// are open too, as they always were, so scrapers keep working; with console.protect_admin_routes
// they need the console's admin credential (scrapers then send it as `api-key` or a bearer).
#include <functional>
#include <string>

#include "gateway/console/console_handler.hpp"
#include "gateway/proxy.hpp"
#include "sluice/http/server.hpp"

namespace sluice::gateway {

// Extra Prometheus text appended to /metrics (the metrics policy's registry, when configured).
using MetricsWriter = std::function<void(std::string& out)>;

class AdminHandler {
 public:
  AdminHandler(RuntimeSource& source, std::function<bool()> draining, MetricsWriter metrics,
               std::shared_ptr<console::TrafficRing> traffic, const console::ReloadStatus& reloads)
      : source_(source),
        draining_(std::move(draining)),
        metrics_(std::move(metrics)),
        console_(source, std::move(traffic), reloads) {}
  http::Task<void> handle(http::Exchange& exchange);

 private:
  std::string metrics_text() const;
  // Whether /admin/backends and /metrics may be answered; sends the refusal when not.
  http::Task<bool> admin_route_allowed(http::Exchange& exchange);

  RuntimeSource& source_;
  std::function<bool()> draining_;
  MetricsWriter metrics_;
  console::ConsoleHandler console_;
};

}  // namespace sluice::gateway
