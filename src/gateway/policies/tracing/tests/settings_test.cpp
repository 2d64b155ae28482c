#include "gateway/policies/tracing/tracing_settings.hpp"

#include <gtest/gtest.h>

#include "core/tests/config_error_of.hpp"
#include "sluice/core/config.hpp"

namespace sluice::gateway {
namespace {

TracingSettings parse(std::string_view yaml) {
  auto root = core::load_config_string(yaml, "test.yaml");
  return TracingSettings::from_config(root);
}

std::string error_of(std::string_view yaml) {
  return core::testing::config_error_of([&] { parse(yaml); });
}

std::string resource_value(const TracingSettings& s, std::string_view key) {
  for (const auto& [name, value] : s.exporter.resource.attributes) {
    if (name == key) return value;
  }
  return "";
}

TEST(TracingSettings, ReadsEverything) {
  auto s = parse(R"(
endpoint: http://collector:4318/
protocol: http/protobuf
sample_ratio: 0.25
batch_size: 100
queue_size: 1000
interval: 250ms
timeout: 2s
service_name: gateway-eu
resource: {deployment.environment: prod}
headers: {x-api-key: secret}
)");
  EXPECT_EQ(s.exporter.endpoint.host, "collector");
  EXPECT_EQ(s.exporter.endpoint.port, 4318);
  EXPECT_EQ(s.exporter.endpoint.path, "/v1/traces");
  EXPECT_EQ(s.sample_ratio, 0.25);
  EXPECT_EQ(s.exporter.batch_size, 100u);
  EXPECT_EQ(s.exporter.queue_size, 1000u);
  EXPECT_EQ(s.exporter.interval, std::chrono::milliseconds(250));
  EXPECT_EQ(s.exporter.timeout, std::chrono::seconds(2));
  EXPECT_EQ(resource_value(s, "service.name"), "gateway-eu");
  EXPECT_EQ(resource_value(s, "deployment.environment"), "prod");
  ASSERT_EQ(s.exporter.headers.size(), 1u);
  EXPECT_EQ(s.exporter.headers[0].first, "x-api-key");
}

TEST(TracingSettings, DefaultsKeepEveryTraceAsService_sluice) {
  auto s = parse("endpoint: http://127.0.0.1:4318\n");
  EXPECT_EQ(s.sample_ratio, 1.0);
  EXPECT_EQ(resource_value(s, "service.name"), "sluice");
  EXPECT_EQ(s.exporter.endpoint.path, "/v1/traces");
  EXPECT_EQ(s.exporter.batch_size, 1024u);
  EXPECT_EQ(s.exporter.queue_size, 8192u);
}

// A user who sets a larger batch and no queue is not told off about the queue they did not set.
TEST(TracingSettings, AnUnsetQueueHoldsEightOfALargerBatch) {
  auto s = parse("endpoint: http://127.0.0.1:4318\nbatch_size: 5000\n");
  EXPECT_EQ(s.exporter.batch_size, 5000u);
  EXPECT_EQ(s.exporter.queue_size, 40000u);
  EXPECT_EQ(parse("endpoint: http://127.0.0.1:4318\nbatch_size: 100\n").exporter.queue_size, 8192u);
}

TEST(TracingSettings, AFullTracesUrlIsTakenAsItIs) {
  auto s = parse("endpoint: https://otel.example.com/otlp/v1/traces\n");
  EXPECT_EQ(s.exporter.endpoint.path, "/otlp/v1/traces");
  EXPECT_TRUE(s.exporter.endpoint.tls());
}

TEST(TracingSettings, ErrorsNameTheFileLineAndKey) {
  auto missing = error_of("sample_ratio: 0.5\n");
  EXPECT_NE(missing.find("endpoint"), std::string::npos) << missing;
  auto bad_url = error_of("sample_ratio: 0.5\nendpoint: collector:4318\n");
  EXPECT_NE(bad_url.find("test.yaml:2"), std::string::npos) << bad_url;
  EXPECT_NE(bad_url.find("endpoint"), std::string::npos) << bad_url;
  auto ratio = error_of("endpoint: http://c:4318\nsample_ratio: 1.5\n");
  EXPECT_NE(ratio.find("test.yaml:2"), std::string::npos) << ratio;
  EXPECT_NE(ratio.find("between 0 and 1"), std::string::npos) << ratio;
  auto grpc = error_of("endpoint: http://c:4318\nprotocol: grpc\n");
  EXPECT_NE(grpc.find("http/protobuf"), std::string::npos) << grpc;
  auto typo = error_of("endpoint: http://c:4318\nprotocol: http/protobf\n");
  EXPECT_NE(typo.find("http/protobuf"), std::string::npos) << typo;
  auto queue = error_of("endpoint: http://c:4318\nbatch_size: 100\nqueue_size: 10\n");
  EXPECT_NE(queue.find("queue_size"), std::string::npos) << queue;
  auto timeout = error_of("endpoint: http://c:4318\ntimeout: 0s\n");
  EXPECT_NE(timeout.find("timeout"), std::string::npos) << timeout;
  auto unknown = error_of("endpoint: http://c:4318\nsample_rate: 0.5\n");
  EXPECT_NE(unknown.find("sample_ratio"), std::string::npos) << unknown;  // did you mean
}

// The config's default proxies as the gateway builds them from `proxy:` and `no_proxy:`.
http::ProxySelection default_proxies(std::string proxy, std::string no_proxy = "") {
  http::ProxyOptions options;
  options.proxy = std::move(proxy);
  options.proxy_source = "the top-level proxy setting";
  if (!no_proxy.empty()) options.no_proxy = std::move(no_proxy);
  std::string why;
  auto selection = http::ProxySelection::make(options, http::ProxyEnvironment{}, &why);
  EXPECT_TRUE(selection) << why;
  return selection ? *selection : http::ProxySelection{};
}

TracingSettings parse_with(std::string_view yaml, const http::ProxySelection& defaults) {
  auto root = core::load_config_string(yaml, "test.yaml");
  return TracingSettings::from_config(root, &defaults);
}

TEST(TracingSettings, ExportsGoThroughTheConfigsDefaultProxy) {
  auto defaults = default_proxies("http://user:pw@10.0.0.1:3128");
  auto s = parse_with("endpoint: http://collector:4318\n", defaults);
  ASSERT_TRUE(s.exporter.proxy);
  EXPECT_EQ(s.exporter.proxy->address(), "10.0.0.1:3128");
  EXPECT_EQ(s.exporter.proxy->username, "user");
  EXPECT_FALSE(parse("endpoint: http://collector:4318\n").exporter.proxy) << "no defaults: direct";
}

TEST(TracingSettings, NoProxyExemptsTheCollector) {
  auto defaults = default_proxies("http://10.0.0.1:3128", "collector,.internal");
  EXPECT_FALSE(parse_with("endpoint: http://collector:4318\n", defaults).exporter.proxy);
  EXPECT_FALSE(parse_with("endpoint: http://otel.internal:4318\n", defaults).exporter.proxy);
  EXPECT_TRUE(parse_with("endpoint: http://otel.example.com:4318\n", defaults).exporter.proxy);
}

TEST(TracingSettings, ItsOwnProxyWinsAndNoneGoesDirect) {
  auto defaults = default_proxies("http://10.0.0.1:3128", "collector");
  auto own = parse_with("endpoint: http://collector:4318\nproxy: http://10.9.9.9:8080\n", defaults);
  ASSERT_TRUE(own.exporter.proxy) << "named explicitly: no_proxy does not undo it";
  EXPECT_EQ(own.exporter.proxy->address(), "10.9.9.9:8080");
  EXPECT_EQ(own.exporter.proxy->source, "policies.tracing.proxy");
  EXPECT_FALSE(
      parse_with("endpoint: http://elsewhere:4318\nproxy: none\n", defaults).exporter.proxy);
}

TEST(TracingSettings, AnUnusableProxyNamesTheKeyAndHidesThePassword) {
  auto socks = error_of("endpoint: http://c:4318\nproxy: socks5://u:hidden-pw@10.0.0.1:1080\n");
  EXPECT_NE(socks.find("test.yaml:2"), std::string::npos) << socks;
  EXPECT_NE(socks.find("proxy"), std::string::npos) << socks;
  EXPECT_NE(socks.find("or none"), std::string::npos) << socks;
  EXPECT_EQ(socks.find("hidden-pw"), std::string::npos) << socks;
}

TEST(TracingSettings, AnotherProxyIsAnotherExporterSetting) {
  auto a = parse("endpoint: http://c:4318\nproxy: http://10.0.0.1:3128\n").exporter;
  auto b = parse("endpoint: http://c:4318\nproxy: http://10.0.0.2:3128\n").exporter;
  auto none = parse("endpoint: http://c:4318\n").exporter;
  EXPECT_TRUE(a == parse("endpoint: http://c:4318\nproxy: http://10.0.0.1:3128\n").exporter);
  EXPECT_FALSE(a == b);
  EXPECT_FALSE(a == none);
}

}  // namespace
}  // namespace sluice::gateway
