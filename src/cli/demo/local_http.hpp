#pragma once
// Blocking HTTP/1.1 calls from the demo to its own children on loopback (the simulator's
// /sim/usage and token endpoint, the gateway's /admin/backends and /metrics). Plain http only.
#include <chrono>
#include <string>

#include "sluice/core/result.hpp"

namespace sluice::cli::demo {

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
};

// `url` is absolute ("http://127.0.0.1:8000/sim/usage"). An empty `body` with method GET sends
// none. Fails (never throws) on a bad URL, a connection error or `timeout`.
core::Result<HttpAnswer> http_call(const std::string& method, const std::string& url,
                                   const std::string& body = {},
                                   const std::string& content_type = {},
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace sluice::cli::demo
