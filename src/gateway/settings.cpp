#include "sluice/gateway/settings.hpp"

#include <algorithm>
#include <set>

#include <boost/json.hpp>

#include "gateway/console/console_settings.hpp"
#include "gateway/console/secret_masking.hpp"
#include "sluice/core/config.hpp"

namespace sluice::gateway {

namespace {

using core::ConfigNode;
using std::chrono::milliseconds;

http::ServerSettings read_listener(const ConfigNode& node, const std::string& default_name) {
  http::ServerSettings s;
  s.name = node.optional<std::string>("name", default_name);
  s.address = node.optional<std::string>("address", "127.0.0.1");
  s.port = node.required<std::uint16_t>("port");
  s.threads = node.optional<int>("threads", 1);
  if (s.threads < 1 || s.threads > 256) node.fail_at("threads", "must be between 1 and 256");
  if (auto tls = node.find("tls")) {
    http::TlsServerSettings t;
    t.cert_file = tls->required<std::string>("cert_file");
    t.key_file = tls->required<std::string>("key_file");
    tls->finish();
    s.tls = t;
  }
  auto limits = node.section("limits");
  s.max_body_bytes = limits.optional<core::ByteSize>("max_body", {s.max_body_bytes}).bytes;
  s.max_header_bytes = limits.optional<core::ByteSize>("max_header", {s.max_header_bytes}).bytes;
  s.header_timeout = limits.optional<milliseconds>("header_timeout", s.header_timeout);
  s.body_timeout = limits.optional<milliseconds>("body_timeout", s.body_timeout);
  s.idle_timeout = limits.optional<milliseconds>("idle_timeout", s.idle_timeout);
  s.write_timeout = limits.optional<milliseconds>("write_timeout", s.write_timeout);
  limits.finish();
  node.finish();
  return s;
}

UpstreamAuthSettings read_upstream_auth(const ConfigNode& node) {
  UpstreamAuthSettings a;
  if (node.is_absent()) return a;
  a.kind = node.required_choice<UpstreamAuthKind>(
      "type", {{"none", UpstreamAuthKind::kNone},
               {"api-key", UpstreamAuthKind::kApiKey},
               {"oauth2", UpstreamAuthKind::kOAuth2ClientCredentials},
               {"passthrough", UpstreamAuthKind::kPassThrough}});
  switch (a.kind) {
    case UpstreamAuthKind::kApiKey:
      a.api_key = node.required<std::string>("key");
      a.header = node.optional<std::string>("header", "api-key");
      break;
    case UpstreamAuthKind::kOAuth2ClientCredentials:
      a.token_url = node.required<std::string>("token_url");
      if (!http::parse_url(a.token_url)) node.fail_at("token_url", "is not an http(s) URL");
      a.client_id = node.required<std::string>("client_id");
      a.client_secret = node.required<std::string>("client_secret");
      a.scope = node.optional<std::string>("scope", "");
      a.resource = node.optional<std::string>("resource", "");
      if (a.scope.empty() && a.resource.empty()) {
        node.fail("oauth2 needs `scope` (v2 token endpoint) or `resource` (v1 token endpoint)");
      }
      a.refresh_before = node.optional<milliseconds>("refresh_before", a.refresh_before);
      break;
    default:
      break;
  }
  node.finish();
  return a;
}

// The proxy every outbound connection uses unless its backend says otherwise: the top-level
// `proxy:` (with `no_proxy:`), else the environment's variables as curl reads them. Honouring
// the environment by default is what operators of a corporate network expect of a client
// (curl, Python, Go and Node all do); a gateway that must ignore it says `proxy: none`.
http::ProxySelection read_default_proxies(const ConfigNode& root) {
  http::ProxyOptions options;
  if (root.find("proxy")) {
    options.proxy = root.required<std::string>("proxy");
    if (options.proxy == "none" || options.proxy == "direct") options.proxy = "";
  }
  options.proxy_source = "the top-level proxy setting";
  if (root.find("no_proxy")) {
    options.no_proxy = root.required<std::string>("no_proxy");
    options.no_proxy_source = "no_proxy";
  }
  std::string why;
  auto selection =
      http::ProxySelection::make(options, http::ProxyEnvironment::from_process(), &why);
  if (!selection) {
    if (options.proxy) root.fail_at("proxy", why);
    root.fail(why);  // a proxy variable of the environment
  }
  return std::move(*selection);
}

std::optional<http::ProxyEndpoint> copy_of(const http::ProxyEndpoint* proxy) {
  if (!proxy) return std::nullopt;
  return *proxy;
}

// A backend's own `proxy:`, a URL or `none`, applies to it and its token endpoint as written:
// naming a proxy for one backend is explicit, so no_proxy does not undo it.
void read_backend_proxy(const ConfigNode& node, BackendSettings& b,
                        const http::ProxySelection& defaults) {
  std::optional<http::Url> token_url;
  if (b.auth.kind == UpstreamAuthKind::kOAuth2ClientCredentials) {
    token_url = http::parse_url(b.auth.token_url);
  }
  if (!node.find("proxy")) {
    b.proxy = copy_of(defaults.for_target(b.url));
    if (token_url) b.auth.token_proxy = copy_of(defaults.for_target(*token_url));
    return;
  }
  std::string text = node.required<std::string>("proxy");
  if (text.empty() || text == "none" || text == "direct") return;
  std::string why;
  auto proxy = http::parse_proxy_url(text, &why);
  if (!proxy) node.fail_at("proxy", why);
  proxy->source = "the proxy of backend '" + b.name + "'";
  b.proxy = proxy;
  if (token_url) b.auth.token_proxy = proxy;
}

BackendSettings read_backend(const ConfigNode& node, const http::ProxySelection& proxies) {
  BackendSettings b;
  b.name = node.required<std::string>("name");
  std::string url_text = node.required<std::string>("url");
  std::string error;
  auto url = http::parse_url(url_text, &error);
  if (!url) node.fail_at("url", error);
  b.url = *url;
  while (b.url.path.size() > 1 && b.url.path.back() == '/') b.url.path.pop_back();
  if (b.url.path == "/") b.url.path.clear();
  b.kind = node.optional_choice<BackendKind>(
      "type", {{"azure", BackendKind::kAzure}, {"openai", BackendKind::kOpenAi}},
      BackendKind::kAzure);
  b.auth = read_upstream_auth(node.section("auth"));
  b.deployments = node.optional<std::map<std::string, std::string>>("deployments", {});
  b.api_version = node.optional<std::string>("api_version", "");
  auto timeouts = node.section("timeouts");
  b.connect_timeout = timeouts.optional<milliseconds>("connect", b.connect_timeout);
  b.response_timeout = timeouts.optional<milliseconds>("response", b.response_timeout);
  b.stream_idle_timeout = timeouts.optional<milliseconds>("stream_idle", b.stream_idle_timeout);
  b.stream_max = timeouts.optional<milliseconds>("stream_max", b.stream_max);
  timeouts.finish();
  b.stream_usage = node.optional_choice<StreamUsageMode>("stream_usage",
                                                         {{"auto", StreamUsageMode::kAuto},
                                                          {"always", StreamUsageMode::kAlways},
                                                          {"never", StreamUsageMode::kNever}},
                                                         StreamUsageMode::kAuto);
  read_backend_proxy(node, b, proxies);
  node.finish();
  return b;
}

std::vector<unsigned> read_status_codes(const ConfigNode& node, std::string_view key,
                                        std::vector<unsigned> fallback) {
  auto codes = node.optional<std::vector<unsigned>>(key, fallback);
  for (unsigned code : codes) {
    if (code < 100 || code > 599) node.fail_at(key, "status codes must be between 100 and 599");
  }
  return codes;
}

PoolSettings read_pool(const ConfigNode& node) {
  PoolSettings p;
  p.name = node.required<std::string>("name");
  auto members = node.find("members");
  if (!members) node.fail("a pool needs `members`");
  for (const auto& m : members->items()) {
    PoolMember member;
    member.backend = m.required<std::string>("backend");
    member.priority = m.optional<int>("priority", 1);
    member.weight = m.optional<int>("weight", 1);
    if (member.weight < 1) m.fail_at("weight", "must be at least 1");
    m.finish();
    p.members.push_back(member);
  }
  if (p.members.empty()) node.fail_at("members", "a pool needs at least one member");
  auto breaker = node.section("breaker");
  p.breaker.failures = breaker.optional<int>("failures", p.breaker.failures);
  if (p.breaker.failures < 1) breaker.fail_at("failures", "must be at least 1");
  p.breaker.interval = breaker.optional<milliseconds>("interval", p.breaker.interval);
  p.breaker.trip_duration =
      breaker.optional<milliseconds>("trip_duration", p.breaker.trip_duration);
  p.breaker.status_codes = read_status_codes(breaker, "status_codes", p.breaker.status_codes);
  p.breaker.on_connection_error =
      breaker.optional<bool>("on_connection_error", p.breaker.on_connection_error);
  p.breaker.honor_retry_after =
      breaker.optional<bool>("honor_retry_after", p.breaker.honor_retry_after);
  breaker.finish();
  auto retry = node.section("retry");
  p.retry.max_attempts = retry.optional<int>("max_attempts", p.retry.max_attempts);
  if (p.retry.max_attempts < 1) retry.fail_at("max_attempts", "must be at least 1");
  p.retry.max_time = retry.optional<milliseconds>("max_time", p.retry.max_time);
  p.retry.status_codes = read_status_codes(retry, "status_codes", p.retry.status_codes);
  retry.finish();
  node.finish();
  return p;
}

void sort_by_phase(std::vector<PolicyPtr>& policies) {
  std::stable_sort(policies.begin(), policies.end(), [](const PolicyPtr& a, const PolicyPtr& b) {
    return static_cast<int>(a->phase_order()) < static_cast<int>(b->phase_order());
  });
}

// Builds the policies named under a `policies:` mapping, keyed by name.
std::map<std::string, PolicyPtr> read_policies(const ConfigNode& node,
                                               const PolicyRegistry& registry,
                                               PolicyServices& services) {
  std::map<std::string, PolicyPtr> policies;
  if (node.is_absent() || node.is_null()) return policies;
  for (const auto& [name, section] : node.entries()) {
    const PolicyFactory* factory = registry.find(name);
    if (!factory) {
      std::string known;
      for (const auto& n : registry.names()) known += (known.empty() ? "" : ", ") + n;
      section.fail("unknown policy '" + name + "' (known: " + known + ")");
    }
    policies[name] = (*factory)(section, services);
  }
  return policies;
}

RouteSettings read_route(const ConfigNode& node, const std::map<std::string, PolicyPtr>& global,
                         const PolicyRegistry& registry, PolicyServices& services) {
  RouteSettings r;
  r.name = node.required<std::string>("name");
  auto match = node.section("match");
  r.match.deployments = match.optional<std::vector<std::string>>("deployments", {});
  for (auto& model : match.optional<std::vector<std::string>>("models", {})) {
    r.match.deployments.push_back(model);
  }
  r.match.path_prefix = match.optional<std::string>("path_prefix", "");
  if (auto header = match.find("header")) {
    r.match.header_name = header->required<std::string>("name");
    r.match.header_value = header->optional<std::string>("value", "");
    header->finish();
  }
  match.finish();
  r.pool = node.required<std::string>("pool");
  auto policies = global;
  for (auto& [name, policy] : read_policies(node.section("policies"), registry, services)) {
    policies[name] = policy;
  }
  for (auto& [name, policy] : policies) r.policies.push_back(policy);
  sort_by_phase(r.policies);
  node.finish();
  return r;
}

}  // namespace

void PolicyRegistry::add(std::string name, PolicyFactory factory) {
  factories_[std::move(name)] = std::move(factory);
}

const PolicyFactory* PolicyRegistry::find(const std::string& name) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : &it->second;
}

std::vector<std::string> PolicyRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

const BackendSettings* GatewaySettings::find_backend(const std::string& name) const {
  for (const auto& b : backends) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

const PoolSettings* GatewaySettings::find_pool(const std::string& name) const {
  for (const auto& p : pools) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

GatewaySettings read_gateway_settings(const ConfigNode& root, const PolicyRegistry& registry,
                                      PolicyServices& services) {
  GatewaySettings g;
  g.source = root.source_name();
  auto listeners = root.find("listeners");
  if (!listeners) root.fail("a gateway needs `listeners` (e.g. [{port: 8080}])");
  int index = 0;
  for (const auto& l : listeners->items()) {
    g.listeners.push_back(read_listener(l, "listener" + std::to_string(index++)));
  }
  if (g.listeners.empty()) listeners->fail("at least one listener is needed");
  if (auto admin = root.find("admin")) g.admin = read_listener(*admin, "admin");
  const http::ProxySelection proxies = read_default_proxies(root);
  services.proxies = std::make_shared<const http::ProxySelection>(proxies);

  std::set<std::string> names;
  if (auto backends = root.find("backends")) {
    for (const auto& b : backends->items()) {
      g.backends.push_back(read_backend(b, proxies));
      if (!names.insert(g.backends.back().name).second) {
        b.fail_at("name", "duplicate backend name '" + g.backends.back().name + "'");
      }
    }
  }
  names.clear();
  if (auto pools = root.find("pools")) {
    for (const auto& p : pools->items()) {
      g.pools.push_back(read_pool(p));
      if (!names.insert(g.pools.back().name).second) {
        p.fail_at("name", "duplicate pool name '" + g.pools.back().name + "'");
      }
      auto members = p.find("members");
      auto member_nodes = members->items();
      for (std::size_t i = 0; i < g.pools.back().members.size(); ++i) {
        if (!g.find_backend(g.pools.back().members[i].backend)) {
          member_nodes[i].fail_at("backend",
                                  "unknown backend '" + g.pools.back().members[i].backend + "'");
        }
      }
    }
  }
  auto global = read_policies(root.section("policies"), registry, services);
  for (auto& [name, policy] : global) g.global_policies.push_back(policy);
  sort_by_phase(g.global_policies);
  if (auto routes = root.find("routes")) {
    for (const auto& r : routes->items()) {
      g.routes.push_back(read_route(r, global, registry, services));
      if (!g.find_pool(g.routes.back().pool)) {
        r.fail_at("pool", "unknown pool '" + g.routes.back().pool + "'");
      }
    }
  }
  auto reads_document = [](const std::vector<PolicyPtr>& policies) {
    return std::any_of(policies.begin(), policies.end(),
                       [](const PolicyPtr& p) { return p->reads_request_document(); });
  };
  g.parse_request_document =
      reads_document(g.global_policies) ||
      std::any_of(g.routes.begin(), g.routes.end(),
                  [&](const RouteSettings& r) { return reads_document(r.policies); });
  g.unknown_routes = root.optional_choice<UnknownRoutes>(
      "unknown_routes", {{"reject", UnknownRoutes::kReject}, {"pass", UnknownRoutes::kPass}},
      UnknownRoutes::kReject);
  g.default_pool = root.optional<std::string>("default_pool", "");
  if (!g.default_pool.empty() && !g.find_pool(g.default_pool)) {
    root.fail_at("default_pool", "unknown pool '" + g.default_pool + "'");
  }
  if (g.unknown_routes == UnknownRoutes::kPass && g.default_pool.empty()) {
    root.fail_at("unknown_routes", "`pass` needs a `default_pool` to send them to");
  }
  g.drain_timeout = root.optional<milliseconds>("drain_timeout", g.drain_timeout);
  auto console = console::ConsoleSettings::from_config(root, g, registry, services);
  root.finish();
  // After finish(): masking reads every key, which would hide misspelt ones from it.
  console.masked_config = boost::json::serialize(console::masked_config(root));
  g.console = std::make_shared<const console::ConsoleSettings>(std::move(console));
  return g;
}

GatewaySettings load_gateway_settings(const std::filesystem::path& file,
                                      const PolicyRegistry& registry, PolicyServices& services) {
  return read_gateway_settings(core::load_config_file(file), registry, services);
}

}  // namespace sluice::gateway
