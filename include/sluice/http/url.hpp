#pragma once
// Parsed origin URLs for upstreams and load targets ("https://host:port/base/path").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::http {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;
  std::string path;  // "/" when empty; includes the query string if any

  bool tls() const { return scheme == "https"; }
  // "host:port" as sent in the Host header (port omitted when it is the scheme's default).
  std::string host_header() const;
  // "scheme://host:port", the connection-pool key.
  std::string origin() const;
  // The same, appended to `out`: a caller that keeps `out` across requests allocates nothing.
  void append_host_header(std::string& out) const;
  void append_origin(std::string& out) const;
};

// Returns std::nullopt and sets *error (when given) to a reason for anything that is not an
// absolute http(s) URL with a valid port.
std::optional<Url> parse_url(std::string_view text, std::string* error = nullptr);

}  // namespace sluice::http
