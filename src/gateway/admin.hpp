#pragma once
// The admin listener: /healthz (alive), /readyz (every pool has a backend to send to),
// /admin/backends (state, breaker, in-flight, last error), /metrics (Prometheus text).
#include <functional>
#include <string>

#include "gateway/proxy.hpp"
#include "sluice/http/server.hpp"

namespace sluice::gateway {

// Extra Prometheus text appended to /metrics (the metrics policy's registry, when configured).
using MetricsWriter = std::function<void(std::string& out)>;

class AdminHandler {
 public:
  AdminHandler(RuntimeSource& source, std::function<bool()> draining, MetricsWriter metrics)
      : source_(source), draining_(std::move(draining)), metrics_(std::move(metrics)) {}
  http::Task<void> handle(http::Exchange& exchange);

 private:
  std::string backends_json() const;
  std::string metrics_text() const;

  RuntimeSource& source_;
  std::function<bool()> draining_;
  MetricsWriter metrics_;
};

}  // namespace sluice::gateway
