#include "gateway/admin.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "gateway/backend_state.hpp"
#include "gateway/console/console_access.hpp"
#include "gateway/console/console_settings.hpp"

namespace sluice::gateway {

namespace {

using http::Field;
using http::Status;

http::Response text_response(Status status, std::string content_type, std::string body) {
  http::Response response{status, 11};
  response.set(Field::content_type, content_type);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

int breaker_state_value(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return 0;
    case BreakerState::kHalfOpen:
      return 1;
    case BreakerState::kOpen:
      return 2;
  }
  return 0;
}

// Shortest form that reads back the same (42.5, not 42.500000): the figure as the backend sent it.
std::string prometheus_number(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

}  // namespace

std::string AdminHandler::metrics_text() const {
  auto runtime = source_.current();
  auto now = std::chrono::steady_clock::now();
  std::string out;
  out += "# HELP sluice_backend_in_flight Requests in flight to the backend.\n";
  out += "# TYPE sluice_backend_in_flight gauge\n";
  for (const auto& b : runtime->backends()) {
    out += "sluice_backend_in_flight{backend=\"" + b->settings.name + "\"} " +
           std::to_string(b->in_flight.load()) + "\n";
  }
  out += "# HELP sluice_backend_attempts_total Upstream attempts sent to the backend.\n";
  out += "# TYPE sluice_backend_attempts_total counter\n";
  for (const auto& b : runtime->backends()) {
    out += "sluice_backend_attempts_total{backend=\"" + b->settings.name + "\"} " +
           std::to_string(b->requests.load()) + "\n";
  }
  out += "# HELP sluice_backend_failures_total Failed upstream attempts (status or connection).\n";
  out += "# TYPE sluice_backend_failures_total counter\n";
  for (const auto& b : runtime->backends()) {
    out += "sluice_backend_failures_total{backend=\"" + b->settings.name + "\"} " +
           std::to_string(b->failures.load()) + "\n";
  }
  out +=
      "# HELP sluice_backend_breaker_state Circuit breaker state: 0 closed, 1 half-open, 2 open.\n";
  out += "# TYPE sluice_backend_breaker_state gauge\n";
  for (const auto& pool : runtime->pools()) {
    for (const auto& m : pool->members) {
      out += "sluice_backend_breaker_state{pool=\"" + pool->settings->name + "\",backend=\"" +
             m->backend->settings.name + "\"} " +
             std::to_string(breaker_state_value(m->breaker.state(now))) + "\n";
    }
  }
  out +=
      "# HELP sluice_backend_utilization_percent Utilisation the backend last reported "
      "(azure-openai-deployment-utilization), only while fresh.\n";
  out += "# TYPE sluice_backend_utilization_percent gauge\n";
  const auto wall_now = std::chrono::system_clock::now();
  for (const auto& b : runtime->backends()) {
    if (auto reading = b->utilization.fresh(wall_now)) {
      out += "sluice_backend_utilization_percent{backend=\"" + b->settings.name + "\"} " +
             prometheus_number(reading->percent) + "\n";
    }
  }
  if (metrics_) metrics_(out);
  return out;
}

http::Task<bool> AdminHandler::admin_route_allowed(http::Exchange& exchange) {
  auto settings = source_.current()->settings().console;
  if (!settings || !settings->protect_admin_routes) co_return true;
  auto refusal = co_await console::authorize(settings, exchange);
  if (!refusal) co_return true;
  co_await exchange.send(std::move(*refusal));
  co_return false;
}

http::Task<void> AdminHandler::handle(http::Exchange& exchange) {
  auto target = exchange.request().target();
  auto path = target.substr(0, target.find('?'));
  if (path == "/healthz") {
    co_await exchange.send(text_response(Status::ok, "text/plain", "ok\n"));
  } else if (path == "/readyz") {
    auto runtime = source_.current();
    auto now = std::chrono::steady_clock::now();
    std::string unready;
    for (const auto& pool : runtime->pools()) {
      bool any = false;
      for (const auto& m : pool->members) any = any || m->breaker.would_allow(now);
      if (!any) unready += (unready.empty() ? "" : ", ") + pool->settings->name;
    }
    if (draining_ && draining_()) {
      co_await exchange.send(
          text_response(Status::service_unavailable, "text/plain", "draining\n"));
    } else if (!unready.empty()) {
      co_await exchange.send(text_response(Status::service_unavailable, "text/plain",
                                           "no backend available in pool(s): " + unready + "\n"));
    } else {
      co_await exchange.send(text_response(Status::ok, "text/plain", "ready\n"));
    }
  } else if (path == "/admin/backends") {
    if (!co_await admin_route_allowed(exchange)) co_return;
    co_await exchange.send(
        text_response(Status::ok, "application/json",
                      boost::json::serialize(backend_state_json(*source_.current()))));
  } else if (path == "/metrics") {
    if (!co_await admin_route_allowed(exchange)) co_return;
    co_await exchange.send(
        text_response(Status::ok, "text/plain; version=0.0.4; charset=utf-8", metrics_text()));
  } else if (console::ConsoleHandler::serves(path)) {
    auto query = target.size() > path.size() ? target.substr(path.size() + 1) : target.substr(0, 0);
    co_await console_.handle(exchange, path, query);
  } else {
    co_await exchange.send(http::openai_error_response(Status::not_found, "not_found",
                                                       "Admin routes: /healthz, /readyz, "
                                                       "/admin/backends, /metrics, / (console)",
                                                       11));
  }
}

}  // namespace sluice::gateway
