#pragma once
// The gateway's configuration, read once from YAML (at start and on SIGHUP) into plain structs
// that the workers share read-only. Policies are built here too, from their own sections.
//
//   listeners: [{address, port, threads, tls: {cert_file, key_file}, limits: {...}}]
//   admin: {address, port}
//   proxy: http://[user:pass@]host:port   outbound proxy (default: https_proxy etc., as curl)
//   no_proxy: "localhost,.internal"        hosts reached directly (default: NO_PROXY)
//   backends: [{name, url, type: azure|openai, auth: {...}, deployments: {name: upstream name},
//               api_version, timeouts: {connect, response, stream_idle}, stream_usage,
//               proxy: URL | none}]
//   pools: [{name, members: [{backend, priority, weight}], breaker: {...}, retry: {...}}]
//   routes: [{name, match: {deployments, models, path_prefix, header}, pool, policies: {...}}]
//   policies: {...}        applied to every route (a route's own entry of the same name wins)
//   unknown_routes: reject | pass      (pass: forwarded to `default_pool`)
//   console: {access: {...}, prices, usage_store, prompt_log_file, protect_admin_routes}
// docs/gateway.md is the full reference.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/core/clock.hpp"
#include "sluice/core/config_node.hpp"
#include "sluice/gateway/policy.hpp"
#include "sluice/http/proxy_selection.hpp"
#include "sluice/http/server.hpp"
#include "sluice/http/url.hpp"
#include "sluice/usage/metric_registry.hpp"

namespace sluice::gateway {

namespace console {
struct ConsoleSettings;
class TrafficRing;
}  // namespace console

enum class BackendKind { kAzure, kOpenAi };
enum class StreamUsageMode { kAuto, kAlways, kNever };
enum class UpstreamAuthKind { kNone, kApiKey, kOAuth2ClientCredentials, kPassThrough };

struct UpstreamAuthSettings {
  UpstreamAuthKind kind = UpstreamAuthKind::kNone;
  std::string api_key;  // kApiKey
  std::string header = "api-key";
  std::string token_url;  // kOAuth2ClientCredentials
  std::string client_id;
  std::string client_secret;
  std::string scope;     // v2 endpoints
  std::string resource;  // v1 endpoints
  std::chrono::milliseconds refresh_before{std::chrono::minutes(5)};
  std::optional<http::ProxyEndpoint> token_proxy;  // for token_url; std::nullopt: direct
};

struct BackendSettings {
  std::string name;
  http::Url url;
  BackendKind kind = BackendKind::kAzure;
  UpstreamAuthSettings auth;
  std::map<std::string, std::string> deployments;  // client-facing name → upstream name
  std::string api_version;                         // overrides the client's when set
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds response_timeout{120'000};    // whole response, or a stream's header
  std::chrono::milliseconds stream_idle_timeout{60'000};  // between stream bytes
  // A whole stream, header to end: a backend that never ends a stream cannot hold a client (and
  // a connection) forever. Long enough for the slowest reasoning answers.
  std::chrono::milliseconds stream_max{30 * 60'000};
  StreamUsageMode stream_usage = StreamUsageMode::kAuto;
  // The proxy requests to `url` go through; std::nullopt: direct. Decided at load: the
  // backend's own `proxy:`, else the top-level `proxy:` or the environment, minus `no_proxy`.
  std::optional<http::ProxyEndpoint> proxy;
};

struct BreakerSettings {
  int failures = 3;  // failures within `interval` that trip the breaker
  std::chrono::milliseconds interval{10'000};
  std::chrono::milliseconds trip_duration{30'000};
  std::vector<unsigned> status_codes{429, 500, 502, 503, 504};
  bool on_connection_error = true;
  bool honor_retry_after = true;  // stay open for the backend's Retry-After when it says so
};

struct RetrySettings {
  int max_attempts = 3;
  std::chrono::milliseconds max_time{60'000};
  std::vector<unsigned> status_codes{429, 500, 502, 503, 504};
};

struct PoolMember {
  std::string backend;
  int priority = 1;  // lower is preferred
  int weight = 1;
};

struct PoolSettings {
  std::string name;
  std::vector<PoolMember> members;
  BreakerSettings breaker;
  RetrySettings retry;
};

struct RouteMatch {
  std::vector<std::string> deployments;  // Azure path deployment or v1 model; empty = any
  std::string path_prefix;
  std::string header_name;
  std::string header_value;
};

struct RouteSettings {
  std::string name;
  RouteMatch match;
  std::string pool;
  std::vector<PolicyPtr> policies;  // sorted by phase order
};

enum class UnknownRoutes { kReject, kPass };

struct GatewaySettings {
  std::vector<http::ServerSettings> listeners;
  std::optional<http::ServerSettings> admin;
  std::vector<BackendSettings> backends;
  std::vector<PoolSettings> pools;
  std::vector<RouteSettings> routes;
  std::vector<PolicyPtr> global_policies;  // top-level `policies:`, sorted by phase order
  // Some policy reads the request body's document (Policy::reads_request_document): a chat body's
  // prompt is gathered by the scan where it can be, and bodies are otherwise parsed by simdjson's
  // DOM parser (request_body.hpp, inspect_request_body).
  bool parse_request_document = false;
  UnknownRoutes unknown_routes = UnknownRoutes::kReject;
  std::string default_pool;  // for unknown_routes: pass
  std::chrono::milliseconds drain_timeout{30'000};
  std::string source;  // the file it came from
  // The operator console (`console:`), with the masked copy of this document it shows. Never null
  // after load_gateway_settings.
  std::shared_ptr<const console::ConsoleSettings> console;

  const BackendSettings* find_backend(const std::string& name) const;
  const PoolSettings* find_pool(const std::string& name) const;
};

// Shared services policies may use; built once by the gateway and outliving every policy.
struct PolicyServices {
  const core::Clock* clock = &core::real_clock();
  // What /metrics exposes beyond the gateway's own backend gauges: filled by the metrics policy and
  // the usage journal. Lives as long as the gateway, so counters survive reloads.
  std::shared_ptr<usage::MetricRegistry> metrics = std::make_shared<usage::MetricRegistry>();
  // Long-lived objects policies share across reloads (a usage journal per directory), by key. Weak:
  // an object goes when no policy of the running config holds it. Touched only while a config is
  // being loaded (one thread).
  std::map<std::string, std::weak_ptr<void>> shared;
  // The config's default outbound proxies (top-level `proxy:`/`no_proxy:`, else the environment),
  // for what a policy fetches itself (JWKS). Set while a config is loaded, before its policies.
  std::shared_ptr<const http::ProxySelection> proxies;
  // The console's last hour of traffic, fed by the usage policy; null: not kept (tests).
  std::shared_ptr<console::TrafficRing> traffic;
};

// Builds a policy from its config section (the section must be fully read: finish() it).
using PolicyFactory =
    std::function<PolicyPtr(const core::ConfigNode& section, PolicyServices& services)>;

// The policies a config may name, by their key under `policies:`.
class PolicyRegistry {
 public:
  void add(std::string name, PolicyFactory factory);
  const PolicyFactory* find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, PolicyFactory> factories_;
};

// Reads and validates a gateway config. Throws core::ConfigError naming file, line and key for
// anything wrong, including references to unknown backends or pools and unknown policies.
GatewaySettings load_gateway_settings(const std::filesystem::path& file,
                                      const PolicyRegistry& registry, PolicyServices& services);
GatewaySettings read_gateway_settings(const core::ConfigNode& root, const PolicyRegistry& registry,
                                      PolicyServices& services);

}  // namespace sluice::gateway
