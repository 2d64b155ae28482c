#include "sluice/http/proxy_endpoint.hpp"

#include <openssl/evp.h>

#include <cctype>

namespace sluice::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// curl percent-decodes the user and password of a proxy URL, so a password with ':' or '@'
// can be given as %3A or %40. A stray '%' is kept as written.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

bool fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

}  // namespace

std::string ProxyEndpoint::address() const {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  return host + ":" + std::to_string(url.port);
}

std::string ProxyEndpoint::display() const {
  std::string text = "http://";
  if (!username.empty() || !password.empty()) {
    text += username;
    if (!password.empty()) text += ":***";
    text += "@";
  }
  return text + address();
}

std::string mask_url_password(std::string_view text) {
  auto scheme_end = text.find("://");
  std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  auto authority_end = text.find_first_of("/?#", start);
  if (authority_end == std::string_view::npos) authority_end = text.size();
  auto at = text.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(text);
  auto colon = text.substr(0, at).find(':', start);
  if (colon == std::string_view::npos) return std::string(text);
  return std::string(text.substr(0, colon + 1)) + "***" + std::string(text.substr(at));
}

std::optional<ProxyEndpoint> parse_proxy_url(std::string_view text, std::string* error) {
  const std::string shown = mask_url_password(text);
  std::string_view rest = text;
  if (auto scheme_end = text.find("://"); scheme_end != std::string_view::npos) {
    std::string scheme(text.substr(0, scheme_end));
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "https") {
      fail(error, "proxy '" + shown +
                      "': HTTPS proxies (TLS to the proxy itself) are not supported; use an "
                      "http:// proxy, which still tunnels https:// targets with CONNECT");
      return std::nullopt;
    }
    if (scheme != "http") {
      fail(error, "proxy '" + shown + "': unsupported proxy scheme '" + scheme +
                      "' (only http:// proxies are supported)");
      return std::nullopt;
    }
    rest = text.substr(scheme_end + 3);
  }
  ProxyEndpoint proxy;
  auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    auto colon = userinfo.find(':');
    proxy.username = percent_decode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos)
      proxy.password = percent_decode(userinfo.substr(colon + 1));
    authority = authority.substr(at + 1);
  }
  std::string host_port(authority);
  // curl's default proxy port; a proxy URL without one almost always means a mistake, but
  // following curl keeps HTTPS_PROXY values that work there working here.
  bool has_port = false;
  if (!host_port.empty() && host_port.front() == '[') {
    has_port = host_port.find("]:") != std::string::npos;
  } else {
    has_port = host_port.find(':') != std::string::npos;
  }
  if (!has_port) host_port += ":1080";
  std::string why;
  auto url = parse_url("http://" + host_port, &why);
  if (!url) {
    fail(error, "proxy '" + shown + "': " + mask_url_password(why));
    return std::nullopt;
  }
  url->path = "/";
  proxy.url = std::move(*url);
  if (!proxy.username.empty() || !proxy.password.empty()) {
    proxy.authorization = "Basic " + base64(proxy.username + ":" + proxy.password);
  }
  return proxy;
}

}  // namespace sluice::http
