// The client through a proxy, against stand-ins on loopback: a sluice Server playing a proxy for
// plain-http requests (absolute-form), and a scripted proxy answering CONNECT. The tunnel's
// success path is tested against a real tinyproxy in tests/e2e/proxy.test.mjs.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "core/tests/eventually.hpp"
#include "sluice/http/client.hpp"
#include "sluice/http/proxy_endpoint.hpp"
#include "sluice/http/server.hpp"

namespace sluice::http {
namespace {

using namespace std::chrono_literals;
using core::testing::kHangBound;

ClientResult<Response> fetch_through(const ClientSettings& settings, const std::string& target,
                                     const ProxyEndpoint& via) {
  asio::io_context io;
  ClientPool pool(io.get_executor(), settings);
  auto origin = *parse_url(target);
  Request request{bhttp::verb::get, origin.path, 11};
  auto future = asio::co_spawn(io, pool.fetch(origin, std::move(request), kHangBound, {}, &via),
                               asio::use_future);
  io.run();
  return future.get();
}

ProxyEndpoint proxy_at(std::uint16_t port, const std::string& credentials = "") {
  return *parse_proxy_url("http://" + credentials + "127.0.0.1:" + std::to_string(port));
}

// Answers one connection: reads a request head, writes `reply`, then waits for the client to
// close. What it read is in head() once the client is done.
class ScriptedProxy {
 public:
  explicit ScriptedProxy(std::string reply)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), reply_(std::move(reply)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedProxy() { thread_.join(); }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string head() { return head_.get_future().get(); }

 private:
  void serve() {
    TcpSocket socket(io_);
    error_code ec;
    acceptor_.accept(socket, ec);
    std::string head;
    char buf[4096];
    while (!ec && head.find("\r\n\r\n") == std::string::npos) {
      head.append(buf, socket.read_some(asio::buffer(buf), ec));
    }
    if (!reply_.empty()) asio::write(socket, asio::buffer(reply_), ec);
    while (!ec) socket.read_some(asio::buffer(buf), ec);  // until the client closes
    head_.set_value(head);
  }

  asio::io_context io_;
  TcpAcceptor acceptor_;
  std::string reply_;
  std::promise<std::string> head_;
  std::thread thread_;
};

// A sluice Server standing in for a proxy of plain-http requests: it answers 407 without
// credentials, and otherwise tells what it received.
class AbsoluteFormProxy {
 public:
  AbsoluteFormProxy()
      : server_(ServerSettings{}, [](Exchange& ex) -> Task<void> {
          auto& req = ex.request();
          auto auth = req.find(Field::proxy_authorization);
          if (auth == req.end()) {
            Response res{Status::proxy_authentication_required, 11};
            res.set(Field::proxy_authenticate, "Basic realm=\"test\"");
            co_await ex.send(std::move(res));
            co_return;
          }
          Response res{Status::ok, 11};
          res.body() = std::string(req.target()) + "|" + std::string(auth->value()) + "|" +
                       std::string(req[Field::host]);
          co_await ex.send(std::move(res));
        }) {
    server_.start();
  }
  ~AbsoluteFormProxy() { server_.shutdown(500ms); }
  std::uint16_t port() const { return server_.port(); }

 private:
  Server server_;
};

TEST(ProxyClient, PlainHttpGoesInAbsoluteFormWithCredentials) {
  AbsoluteFormProxy proxy;
  auto result = fetch_through({}, "http://origin.invalid:8080/v1/models?x=1",
                              proxy_at(proxy.port(), "user:pass@"));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->body(),
            "http://origin.invalid:8080/v1/models?x=1|Basic dXNlcjpwYXNz|"
            "origin.invalid:8080");
}

TEST(ProxyClient, AProxys407ToPlainHttpIsAnErrorNotAResponse) {
  AbsoluteFormProxy proxy;
  auto result = fetch_through({}, "http://origin.invalid/x", proxy_at(proxy.port()));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ClientErrorKind::kConnect);
  EXPECT_EQ(result.error().message,
            "proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                " refused requests to http://origin.invalid:80: 407 Proxy Authentication "
                "Required — it wants credentials: give them as http://user:pass@host:port");
}

TEST(ProxyClient, ARefusedConnectNamesTheProxyAndStatus) {
  ScriptedProxy proxy(
      "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n"
      "Content-Length: 0\r\n\r\n");
  auto via = proxy_at(proxy.port(), "alice:wrong@");
  auto result = fetch_through({}, "https://api.example.com/v1", via);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ClientErrorKind::kConnect);
  EXPECT_NE(result.error().message.find("proxy 127.0.0.1:" + std::to_string(proxy.port()) +
                                        " refused CONNECT to api.example.com:443: 407"),
            std::string::npos)
      << result.error().message;
  EXPECT_EQ(result.error().message.find("wrong"), std::string::npos) << result.error().message;
  EXPECT_EQ(proxy.head(),
            "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n"
            "Proxy-Authorization: Basic YWxpY2U6d3Jvbmc=\r\n\r\n");
}

TEST(ProxyClient, AnOversizedProxyAnswerIsRefused) {
  ScriptedProxy proxy("HTTP/1.1 200 Connection established\r\nX-Pad: " + std::string(4096, 'x'));
  ClientSettings settings;
  settings.max_response_header = 1024;
  auto result = fetch_through(settings, "https://api.example.com/", proxy_at(proxy.port()));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ClientErrorKind::kConnect);
  EXPECT_NE(result.error().message.find("head over 1024 bytes"), std::string::npos)
      << result.error().message;
}

TEST(ProxyClient, ASilentProxyTimesOutWithinTheConnectTimeout) {
  ScriptedProxy proxy("");  // reads the CONNECT, never answers
  ClientSettings settings;
  settings.connect_timeout = 200ms;
  auto result = fetch_through(settings, "https://api.example.com/", proxy_at(proxy.port()));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ClientErrorKind::kConnect);
  EXPECT_NE(result.error().message.find("timed out"), std::string::npos) << result.error().message;
}

}  // namespace
}  // namespace sluice::http
