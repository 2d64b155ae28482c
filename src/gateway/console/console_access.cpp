#include "gateway/console/console_access.hpp"

#include <atomic>
#include <string>

#include "gateway/console/console_response.hpp"
#include "sluice/gateway/request_context.hpp"

namespace sluice::gateway::console {

namespace {
std::atomic<std::uint64_t> next_check{1};
}  // namespace

http::Task<std::optional<http::Response>> authorize(std::shared_ptr<const ConsoleSettings> settings,
                                                    http::Exchange& exchange) {
  const unsigned version = exchange.request().version();
  if (!settings || !settings->enabled || !settings->access) {
    co_return console_error(http::Status::not_found, "console_not_configured",
                            "The console is off: add a `console:` section with `access:` (an "
                            "admin API key or Entra role) to the gateway config. docs/console.md",
                            version);
  }
  // The request id names the check in the identity policy's refusal log line.
  RequestContext context(
      exchange, "console-" + std::to_string(next_check.fetch_add(1, std::memory_order_relaxed)));
  context.client_ip = exchange.client_address();
  auto refusal = co_await settings->access->on_request(context);
  if (refusal) add_security_headers(*refusal);
  co_return refusal;
}

}  // namespace sluice::gateway::console
