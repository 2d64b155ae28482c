#include "gateway/policies/tracing/tracing_settings.hpp"

#include <algorithm>

#include "sluice/http/url.hpp"

namespace sluice::gateway {

namespace {

enum class Protocol { kHttpProtobuf, kHttpJson, kGrpc };

// OTLP/HTTP's traces path is <base>/v1/traces (as OTEL_EXPORTER_OTLP_ENDPOINT); a URL that already
// ends in it is taken as it is (as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
http::Url traces_url(const core::ConfigNode& node) {
  auto text = node.required<std::string>("endpoint");
  std::string why;
  auto url = http::parse_url(text, &why);
  if (!url) {
    node.fail_at("endpoint", "is not a usable URL (" + why +
                                 "); expected the collector's OTLP/HTTP address, e.g. "
                                 "http://127.0.0.1:4318");
  }
  if (url->path.find('?') != std::string::npos) {
    node.fail_at("endpoint", "must not carry a query string");
  }
  if (!url->path.ends_with("/v1/traces")) {
    while (!url->path.empty() && url->path.back() == '/') url->path.pop_back();
    url->path += "/v1/traces";
  }
  return *url;
}

// The section's own `proxy:` (a URL, or none) wins and is used as written, as a backend's own
// `proxy:` is; without it the collector is reached as the backends are: the config's default
// proxy for that URL, unless no_proxy names it.
std::optional<http::ProxyEndpoint> exporter_proxy(const core::ConfigNode& node,
                                                  const http::Url& endpoint,
                                                  const http::ProxySelection* defaults) {
  if (!node.find("proxy")) {
    const auto* chosen = defaults ? defaults->for_target(endpoint) : nullptr;
    return chosen ? std::optional<http::ProxyEndpoint>(*chosen) : std::nullopt;
  }
  auto text = node.required<std::string>("proxy");
  if (text.empty() || text == "none" || text == "direct") return std::nullopt;
  std::string why;
  auto proxy = http::parse_proxy_url(text, &why);
  if (!proxy) {
    node.fail_at("proxy", why +
                              "; expected http://[user:password@]host:port, or none to reach "
                              "the collector directly");
  }
  proxy->source = "policies.tracing.proxy";
  return proxy;
}

}  // namespace

TracingSettings TracingSettings::from_config(const core::ConfigNode& node,
                                             const http::ProxySelection* default_proxies) {
  TracingSettings s;
  auto& e = s.exporter;
  e.endpoint = traces_url(node);
  auto protocol = node.optional_choice<Protocol>("protocol",
                                                 {{"http/protobuf", Protocol::kHttpProtobuf},
                                                  {"http/json", Protocol::kHttpJson},
                                                  {"grpc", Protocol::kGrpc}},
                                                 Protocol::kHttpProtobuf);
  if (protocol != Protocol::kHttpProtobuf) {
    node.fail_at("protocol",
                 "sluice exports OTLP over HTTP with protobuf bodies only (http/protobuf, which "
                 "every OpenTelemetry collector accepts on port 4318); remove the key or set it to "
                 "http/protobuf");
  }
  s.sample_ratio = node.optional<double>("sample_ratio", s.sample_ratio);
  if (!(s.sample_ratio >= 0 && s.sample_ratio <= 1)) {
    node.fail_at("sample_ratio", "must be between 0 and 1 (1 keeps every trace)");
  }
  e.batch_size = node.optional<std::size_t>("batch_size", e.batch_size);
  if (e.batch_size == 0 || e.batch_size > 100'000) {
    node.fail_at("batch_size", "must be between 1 and 100000 spans");
  }
  // Unset, the queue grows with a larger batch rather than refusing a key the user did not write.
  e.queue_size = node.optional<std::size_t>("queue_size", std::max(e.queue_size, e.batch_size * 8));
  if (e.queue_size < e.batch_size || e.queue_size > 10'000'000) {
    node.fail_at("queue_size", "must be at least batch_size (" + std::to_string(e.batch_size) +
                                   ") and at most 10000000 spans");
  }
  e.interval = node.optional<std::chrono::milliseconds>("interval", e.interval);
  if (e.interval.count() <= 0) node.fail_at("interval", "must be positive, e.g. 1s");
  e.timeout = node.optional<std::chrono::milliseconds>("timeout", e.timeout);
  if (e.timeout.count() <= 0) node.fail_at("timeout", "must be positive, e.g. 5s");
  auto service_name = node.optional<std::string>("service_name", "sluice");
  if (service_name.empty()) node.fail_at("service_name", "must not be empty");
  e.resource.attributes.emplace_back("service.name", service_name);
  for (const auto& [key, value] : node.section("resource").entries()) {
    if (key == "service.name") value.fail("set the service name with `service_name`");
    e.resource.attributes.emplace_back(key, value.as<std::string>());
  }
  e.resource.attributes.emplace_back("telemetry.sdk.name", "sluice");
  e.resource.attributes.emplace_back("telemetry.sdk.language", "cpp");
  for (const auto& [name, value] : node.section("headers").entries()) {
    e.headers.emplace_back(name, value.as<std::string>());
  }
  e.proxy = exporter_proxy(node, e.endpoint, default_proxies);
  e.resource.scope_name = "sluice.gateway";
  node.finish();
  return s;
}

}  // namespace sluice::gateway
