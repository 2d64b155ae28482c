#include "http/proxy_tunnel.hpp"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

ProxyEndpoint proxy(const std::string& text) {
  auto parsed = parse_proxy_url(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(ProxyEndpoint{});
}

TEST(ProxyTunnel, ConnectRequestNamesTheOriginAndCarriesCredentials) {
  auto origin = *parse_url("https://api.example.com/openai/v1");
  EXPECT_EQ(connect_request(origin, proxy("http://127.0.0.1:8888")),
            "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n");
  EXPECT_EQ(connect_request(origin, proxy("http://user:pass@127.0.0.1:8888")),
            "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n"
            "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n");
  auto ipv6 = *parse_url("https://[::1]:8443");
  EXPECT_EQ(connect_request(ipv6, proxy("http://127.0.0.1:8888")),
            "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n");
}

TEST(ProxyTunnel, ParsesStatusLines) {
  auto ok = parse_connect_reply("HTTP/1.1 200 Connection established\r\n\r\n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200u);
  EXPECT_EQ(ok->reason, "Connection established");
  auto tinyproxy = parse_connect_reply(
      "HTTP/1.0 407 Proxy Authentication Required\r\nServer: tinyproxy/1.11.1\r\n"
      "Proxy-Authenticate: Basic realm=\"Tinyproxy\"\r\nContent-Length: 10\r\n\r\n");
  ASSERT_TRUE(tinyproxy);
  EXPECT_EQ(tinyproxy->status, 407u);
  EXPECT_EQ(tinyproxy->reason, "Proxy Authentication Required");
  auto bare = parse_connect_reply("HTTP/1.1 200\r\n\r\n");  // the reason may be absent
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 200u);
  EXPECT_EQ(bare->reason, "");
}

TEST(ProxyTunnel, RejectsWhatIsNotAStatusLine) {
  std::string error;
  EXPECT_FALSE(parse_connect_reply("SSH-2.0-OpenSSH_9.2\r\n\r\n", &error));
  EXPECT_NE(error.find("not an HTTP status line"), std::string::npos) << error;
  EXPECT_FALSE(parse_connect_reply("HTTP/1.1 2x0 OK\r\n\r\n", &error));
  EXPECT_FALSE(parse_connect_reply("HTTP/1.1 20 OK\r\n\r\n", &error));
  EXPECT_FALSE(parse_connect_reply("HTTP/1.1 999 Weird\r\n\r\n", &error));
  EXPECT_FALSE(parse_connect_reply("HTTP/2 200\r\n\r\n", &error));
  EXPECT_FALSE(parse_connect_reply("", &error));
}

TEST(ProxyTunnel, RefusalsNameTheProxyTheTargetAndTheRemedy) {
  auto origin = *parse_url("https://api.example.com");
  auto anonymous = proxy("http://127.0.0.1:8888");
  EXPECT_EQ(connect_refusal(anonymous, origin, {407, "Proxy Authentication Required"}),
            "proxy 127.0.0.1:8888 refused CONNECT to api.example.com:443: 407 Proxy "
            "Authentication Required — it wants credentials: give them as "
            "http://user:pass@host:port");
  auto with_user = proxy("http://alice:wrongpass@127.0.0.1:8888");
  with_user.source = "--proxy";
  std::string wrong = connect_refusal(with_user, origin, {407, "Proxy Authentication Required"});
  EXPECT_NE(wrong.find("did not accept the credentials of user 'alice' (from --proxy)"),
            std::string::npos)
      << wrong;
  EXPECT_EQ(wrong.find("wrongpass"), std::string::npos) << wrong;
  // tinyproxy answers wrong credentials with 401: the same advice.
  std::string tinyproxy = connect_refusal(with_user, origin, {401, "Unauthorized"});
  EXPECT_NE(
      tinyproxy.find(": 401 Unauthorized — it did not accept the credentials of user 'alice'"),
      std::string::npos)
      << tinyproxy;
  std::string forbidden = connect_refusal(anonymous, origin, {403, "Access violation"});
  EXPECT_NE(forbidden.find("403 Access violation"), std::string::npos) << forbidden;
  EXPECT_NE(forbidden.find("ConnectPort"), std::string::npos) << forbidden;
}

}  // namespace
}  // namespace sluice::http
