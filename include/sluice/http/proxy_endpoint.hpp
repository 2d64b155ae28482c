#pragma once
// An HTTP proxy to send requests through: where it is, and the Basic credentials it wants.
//
// The password lives only here and in the Proxy-Authorization value built from it; everything
// meant for people (logs, error messages) uses address() or display(), which never show it.
#include <optional>
#include <string>
#include <string_view>

#include "sluice/http/url.hpp"

namespace sluice::http {

struct ProxyEndpoint {
  Url url;                    // http://host:port of the proxy itself, without credentials
  std::string username;       // percent-decoded; empty when the URL has none
  std::string password;       // percent-decoded
  std::string authorization;  // "Basic base64(user:pass)", or empty without credentials
  std::string source;         // where the setting came from ("--proxy", "HTTPS_PROXY", ...)

  // "host:port", as named in error messages.
  std::string address() const;
  // "http://user:***@host:port", for logs and summaries.
  std::string display() const;
};

// Reads a proxy URL as curl does: "http://[user[:password]@]host[:port]", with "host:port"
// alone meaning http:// and port 1080 when none is given. Credentials may be percent-encoded.
// Returns std::nullopt with a reason in *error for anything else (https:// and socks proxies
// are refused by name); the reason never contains the password.
std::optional<ProxyEndpoint> parse_proxy_url(std::string_view text, std::string* error = nullptr);

// `text` with the password of any "scheme://user:password@" replaced by "***", for echoing a
// setting back to a person.
std::string mask_url_password(std::string_view text);

}  // namespace sluice::http
