#include "http/proxy_tunnel.hpp"

#include <charconv>

namespace sluice::http {

namespace {

std::string authority(const Url& origin) {
  std::string host =
      origin.host.find(':') != std::string::npos ? "[" + origin.host + "]" : origin.host;
  return host + ":" + std::to_string(origin.port);
}

}  // namespace

std::string connect_request(const Url& origin, const ProxyEndpoint& proxy) {
  std::string target = authority(origin);
  std::string request = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
  if (!proxy.authorization.empty()) {
    request += "Proxy-Authorization: " + proxy.authorization + "\r\n";
  }
  request += "\r\n";
  return request;
}

std::optional<ConnectReply> parse_connect_reply(std::string_view head, std::string* error) {
  auto line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  // "HTTP/1.1 200 Connection established": version, space, three digits, then the reason.
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ' ||
      (line.size() > 12 && line[12] != ' ')) {
    if (error) {
      std::string shown(line.substr(0, 80));
      for (auto& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
      }
      *error = "not an HTTP status line: '" + shown + "'";
    }
    return std::nullopt;
  }
  ConnectReply reply;
  auto digits = line.substr(9, 3);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), reply.status);
  if (ec != std::errc() || end != digits.data() + digits.size() || reply.status < 100 ||
      reply.status > 599) {
    if (error) *error = "bad status code '" + std::string(digits) + "'";
    return std::nullopt;
  }
  if (line.size() > 13) reply.reason = std::string(line.substr(13));
  return reply;
}

std::string connect_refusal(const ProxyEndpoint& proxy, const Url& origin,
                            const ConnectReply& reply) {
  return proxy_refusal(proxy, "CONNECT to " + authority(origin), reply);
}

std::string proxy_refusal(const ProxyEndpoint& proxy, std::string_view refused,
                          const ConnectReply& reply) {
  std::string text = "proxy " + proxy.address() + " refused " + std::string(refused) + ": " +
                     std::to_string(reply.status);
  if (!reply.reason.empty()) text += " " + reply.reason;
  text += " — ";
  // RFC 9110 says 407, but tinyproxy (1.11) answers a CONNECT with wrong credentials 401.
  if (reply.status == 407 || reply.status == 401) {
    if (proxy.authorization.empty()) {
      text += "it wants credentials: give them as http://user:pass@host:port";
    } else {
      text += "it did not accept the credentials of user '" + proxy.username + "' (from " +
              (proxy.source.empty() ? std::string("the proxy URL") : proxy.source) + ")";
    }
  } else if (reply.status == 403) {
    text +=
        "its rules forbid tunnels to this host or port (tinyproxy: ConnectPort, Allow; squid: "
        "SSL_ports, http_access)";
  } else if (reply.status >= 500) {
    text += "it could not reach the target";
  } else {
    text += "only 2xx opens a tunnel";
  }
  return text;
}

Task<std::optional<ClientError>> open_tunnel(TcpStream& stream, const Url& origin,
                                             const ProxyEndpoint& proxy, std::size_t max_reply_head,
                                             asio::cancellation_slot cancel) {
  auto bound = asio::bind_cancellation_slot(cancel, kUseTuple);
  const std::string where = "proxy " + proxy.address() + " (CONNECT to " + authority(origin) + ")";
  auto failed = [&](error_code ec, std::string_view doing) {
    ClientErrorKind kind = ec == asio::error::operation_aborted ? ClientErrorKind::kCancelled
                                                                : ClientErrorKind::kConnect;
    std::string why = ec == beast::error::timeout ? std::string("timed out") : ec.message();
    return ClientError{kind, std::string(doing) + " " + where + ": " + why};
  };

  std::string request = connect_request(origin, proxy);
  auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(request), bound);
  if (write_ec) co_return failed(write_ec, "sending to");

  std::string head;
  auto buffer = asio::dynamic_buffer(head, max_reply_head);
  auto [read_ec, head_size] = co_await asio::async_read_until(stream, buffer, "\r\n\r\n", bound);
  if (read_ec == asio::error::not_found) {
    co_return ClientError{ClientErrorKind::kConnect, where + " answered with a head over " +
                                                         std::to_string(max_reply_head) + " bytes"};
  }
  if (read_ec) co_return failed(read_ec, "reading from");
  std::string why;
  auto reply = parse_connect_reply(std::string_view(head).substr(0, head_size), &why);
  if (!reply) co_return ClientError{ClientErrorKind::kConnect, where + " answered " + why};
  if (reply->status < 200 || reply->status > 299) {
    co_return ClientError{ClientErrorKind::kConnect, connect_refusal(proxy, origin, *reply)};
  }
  // The origin speaks only after our TLS ClientHello, so nothing can follow a proxy's 2xx yet;
  // bytes there would be lost to the TLS layer, and mean the proxy is not tunnelling.
  if (head.size() != head_size) {
    co_return ClientError{ClientErrorKind::kConnect, where + " sent data after its " +
                                                         std::to_string(reply->status) +
                                                         " before the tunnel was used"};
  }
  co_return std::nullopt;
}

}  // namespace sluice::http
