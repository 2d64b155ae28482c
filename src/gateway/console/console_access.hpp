#pragma once
// Who may read admin data: the console's `access:` section is an identity policy section, and a
// request is checked by that policy's own code (Entra JWT with a required app role, or a
// configured admin API key), exactly as an API request is. A refusal is the identity policy's
// JSON 401 (or 403 for a missing role), with the console's protective headers.
#include <memory>
#include <optional>

#include "gateway/console/console_settings.hpp"
#include "sluice/http/server.hpp"

namespace sluice::gateway::console {

// nullopt: the caller may read admin data. Otherwise the response to send: 401/403 from the
// identity policy, or 404 when no console is configured (there is then no credential to accept).
// `settings` is held for the whole check (a reload may replace it meanwhile). Admin listener.
http::Task<std::optional<http::Response>> authorize(std::shared_ptr<const ConsoleSettings> settings,
                                                    http::Exchange& exchange);

}  // namespace sluice::gateway::console
