#pragma once
// Every response of the console (page, assets, JSON API, refusals) carries the same protective
// headers: a Content-Security-Policy that allows only the console's own script and style (no
// inline script, nothing from another origin), nosniff, no referrer, and no caching of admin data.
#include <string>
#include <string_view>

#include "sluice/http/server.hpp"

namespace sluice::gateway::console {

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

// Adds the headers above to `response`.
void add_security_headers(http::Response& response);

// A complete response with the headers above.
http::Response console_response(http::Status status, std::string_view content_type,
                                std::string body, unsigned version);

// {"error": {"code", "message"}} with the headers above (the API's own error format, as the
// identity refusals use).
http::Response console_error(http::Status status, std::string_view code, std::string_view message,
                             unsigned version);

}  // namespace sluice::gateway::console
