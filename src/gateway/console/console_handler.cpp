#include "gateway/console/console_handler.hpp"

#include <boost/json.hpp>

#include "gateway/console/console_access.hpp"
#include "gateway/console/console_assets.hpp"
#include "gateway/console/console_response.hpp"
#include "gateway/console/console_views.hpp"
#include "sluice/gateway/request_context.hpp"

namespace sluice::gateway::console {

namespace {

constexpr std::string_view kApiPrefix = "/console/api/";
// Named, not literals inside co_await expressions: GCC 12 mis-compiles string literals passed in a
// coroutine's co_await ("array used as initializer").
constexpr std::string_view kNotFound = "not_found";
constexpr std::string_view kRoutes =
    "Console routes: /, /console/api/{backends, traffic, chargeback, prompts, config, whoami}";
constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kJavaScript = "text/javascript; charset=utf-8";
constexpr std::string_view kCss = "text/css; charset=utf-8";

http::Response json_response(const boost::json::object& body, unsigned version) {
  return console_response(http::Status::ok, "application/json", boost::json::serialize(body),
                          version);
}

std::string attachment(const std::string& name) {
  return "attachment; filename=\"" + name + "\"";
}

}  // namespace

bool ConsoleHandler::serves(std::string_view path) {
  return path == "/" || path == "/console" || path.starts_with("/console/");
}

http::Task<void> ConsoleHandler::handle(http::Exchange& exchange, std::string_view path,
                                        std::string_view query) {
  const unsigned version = exchange.request().version();
  if (path == "/" || path == "/console" || path == "/console/") {
    co_await exchange.send(
        console_response(http::Status::ok, kHtml, std::string(kConsoleHtml), version));
    co_return;
  }
  if (path == "/console/console.js") {
    co_await exchange.send(
        console_response(http::Status::ok, kJavaScript, std::string(kConsoleScript), version));
    co_return;
  }
  if (path == "/console/console.css") {
    co_await exchange.send(
        console_response(http::Status::ok, kCss, std::string(kConsoleStyle), version));
    co_return;
  }
  if (!path.starts_with(kApiPrefix)) {
    co_await exchange.send(console_error(http::Status::not_found, kNotFound, kRoutes, version));
    co_return;
  }

  auto runtime = source_.current();
  auto settings = runtime->settings().console;
  // Copies: the path and query views point into the request, which outlives this coroutine, but
  // the check below may suspend and keeping plain strings makes that obviously safe.
  const std::string view(path.substr(kApiPrefix.size()));
  const std::string params(query);
  if (auto refusal = co_await authorize(settings, exchange)) {
    co_await exchange.send(std::move(*refusal));
    co_return;
  }

  const auto now_minute = TrafficRing::current_minute();
  if (view == "backends") {
    co_await exchange.send(
        json_response(backends_view(*runtime, traffic_.get(), now_minute), version));
  } else if (view == "traffic") {
    co_await exchange.send(json_response(
        traffic_view(*runtime, traffic_.get(), now_minute, TrafficRing::kMinutes), version));
  } else if (view == "config") {
    co_await exchange.send(json_response(config_view(*settings, reloads_), version));
  } else if (view == "whoami") {
    boost::json::object ok;
    ok["ok"] = true;
    co_await exchange.send(json_response(ok, version));
  } else if (view == "chargeback" || view == "prompts") {
    auto reply =
        view == "chargeback" ? chargeback_view(*settings, params) : prompts_view(*settings, params);
    auto response =
        console_response(reply.status, reply.content_type, std::move(reply.body), version);
    if (!reply.download_name.empty()) {
      response.set(http::Field::content_disposition, attachment(reply.download_name));
    }
    co_await exchange.send(std::move(response));
  } else {
    co_await exchange.send(console_error(http::Status::not_found, kNotFound, kRoutes, version));
  }
}

}  // namespace sluice::gateway::console
