#include "gateway/console/console_response.hpp"

namespace sluice::gateway::console {

void add_security_headers(http::Response& response) {
  response.set("Content-Security-Policy", kContentSecurityPolicy);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.set("X-Frame-Options", "DENY");
  response.set(http::Field::cache_control, "no-store");
}

http::Response console_response(http::Status status, std::string_view content_type,
                                std::string body, unsigned version) {
  http::Response response{status, version};
  response.set(http::Field::content_type, content_type);
  response.body() = std::move(body);
  add_security_headers(response);
  response.prepare_payload();
  return response;
}

http::Response console_error(http::Status status, std::string_view code, std::string_view message,
                             unsigned version) {
  auto response = http::openai_error_response(status, code, message, version);
  add_security_headers(response);
  return response;
}

}  // namespace sluice::gateway::console
