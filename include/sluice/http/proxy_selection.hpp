#pragma once
// Which proxy, if any, a request to a given target goes through, decided as curl decides it:
//
//   1. an explicit proxy (`--proxy`, a `proxy:` setting) wins over the environment;
//   2. otherwise https:// targets use https_proxy (then HTTPS_PROXY), http:// targets use
//      http_proxy, and either falls back to all_proxy (then ALL_PROXY);
//   3. a target matching no_proxy (an explicit list, else no_proxy, then NO_PROXY) goes direct,
//      whichever way its proxy was chosen.
//
// Upper-case HTTP_PROXY is ignored on purpose, as curl ignores it: under CGI a request's
// "Proxy:" header arrives as HTTP_PROXY ("httpoxy"), so trusting it lets a caller pick our proxy.
// Loopback targets are not exempted by default either (curl does not); list them in NO_PROXY.
//
// Built once at startup; afterwards read-only and safe to share between threads.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/http/proxy_endpoint.hpp"
#include "sluice/http/url.hpp"

namespace sluice::http {

// The proxy variables of an environment, each with the name it was read from (for messages).
struct ProxyEnvironment {
  struct Variable {
    std::string name;
    std::string value;  // empty: not set (an empty variable counts as unset, as in curl)
  };
  Variable http_proxy, https_proxy, all_proxy, no_proxy;

  // Reads the process environment (getenv). Call at startup, before threads start.
  static ProxyEnvironment from_process();
};

// A NO_PROXY list: comma- or space-separated entries, each one of
//   *                 every target
//   example.com       that host and its subdomains (a leading dot, ".example.com", is the same)
//   10.1.2.3, ::1     that address (IPv6 with or without brackets)
//   10.0.0.0/8        addresses in that network
//   host:port         that host (or address, IPv6 in brackets) on that port only
// Names compare without regard to case.
class NoProxyRules {
 public:
  NoProxyRules() = default;
  explicit NoProxyRules(std::string_view list);

  bool bypasses(const Url& target) const;
  bool empty() const { return !everything_ && rules_.empty(); }
  const std::string& text() const { return text_; }

 private:
  struct Rule {
    std::string host;  // lower case, no leading or trailing dot; empty for networks
    std::vector<unsigned char> network;  // address bytes (4 or 16) when the entry is an address
    unsigned prefix_bits = 0;
    std::uint16_t port = 0;  // 0: any port
  };
  std::string text_;
  bool everything_ = false;
  std::vector<Rule> rules_;
};

// What was said explicitly, before the environment is consulted.
struct ProxyOptions {
  // The proxy URL. Unset: the environment decides; empty: no proxy at all, whatever the
  // environment says (curl's --proxy "").
  std::optional<std::string> proxy;
  std::string proxy_source = "--proxy";  // how to name it in messages
  std::optional<std::string> no_proxy;   // replaces the environment's no_proxy when given
  std::string no_proxy_source = "--noproxy";
};

class ProxySelection {
 public:
  ProxySelection() = default;  // every target direct

  // Returns std::nullopt with a reason naming the setting or variable in *error when a proxy
  // URL is unusable. The reason never contains a password.
  static std::optional<ProxySelection> make(const ProxyOptions& options,
                                            const ProxyEnvironment& environment,
                                            std::string* error = nullptr);

  // The proxy for `target`, or nullptr to connect directly. The pointer lives as long as this.
  const ProxyEndpoint* for_target(const Url& target) const;
  bool any() const { return http_ || https_; }
  // One line for logs and summaries, passwords masked, e.g.
  // "https targets via http://user:***@10.0.0.1:3128 (HTTPS_PROXY); http targets direct;
  //  no proxy for localhost,.internal (NO_PROXY)".
  std::string describe() const;

 private:
  std::optional<ProxyEndpoint> http_, https_;
  NoProxyRules no_proxy_;
  std::string no_proxy_source_;
};

}  // namespace sluice::http
