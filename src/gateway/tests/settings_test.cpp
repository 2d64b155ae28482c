#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sluice/core/config.hpp"
#include "sluice/gateway/policy.hpp"
#include "sluice/gateway/settings.hpp"

namespace sluice::gateway {
namespace {

GatewaySettings load(std::string_view yaml) {
  PolicyRegistry registry;
  PolicyServices services;
  return read_gateway_settings(core::load_config_string(yaml, "gateway.yaml"), registry, services);
}

std::string error_of(std::string_view yaml) {
  try {
    load(yaml);
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}

constexpr std::string_view kValid = R"(
listeners: [{port: 8080, threads: 2}]
admin: {port: 9090}
backends:
  - {name: ptu, url: "http://127.0.0.1:8001", auth: {type: api-key, key: k1}}
  - {name: paygo, url: "http://127.0.0.1:8002/", deployments: {gpt-4o: gpt-4o-paygo}}
pools:
  - name: chat
    members: [{backend: ptu, priority: 1}, {backend: paygo, priority: 2, weight: 3}]
    breaker: {failures: 2, trip_duration: 5s}
routes:
  - {name: all, match: {deployments: [gpt-4o]}, pool: chat}
)";

TEST(GatewaySettings, ReadsAValidConfig) {
  auto s = load(kValid);
  ASSERT_EQ(s.listeners.size(), 1u);
  EXPECT_EQ(s.listeners[0].threads, 2);
  ASSERT_TRUE(s.admin);
  EXPECT_EQ(s.backends[0].auth.kind, UpstreamAuthKind::kApiKey);
  EXPECT_EQ(s.backends[1].url.path, "");  // trailing slash dropped
  EXPECT_EQ(s.backends[1].deployments.at("gpt-4o"), "gpt-4o-paygo");
  EXPECT_EQ(s.pools[0].members[1].weight, 3);
  EXPECT_EQ(s.pools[0].breaker.trip_duration, std::chrono::seconds(5));
  EXPECT_EQ(s.routes[0].pool, "chat");
}

TEST(GatewaySettings, ErrorsNameFileLineAndKey) {
  std::string error = error_of(R"(
listeners: [{port: 8080}]
backends:
  - {name: a, url: "http://127.0.0.1:1"}
pools:
  - {name: p, members: [{backend: b}]}
)");
  EXPECT_NE(error.find("gateway.yaml:6"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown backend 'b'"), std::string::npos) << error;

  error = error_of("listeners: [{port: 8080, thread: 2}]\n");
  EXPECT_NE(error.find("gateway.yaml:1"), std::string::npos) << error;
  EXPECT_NE(error.find("thread"), std::string::npos) << error;

  error = error_of("listeners: [{port: 8080}]\nroutes: [{name: r, pool: nope}]\n");
  EXPECT_NE(error.find("unknown pool 'nope'"), std::string::npos) << error;

  error = error_of("listeners: [{port: 8080}]\npolicies: {token_limit: {}}\n");
  EXPECT_NE(error.find("unknown policy 'token_limit'"), std::string::npos) << error;

  error = error_of("listeners: [{port: 8080}]\nbackends: [{name: a, url: 'localhost:80'}]\n");
  EXPECT_NE(error.find("not an absolute URL"), std::string::npos) << error;
}

// A policy that reads the request's document (as the token limit's prompt count does) makes the
// gateway parse bodies with the DOM parser, whether it is configured at the top or on one route;
// without one the bodies are scanned.
TEST(GatewaySettings, ParsesRequestDocumentsOnlyWhenAPolicyReadsThem) {
  struct Reader final : Policy {
    explicit Reader(bool reads) : reads(reads) {}
    std::string_view name() const override { return "reader"; }
    PhaseOrder phase_order() const override { return PhaseOrder::kLimit; }
    bool reads_request_document() const override { return reads; }
    bool reads;
  };
  PolicyRegistry registry;
  registry.add("reader", [](const core::ConfigNode& section, PolicyServices&) -> PolicyPtr {
    return std::make_shared<Reader>(section.optional<bool>("reads", true));
  });
  auto load_with = [&](std::string_view yaml) {
    PolicyServices services;
    return read_gateway_settings(core::load_config_string(yaml, "gateway.yaml"), registry,
                                 services);
  };
  const std::string base = std::string(kValid);
  EXPECT_FALSE(load_with(base).parse_request_document);
  EXPECT_TRUE(load_with(base + "policies: {reader: {}}\n").parse_request_document);
  EXPECT_FALSE(load_with(base + "policies: {reader: {reads: false}}\n").parse_request_document);
  const std::string on_a_route = R"(
listeners: [{port: 8080}]
backends: [{name: ptu, url: "http://127.0.0.1:8001"}]
pools: [{name: chat, members: [{backend: ptu}]}]
routes:
  - {name: plain, match: {deployments: [a]}, pool: chat}
  - {name: limited, match: {deployments: [b]}, pool: chat, policies: {reader: {}}}
)";
  EXPECT_TRUE(load_with(on_a_route).parse_request_document);
}

}  // namespace
}  // namespace sluice::gateway
