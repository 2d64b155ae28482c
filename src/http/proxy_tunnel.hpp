#pragma once
// A CONNECT tunnel through an HTTP proxy (RFC 9110 §9.3.6): the client asks the proxy for a
// byte stream to origin host:port, and once the proxy answers 2xx speaks TLS to the origin
// through it. The request and the parsing of the proxy's answer are plain functions so that
// tests can check them without a proxy.
#include <optional>
#include <string>
#include <string_view>

#include "sluice/http/asio.hpp"
#include "sluice/http/client.hpp"
#include "sluice/http/proxy_endpoint.hpp"
#include "sluice/http/url.hpp"

namespace sluice::http {

// "CONNECT host:port HTTP/1.1", Host, and Proxy-Authorization when the proxy has credentials.
std::string connect_request(const Url& origin, const ProxyEndpoint& proxy);

struct ConnectReply {
  unsigned status = 0;
  std::string reason;
};

// Reads the proxy's answer head: the status line and fields up to the blank line (included in
// `head`). Returns std::nullopt with a reason in *error when it is not an HTTP/1.x status line.
std::optional<ConnectReply> parse_connect_reply(std::string_view head,
                                                std::string* error = nullptr);

// What to tell a person when the proxy answered `reply` (not 2xx) to `refused` (e.g. "CONNECT
// to host:443"): who refused what, with which status, and what to do about it. Never contains
// the password.
std::string proxy_refusal(const ProxyEndpoint& proxy, std::string_view refused,
                          const ConnectReply& reply);
// proxy_refusal for a CONNECT to `origin`.
std::string connect_refusal(const ProxyEndpoint& proxy, const Url& origin,
                            const ConnectReply& reply);

// Asks `proxy` for a tunnel to `origin` over `stream`, already connected to the proxy. Bounded
// by the expiry the caller set on `stream` and by `max_reply_head` bytes of answer. Returns
// std::nullopt once the tunnel is open, otherwise the error to report (kind kConnect).
Task<std::optional<ClientError>> open_tunnel(TcpStream& stream, const Url& origin,
                                             const ProxyEndpoint& proxy, std::size_t max_reply_head,
                                             asio::cancellation_slot cancel);

}  // namespace sluice::http
