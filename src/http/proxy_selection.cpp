#include "sluice/http/proxy_selection.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "sluice/http/asio.hpp"

namespace sluice::http {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::vector<unsigned char>> address_bytes(std::string_view text) {
  error_code ec;
  auto address = asio::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    return std::vector<unsigned char>(bytes.begin(), bytes.end());
  }
  auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    auto bytes = asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes();
    return std::vector<unsigned char>(bytes.begin(), bytes.end());
  }
  auto bytes = v6.to_bytes();
  return std::vector<unsigned char>(bytes.begin(), bytes.end());
}

bool same_prefix(const std::vector<unsigned char>& a, const std::vector<unsigned char>& b,
                 unsigned bits) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size() && bits > 0; ++i) {
    unsigned take = std::min(bits, 8u);
    unsigned mask = (0xffu << (8 - take)) & 0xffu;
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

ProxyEnvironment::Variable first_set(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* value = std::getenv(name);
    if (value && *value) return {name, value};
  }
  return {*names.begin(), ""};
}

std::optional<ProxyEndpoint> parse_from(const std::string& text, const std::string& source,
                                        std::string* error) {
  std::string why;
  auto proxy = parse_proxy_url(text, &why);
  if (!proxy) {
    if (error) *error = source + ": " + why;
    return std::nullopt;
  }
  proxy->source = source;
  return proxy;
}

}  // namespace

ProxyEnvironment ProxyEnvironment::from_process() {
  ProxyEnvironment env;
  env.http_proxy = first_set({"http_proxy"});
  env.https_proxy = first_set({"https_proxy", "HTTPS_PROXY"});
  env.all_proxy = first_set({"all_proxy", "ALL_PROXY"});
  env.no_proxy = first_set({"no_proxy", "NO_PROXY"});
  return env;
}

NoProxyRules::NoProxyRules(std::string_view list) : text_(list) {
  std::size_t start = 0;
  while (start < list.size()) {
    auto end = list.find_first_of(", \t", start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view entry = list.substr(start, end - start);
    start = end + 1;
    if (entry.empty()) continue;
    if (entry == "*") {
      everything_ = true;
      continue;
    }
    Rule rule;
    // An optional ":port", told apart from the colons of a bare IPv6 address.
    std::string_view host = entry;
    if (host.front() == '[') {
      auto close = host.find(']');
      if (close == std::string_view::npos) continue;
      if (close + 1 < host.size() && host[close + 1] == ':') {
        auto port = parse_port(host.substr(close + 2));
        if (!port) continue;
        rule.port = *port;
      }
      host = host.substr(1, close - 1);
    } else if (auto colon = host.find(':'); colon != std::string_view::npos &&
                                            host.find(':', colon + 1) == std::string_view::npos) {
      auto port = parse_port(host.substr(colon + 1));
      if (!port) continue;
      rule.port = *port;
      host = host.substr(0, colon);
    }
    std::string_view address = host;
    std::optional<unsigned> prefix;
    if (auto slash = host.find('/'); slash != std::string_view::npos) {
      unsigned bits = 0;
      auto text = host.substr(slash + 1);
      auto [bits_end, ec] = std::from_chars(text.data(), text.data() + text.size(), bits);
      if (ec != std::errc() || bits_end != text.data() + text.size()) continue;
      prefix = bits;
      address = host.substr(0, slash);
    }
    if (auto bytes = address_bytes(address)) {
      rule.network = std::move(*bytes);
      rule.prefix_bits =
          std::min<unsigned>(prefix.value_or(static_cast<unsigned>(rule.network.size() * 8)),
                             static_cast<unsigned>(rule.network.size() * 8));
    } else {
      if (prefix) continue;  // a network length on a name means nothing
      while (!host.empty() && host.front() == '.') host.remove_prefix(1);
      while (!host.empty() && host.back() == '.') host.remove_suffix(1);
      if (host.empty()) continue;
      rule.host = lower(host);
    }
    rules_.push_back(std::move(rule));
  }
}

bool NoProxyRules::bypasses(const Url& target) const {
  if (everything_) return true;
  if (rules_.empty()) return false;
  std::string host = lower(target.host);
  while (!host.empty() && host.back() == '.') host.pop_back();
  auto bytes = address_bytes(host);
  for (const auto& rule : rules_) {
    if (rule.port != 0 && rule.port != target.port) continue;
    if (!rule.network.empty()) {
      if (bytes && same_prefix(*bytes, rule.network, rule.prefix_bits)) return true;
      continue;
    }
    if (host == rule.host) return true;
    if (!bytes && host.size() > rule.host.size() &&
        host.compare(host.size() - rule.host.size(), rule.host.size(), rule.host) == 0 &&
        host[host.size() - rule.host.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

std::optional<ProxySelection> ProxySelection::make(const ProxyOptions& options,
                                                   const ProxyEnvironment& environment,
                                                   std::string* error) {
  ProxySelection selection;
  if (options.proxy && options.proxy->empty()) return selection;
  if (options.proxy) {
    auto proxy = parse_from(*options.proxy, options.proxy_source, error);
    if (!proxy) return std::nullopt;
    selection.http_ = proxy;
    selection.https_ = std::move(proxy);
  } else {
    // Reads one variable; an unset one leaves `out` as `fallback`. False on an unusable URL.
    auto read = [&](const ProxyEnvironment::Variable& variable, std::optional<ProxyEndpoint>& out,
                    const std::optional<ProxyEndpoint>& fallback) {
      if (variable.value.empty()) {
        out = fallback;
        return true;
      }
      out = parse_from(variable.value, variable.name, error);
      return out.has_value();
    };
    std::optional<ProxyEndpoint> all;
    if (!read(environment.all_proxy, all, std::nullopt) ||
        !read(environment.http_proxy, selection.http_, all) ||
        !read(environment.https_proxy, selection.https_, all)) {
      return std::nullopt;
    }
  }
  if (options.no_proxy) {
    selection.no_proxy_ = NoProxyRules(*options.no_proxy);
    selection.no_proxy_source_ = options.no_proxy_source;
  } else {
    selection.no_proxy_ = NoProxyRules(environment.no_proxy.value);
    selection.no_proxy_source_ = environment.no_proxy.name;
  }
  return selection;
}

const ProxyEndpoint* ProxySelection::for_target(const Url& target) const {
  const auto& proxy = target.tls() ? https_ : http_;
  if (!proxy) return nullptr;
  if (no_proxy_.bypasses(target)) return nullptr;
  return &*proxy;
}

std::string ProxySelection::describe() const {
  auto one = [](const char* scheme, const std::optional<ProxyEndpoint>& proxy) {
    std::string text = std::string(scheme) + " targets ";
    if (!proxy) return text + "direct";
    return text + "via " + proxy->display() + " (" + proxy->source + ")";
  };
  std::string text = one("https", https_) + "; " + one("http", http_);
  if (any() && !no_proxy_.empty()) {
    text += "; no proxy for " + no_proxy_.text() + " (" + no_proxy_source_ + ")";
  }
  return text;
}

}  // namespace sluice::http
