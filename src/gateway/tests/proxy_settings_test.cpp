// The gateway's outbound proxy settings: which proxy each backend and token endpoint gets.
#include <cstdlib>

#include <gtest/gtest.h>

#include "sluice/core/config.hpp"
#include "sluice/gateway/settings.hpp"

namespace sluice::gateway {
namespace {

// Clears the proxy variables for one test and puts back what was there.
class ProxyEnvironmentTest : public ::testing::Test {
 protected:
  static constexpr const char* kNames[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                           "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
  void SetUp() override {
    for (const char* name : kNames) {
      if (const char* value = std::getenv(name)) saved_.emplace_back(name, value);
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    for (const char* name : kNames) ::unsetenv(name);
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
  }

  static GatewaySettings load(std::string_view yaml) {
    PolicyRegistry registry;
    PolicyServices services;
    return read_gateway_settings(core::load_config_string(yaml, "gateway.yaml"), registry,
                                 services);
  }
  static std::string error_of(std::string_view yaml) {
    try {
      load(yaml);
    } catch (const core::ConfigError& e) {
      return e.what();
    }
    return "";
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
};

constexpr std::string_view kBackends = R"(
listeners: [{port: 8080}]
backends:
  - name: cloud
    url: "https://myaoai.openai.azure.com"
    auth: {type: oauth2, token_url: "https://login.microsoftonline.com/t/oauth2/v2.0/token",
           client_id: c, client_secret: s, scope: x}
  - {name: onprem, url: "https://llm.internal.corp"}
  - {name: local, url: "http://127.0.0.1:8000"}
)";

TEST_F(ProxyEnvironmentTest, DirectWithoutSettingsOrEnvironment) {
  auto s = load(kBackends);
  for (const auto& b : s.backends) EXPECT_FALSE(b.proxy) << b.name;
  EXPECT_FALSE(s.backends[0].auth.token_proxy);
}

TEST_F(ProxyEnvironmentTest, TopLevelProxyMinusNoProxy) {
  std::string yaml = std::string(kBackends) +
                     "proxy: \"http://svc:p%40ss@proxy.corp:3128\"\n"
                     "no_proxy: \".internal.corp, 127.0.0.1\"\n";
  auto s = load(yaml);
  ASSERT_TRUE(s.backends[0].proxy);
  EXPECT_EQ(s.backends[0].proxy->address(), "proxy.corp:3128");
  EXPECT_EQ(s.backends[0].proxy->password, "p@ss");
  EXPECT_EQ(s.backends[0].proxy->display(), "http://svc:***@proxy.corp:3128");
  ASSERT_TRUE(s.backends[0].auth.token_proxy);  // the token endpoint goes the same way
  EXPECT_EQ(s.backends[0].auth.token_proxy->address(), "proxy.corp:3128");
  EXPECT_FALSE(s.backends[1].proxy);  // .internal.corp
  EXPECT_FALSE(s.backends[2].proxy);  // 127.0.0.1
}

TEST_F(ProxyEnvironmentTest, TheEnvironmentAsCurlReadsIt) {
  ::setenv("HTTPS_PROXY", "http://envproxy:3128", 1);
  ::setenv("NO_PROXY", "internal.corp", 1);
  ::setenv("HTTP_PROXY", "http://httpoxy:1", 1);  // ignored, as curl ignores it
  auto s = load(kBackends);
  ::unsetenv("HTTP_PROXY");
  ASSERT_TRUE(s.backends[0].proxy);
  EXPECT_EQ(s.backends[0].proxy->address(), "envproxy:3128");
  EXPECT_EQ(s.backends[0].proxy->source, "HTTPS_PROXY");
  EXPECT_FALSE(s.backends[1].proxy);
  EXPECT_FALSE(s.backends[2].proxy);  // http target: only http_proxy or all_proxy would apply
}

TEST_F(ProxyEnvironmentTest, ABackendsOwnProxyWinsAndNoneGoesDirect) {
  ::setenv("HTTPS_PROXY", "http://envproxy:3128", 1);
  auto s = load(R"(
listeners: [{port: 8080}]
no_proxy: "*"
backends:
  - {name: mine, url: "https://a.example", proxy: "http://own:8080"}
  - {name: direct, url: "https://b.example", proxy: none}
  - {name: bypassed, url: "https://c.example"}
)");
  ASSERT_TRUE(s.backends[0].proxy);  // explicit for the backend: no_proxy does not undo it
  EXPECT_EQ(s.backends[0].proxy->address(), "own:8080");
  EXPECT_EQ(s.backends[0].proxy->source, "the proxy of backend 'mine'");
  EXPECT_FALSE(s.backends[1].proxy);
  EXPECT_FALSE(s.backends[2].proxy);
}

TEST_F(ProxyEnvironmentTest, TopLevelNoneIgnoresTheEnvironment) {
  ::setenv("HTTPS_PROXY", "http://envproxy:3128", 1);
  auto s = load(std::string(kBackends) + "proxy: none\n");
  for (const auto& b : s.backends) EXPECT_FALSE(b.proxy) << b.name;
  EXPECT_FALSE(s.backends[0].auth.token_proxy);
}

TEST_F(ProxyEnvironmentTest, BadProxyUrlsNameTheKeyAndHideThePassword) {
  std::string error = error_of(R"(
listeners: [{port: 8080}]
backends:
  - {name: a, url: "https://a.example", proxy: "https://u:sekr1t@proxy:443"}
)");
  EXPECT_NE(error.find("gateway.yaml:4"), std::string::npos) << error;
  EXPECT_NE(error.find("proxy"), std::string::npos) << error;
  EXPECT_NE(error.find("HTTPS proxies"), std::string::npos) << error;
  EXPECT_EQ(error.find("sekr1t"), std::string::npos) << error;

  ::setenv("https_proxy", "socks5://u:sekr1t@proxy:1080", 1);
  std::string from_env = error_of(kBackends);
  EXPECT_NE(from_env.find("https_proxy"), std::string::npos) << from_env;
  EXPECT_EQ(from_env.find("sekr1t"), std::string::npos) << from_env;
}

}  // namespace
}  // namespace sluice::gateway
