#pragma once
// Sends a serialised head and its body, in one system call when the socket can take them.
//
// On a plain TCP stream the first try is one non-blocking sendmsg of both parts: a message that
// fits the socket's send buffer (nearly every response and upstream request) then costs one
// system call and no asynchronous operation, no timer and no trip through the event loop. What
// did not fit is written asynchronously, bounded by the expiry the caller set on the stream and
// cancellable through `cancel`. TLS streams always take the asynchronous path.
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <string_view>
#include <type_traits>

#include "http/message_head.hpp"
#include "sluice/http/asio.hpp"

namespace sluice::http {

// Sends what the socket takes at once; returns the bytes sent. A full send buffer is not an
// error (0 or a partial count comes back); a broken connection sets `ec`.
inline std::size_t send_without_waiting(asio::ip::tcp::socket& socket, std::string_view head,
                                        std::string_view body, error_code& ec) {
  iovec parts[2] = {{const_cast<char*>(head.data()), head.size()},
                    {const_cast<char*>(body.data()), body.size()}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = body.empty() ? 1 : 2;
  for (;;) {
    ssize_t sent = ::sendmsg(socket.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<std::size_t>(sent);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      ec.assign(errno, boost::system::system_category());
    }
    return 0;
  }
}

template <class Stream>
Task<error_code> write_head_and_body(Stream& stream, std::string_view head, std::string_view body,
                                     asio::cancellation_slot cancel = {}) {
  std::size_t sent = 0;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    error_code ec;
    sent = send_without_waiting(stream.socket(), head, body, ec);
    if (ec) co_return ec;
    if (sent == head.size() + body.size()) co_return error_code{};
  }
  std::size_t head_sent = std::min(sent, head.size());
  std::size_t body_sent = sent - head_sent;
  std::array<asio::const_buffer, 2> rest{
      asio::buffer(head.data() + head_sent, head.size() - head_sent),
      asio::buffer(body.data() + body_sent, body.size() - body_sent)};
  auto [ec, n] =
      co_await asio::async_write(stream, rest, asio::bind_cancellation_slot(cancel, kUseTuple));
  co_return ec;
}

// Writes a whole request or response: its head serialised into `head` (the connection's buffer,
// reused so a head costs no allocation) and sent with the body as above; a chunked message goes
// through Beast's serializer, which writes the chunk framing.
template <class Stream, bool isRequest>
Task<error_code> write_message(Stream& stream,
                               bhttp::message<isRequest, bhttp::string_body>& message,
                               std::string& head, asio::cancellation_slot cancel = {}) {
  if (message.chunked()) {
    auto [ec, n] = co_await bhttp::async_write(stream, message,
                                               asio::bind_cancellation_slot(cancel, kUseTuple));
    co_return ec;
  }
  head.clear();
  append_head(message.base(), head);
  co_return co_await write_head_and_body(stream, head, message.body(), cancel);
}

}  // namespace sluice::http
