#include "sluice/http/proxy_endpoint.hpp"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

TEST(ProxyEndpoint, ReadsHostPortAndBasicCredentials) {
  auto proxy = parse_proxy_url("http://alice:s3cret@127.0.0.1:8888");
  ASSERT_TRUE(proxy);
  EXPECT_EQ(proxy->url.host, "127.0.0.1");
  EXPECT_EQ(proxy->url.port, 8888);
  EXPECT_EQ(proxy->username, "alice");
  EXPECT_EQ(proxy->password, "s3cret");
  EXPECT_EQ(proxy->authorization, "Basic YWxpY2U6czNjcmV0");  // base64("alice:s3cret")
  EXPECT_EQ(proxy->address(), "127.0.0.1:8888");
  EXPECT_EQ(proxy->display(), "http://alice:***@127.0.0.1:8888");
}

TEST(ProxyEndpoint, PercentDecodesCredentialsAsCurlDoes) {
  auto proxy = parse_proxy_url("http://dom%5Cuser:p%40ss%3Aword@proxy.corp:3128/");
  ASSERT_TRUE(proxy);
  EXPECT_EQ(proxy->username, "dom\\user");
  EXPECT_EQ(proxy->password, "p@ss:word");
  EXPECT_EQ(proxy->url.host, "proxy.corp");
}

TEST(ProxyEndpoint, DefaultsLikeCurl) {
  // No scheme means http://, no port means 1080.
  auto bare = parse_proxy_url("proxy.corp");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->url.port, 1080);
  EXPECT_TRUE(bare->authorization.empty());
  EXPECT_EQ(bare->display(), "http://proxy.corp:1080");
  auto ipv6 = parse_proxy_url("http://[::1]:3128");
  ASSERT_TRUE(ipv6);
  EXPECT_EQ(ipv6->url.host, "::1");
  EXPECT_EQ(ipv6->address(), "[::1]:3128");
}

TEST(ProxyEndpoint, RefusesWhatItCannotSpeakWithoutShowingThePassword) {
  std::string error;
  EXPECT_FALSE(parse_proxy_url("https://u:topsecret@proxy:443", &error));
  EXPECT_NE(error.find("HTTPS proxies"), std::string::npos) << error;
  EXPECT_EQ(error.find("topsecret"), std::string::npos) << error;
  EXPECT_FALSE(parse_proxy_url("socks5://u:topsecret@proxy:1080", &error));
  EXPECT_NE(error.find("socks5"), std::string::npos) << error;
  EXPECT_EQ(error.find("topsecret"), std::string::npos) << error;
  EXPECT_FALSE(parse_proxy_url("http://u:topsecret@proxy:99999", &error));
  EXPECT_NE(error.find("invalid port"), std::string::npos) << error;
  EXPECT_EQ(error.find("topsecret"), std::string::npos) << error;
}

TEST(ProxyEndpoint, MasksPasswordsInUrls) {
  EXPECT_EQ(mask_url_password("http://u:pw@h:1/x"), "http://u:***@h:1/x");
  EXPECT_EQ(mask_url_password("u:pw@h:1"), "u:***@h:1");
  EXPECT_EQ(mask_url_password("http://h:1/a@b"), "http://h:1/a@b");  // '@' in the path
  EXPECT_EQ(mask_url_password("http://user@h:1"), "http://user@h:1");
}

}  // namespace
}  // namespace sluice::http
