#include "sluice/loadgen/cookie_jar.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <iomanip>
#include <optional>
#include <sstream>

namespace sluice::loadgen {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_ip_address(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return true;  // IPv6
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// RFC 6265 5.1.4: the directory of the request path.
std::string default_path(std::string_view request_path) {
  request_path = request_path.substr(0, request_path.find('?'));
  if (request_path.empty() || request_path.front() != '/') return "/";
  auto last = request_path.rfind('/');
  if (last == 0) return "/";
  return std::string(request_path.substr(0, last));
}

// The date formats servers send in Expires (RFC 1123, RFC 850, asctime); nullopt otherwise.
std::optional<CookieJar::Clock::time_point> parse_http_date(std::string_view text) {
  for (const char* format : {"%a, %d %b %Y %H:%M:%S", "%A, %d-%b-%y %H:%M:%S",
                             "%a, %d-%b-%Y %H:%M:%S", "%a %b %d %H:%M:%S %Y"}) {
    std::tm tm{};
    std::istringstream in{std::string(text)};
    in >> std::get_time(&tm, format);
    if (!in.fail()) return CookieJar::Clock::from_time_t(timegm(&tm));
  }
  return std::nullopt;
}

}  // namespace

bool domain_matches(std::string_view host, std::string_view domain) {
  if (host == domain) return true;
  if (is_ip_address(host) || host.size() <= domain.size()) return false;
  return host.ends_with(domain) && host[host.size() - domain.size() - 1] == '.';
}

bool path_matches(std::string_view request_path, std::string_view cookie_path) {
  request_path = request_path.substr(0, request_path.find('?'));
  if (request_path.empty()) request_path = "/";
  if (!request_path.starts_with(cookie_path)) return false;
  return request_path.size() == cookie_path.size() || cookie_path.ends_with('/') ||
         request_path[cookie_path.size()] == '/';
}

bool CookieJar::store(const http::Url& url, std::string_view set_cookie, Clock::time_point now) {
  auto semicolon = set_cookie.find(';');
  std::string_view pair = trim(set_cookie.substr(0, semicolon));
  auto eq = pair.find('=');
  if (eq == std::string_view::npos) return false;
  Cookie c;
  c.name = std::string(trim(pair.substr(0, eq)));
  c.value = std::string(trim(pair.substr(eq + 1)));
  if (c.name.empty()) return false;
  std::string host = lower(url.host);
  c.domain = host;
  c.path = default_path(url.path);
  bool has_max_age = false;
  std::string_view attributes =
      semicolon == std::string_view::npos ? std::string_view() : set_cookie.substr(semicolon + 1);
  while (!attributes.empty()) {
    auto end = attributes.find(';');
    std::string_view attribute = trim(attributes.substr(0, end));
    attributes = end == std::string_view::npos ? std::string_view() : attributes.substr(end + 1);
    auto aeq = attribute.find('=');
    std::string key = lower(trim(attribute.substr(0, aeq)));
    std::string_view value =
        aeq == std::string_view::npos ? std::string_view() : trim(attribute.substr(aeq + 1));
    if (key == "domain" && !value.empty()) {
      std::string domain = lower(value);
      if (domain.front() == '.') domain.erase(0, 1);
      // A server may only set cookies for its own domain and its parents.
      if (!domain_matches(host, domain)) return false;
      c.domain = domain;
      c.host_only = false;
    } else if (key == "path" && value.starts_with('/')) {
      c.path = std::string(value);
    } else if (key == "secure") {
      c.secure = true;
    } else if (key == "max-age") {
      char* stop = nullptr;
      std::string digits(value);
      long long seconds = std::strtoll(digits.c_str(), &stop, 10);
      if (digits.empty() || *stop) continue;  // RFC 6265: an invalid Max-Age is ignored
      has_max_age = true;
      c.expires = seconds <= 0 ? Clock::time_point::min() : now + std::chrono::seconds(seconds);
    } else if (key == "expires" && !has_max_age) {
      if (auto when = parse_http_date(value)) c.expires = *when;
    }
  }
  // A secure cookie from plain http is refused (RFC 6265bis 5.4).
  if (c.secure && !url.tls()) return false;
  auto same = std::find_if(cookies_.begin(), cookies_.end(), [&](const Cookie& o) {
    return o.name == c.name && o.domain == c.domain && o.path == c.path;
  });
  bool expired = c.expires <= now;
  if (same != cookies_.end()) {
    if (expired) {
      cookies_.erase(same);
    } else {
      *same = std::move(c);
    }
    return true;
  }
  if (!expired) cookies_.push_back(std::move(c));
  return true;
}

void CookieJar::put(Cookie cookie) {
  auto same = std::find_if(cookies_.begin(), cookies_.end(), [&](const Cookie& o) {
    return o.name == cookie.name && o.domain == cookie.domain && o.path == cookie.path;
  });
  if (same != cookies_.end()) {
    *same = std::move(cookie);
  } else {
    cookies_.push_back(std::move(cookie));
  }
}

std::string CookieJar::header_for(const http::Url& url, Clock::time_point now) const {
  std::string host = lower(url.host);
  std::vector<const Cookie*> matching;
  for (const auto& c : cookies_) {
    if (c.expires <= now) continue;
    if (c.secure && !url.tls()) continue;
    bool any_host = c.domain.empty();  // a user-defined cookie without a domain
    if (!any_host && (c.host_only ? host != c.domain : !domain_matches(host, c.domain))) continue;
    if (!path_matches(url.path, c.path)) continue;
    matching.push_back(&c);
  }
  std::stable_sort(matching.begin(), matching.end(), [](const Cookie* a, const Cookie* b) {
    return a->path.size() > b->path.size();
  });
  std::string header;
  for (const auto* c : matching) {
    if (!header.empty()) header += "; ";
    header += c->name;
    header += '=';
    header += c->value;
  }
  return header;
}

}  // namespace sluice::loadgen
