#include "sluice/http/proxy_selection.hpp"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

Url url(const std::string& text) {
  auto parsed = parse_url(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(Url{});
}

bool bypasses(const std::string& list, const std::string& target) {
  return NoProxyRules(list).bypasses(url(target));
}

ProxyEnvironment environment(std::string http, std::string https, std::string all,
                             std::string no_proxy) {
  ProxyEnvironment env;
  env.http_proxy = {"http_proxy", std::move(http)};
  env.https_proxy = {"HTTPS_PROXY", std::move(https)};
  env.all_proxy = {"ALL_PROXY", std::move(all)};
  env.no_proxy = {"NO_PROXY", std::move(no_proxy)};
  return env;
}

TEST(NoProxyRules, MatchesDomainsWithOrWithoutLeadingDot) {
  EXPECT_TRUE(bypasses("example.com", "https://example.com"));
  EXPECT_TRUE(bypasses("example.com", "https://api.example.com"));
  EXPECT_TRUE(bypasses(".example.com", "https://api.example.com"));
  EXPECT_TRUE(bypasses(".example.com", "https://example.com"));
  EXPECT_TRUE(bypasses("EXAMPLE.com", "https://Api.Example.COM"));
  // A suffix must end at a dot: "notexample.com" is another domain.
  EXPECT_FALSE(bypasses("example.com", "https://notexample.com"));
  EXPECT_FALSE(bypasses("example.com", "https://example.com.evil.net"));
}

TEST(NoProxyRules, ReadsListsWithCommasAndSpaces) {
  EXPECT_TRUE(bypasses("localhost, internal.corp ,10.0.0.1", "http://10.0.0.1:8080"));
  EXPECT_TRUE(bypasses("localhost, internal.corp ,10.0.0.1", "http://svc.internal.corp"));
  EXPECT_TRUE(bypasses("localhost internal.corp", "http://localhost:9000"));
  EXPECT_FALSE(bypasses("localhost, internal.corp", "http://example.com"));
  EXPECT_FALSE(bypasses("", "http://example.com"));
  EXPECT_TRUE(NoProxyRules("").empty());
}

TEST(NoProxyRules, StarBypassesEverything) {
  EXPECT_TRUE(bypasses("*", "https://anything.example"));
  EXPECT_TRUE(bypasses("*", "http://127.0.0.1:1"));
}

TEST(NoProxyRules, MatchesAddressesAndNetworks) {
  EXPECT_TRUE(bypasses("127.0.0.1", "http://127.0.0.1:8080"));
  EXPECT_FALSE(bypasses("127.0.0.1", "http://127.0.0.2:8080"));
  EXPECT_TRUE(bypasses("10.0.0.0/8", "https://10.200.3.4"));
  EXPECT_FALSE(bypasses("10.0.0.0/8", "https://11.0.0.1"));
  EXPECT_TRUE(bypasses("::1", "http://[::1]:8080"));
  EXPECT_TRUE(bypasses("[::1]", "http://[::1]:8080"));
  EXPECT_TRUE(bypasses("fd00::/8", "http://[fd12::5]"));
  // An address entry is not a domain suffix: 1.2.3.4 must not match host 5.1.2.3.4 or names.
  EXPECT_FALSE(bypasses("0.0.1", "http://10.0.0.1"));
}

TEST(NoProxyRules, HostWithPortMatchesOnlyThatPort) {
  EXPECT_TRUE(bypasses("localhost:8443", "https://localhost:8443"));
  EXPECT_FALSE(bypasses("localhost:8443", "https://localhost:9443"));
  EXPECT_TRUE(bypasses("127.0.0.1:80", "http://127.0.0.1"));
  EXPECT_TRUE(bypasses("[::1]:8080", "http://[::1]:8080"));
  EXPECT_FALSE(bypasses("[::1]:8080", "http://[::1]:8081"));
}

TEST(ProxySelection, DirectByDefault) {
  ProxySelection none;
  EXPECT_EQ(none.for_target(url("https://api.openai.com")), nullptr);
  EXPECT_FALSE(none.any());
  auto empty = ProxySelection::make({}, environment("", "", "", ""));
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->any());
  EXPECT_EQ(empty->describe(), "https targets direct; http targets direct");
}

TEST(ProxySelection, PicksTheEnvironmentVariableForTheScheme) {
  auto selection = ProxySelection::make(
      {}, environment("http://plain:3128", "http://secure:3129", "http://all:1080", ""));
  ASSERT_TRUE(selection);
  const ProxyEndpoint* https = selection->for_target(url("https://api.openai.com"));
  ASSERT_NE(https, nullptr);
  EXPECT_EQ(https->url.host, "secure");
  EXPECT_EQ(https->source, "HTTPS_PROXY");
  const ProxyEndpoint* http = selection->for_target(url("http://example.com"));
  ASSERT_NE(http, nullptr);
  EXPECT_EQ(http->url.host, "plain");
}

TEST(ProxySelection, AllProxyFillsInForAMissingScheme) {
  auto selection =
      ProxySelection::make({}, environment("", "http://secure:3129", "http://all:1080", ""));
  ASSERT_TRUE(selection);
  EXPECT_EQ(selection->for_target(url("https://a.example"))->url.host, "secure");
  EXPECT_EQ(selection->for_target(url("http://a.example"))->url.host, "all");
  EXPECT_EQ(selection->for_target(url("http://a.example"))->source, "ALL_PROXY");
}

TEST(ProxySelection, ExplicitProxyWinsButNoProxyStillApplies) {
  ProxyOptions options;
  options.proxy = "http://u:pw@explicit:8888";
  auto selection = ProxySelection::make(
      options, environment("http://plain:3128", "http://secure:3129", "", "internal.corp"));
  ASSERT_TRUE(selection);
  EXPECT_EQ(selection->for_target(url("https://api.openai.com"))->url.host, "explicit");
  EXPECT_EQ(selection->for_target(url("http://api.openai.com"))->url.host, "explicit");
  EXPECT_EQ(selection->for_target(url("https://llm.internal.corp")), nullptr);
  EXPECT_NE(selection->describe().find("http://u:***@explicit:8888 (--proxy)"), std::string::npos)
      << selection->describe();
  EXPECT_EQ(selection->describe().find("pw"), std::string::npos) << selection->describe();
}

TEST(ProxySelection, AnEmptyExplicitProxyIgnoresTheEnvironment) {
  ProxyOptions options;
  options.proxy = "";
  auto selection = ProxySelection::make(
      options, environment("http://plain:3128", "http://secure:3129", "http://all:1", ""));
  ASSERT_TRUE(selection);
  EXPECT_FALSE(selection->any());
  EXPECT_EQ(selection->for_target(url("https://api.openai.com")), nullptr);
}

TEST(ProxySelection, ExplicitNoProxyReplacesTheEnvironments) {
  ProxyOptions options;
  options.no_proxy = "other.corp";
  auto selection =
      ProxySelection::make(options, environment("", "http://secure:3129", "", "internal.corp"));
  ASSERT_TRUE(selection);
  EXPECT_NE(selection->for_target(url("https://llm.internal.corp")), nullptr);
  EXPECT_EQ(selection->for_target(url("https://x.other.corp")), nullptr);
}

TEST(ProxySelection, LoopbackIsProxiedUnlessListedAsInCurl) {
  auto proxied = ProxySelection::make({}, environment("", "http://secure:3129", "", ""));
  ASSERT_TRUE(proxied);
  EXPECT_NE(proxied->for_target(url("https://127.0.0.1:8443")), nullptr);
  auto listed =
      ProxySelection::make({}, environment("", "http://secure:3129", "", "localhost,127.0.0.1"));
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->for_target(url("https://127.0.0.1:8443")), nullptr);
}

TEST(ProxySelection, ABadVariableIsNamedAndItsPasswordHidden) {
  std::string error;
  auto selection =
      ProxySelection::make({}, environment("", "socks5://u:hunter22@proxy:1080", "", ""), &error);
  EXPECT_FALSE(selection);
  EXPECT_NE(error.find("HTTPS_PROXY"), std::string::npos) << error;
  EXPECT_EQ(error.find("hunter22"), std::string::npos) << error;
}

}  // namespace
}  // namespace sluice::http
