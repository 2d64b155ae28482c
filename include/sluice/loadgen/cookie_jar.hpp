#pragma once
// One virtual user's cookies, as JMeter's HTTP Cookie Manager keeps them: cookies a server sets
// are stored (RFC 6265: checked against the URL that set them, replaced by name, domain and path,
// dropped when expired) and sent back on later requests whose host, path and scheme match.
//
// Threads: one per virtual user, used from that user's coroutine only.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/http/url.hpp"

namespace sluice::loadgen {

struct Cookie {
  std::string name, value;
  std::string domain;      // lower case, no leading dot; empty = every host
  bool host_only = true;   // no Domain attribute: only the host that set it
  std::string path = "/";  // sent for this path and below
  bool secure = false;     // only over https
  std::chrono::system_clock::time_point expires = std::chrono::system_clock::time_point::max();
};

class CookieJar {
 public:
  using Clock = std::chrono::system_clock;

  // Stores the cookie of one Set-Cookie header received from `url`. A cookie for another
  // domain, or a malformed one, is ignored (as browsers and JMeter do); false then.
  bool store(const http::Url& url, std::string_view set_cookie, Clock::time_point now);
  // Adds a cookie as given (JMeter's user-defined cookies), replacing one of the same name,
  // domain and path.
  void put(Cookie cookie);
  // The Cookie header value for a request to `url` ("a=1; b=2"), empty when none matches.
  // Longer paths first, then older cookies first (RFC 6265 5.4).
  std::string header_for(const http::Url& url, Clock::time_point now) const;
  void clear() { cookies_.clear(); }
  std::size_t size() const { return cookies_.size(); }

 private:
  std::vector<Cookie> cookies_;  // in creation order
};

// True when `host` is `domain` or a subdomain of it (not for IP addresses).
bool domain_matches(std::string_view host, std::string_view domain);
// RFC 6265 5.1.4: `cookie_path` covers `request_path` (query ignored).
bool path_matches(std::string_view request_path, std::string_view cookie_path);

}  // namespace sluice::loadgen
