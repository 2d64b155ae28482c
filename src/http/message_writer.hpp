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

#include "http/framing_fields.hpp"
#include "http/message_head.hpp"
#include "sluice/http/asio.hpp"
#include "sluice/http/extra_fields.hpp"

namespace sluice::http {

// Sends what the socket takes at once; returns the bytes sent. A full send buffer is not an
// error (0 or a partial count comes back); a broken connection sets `ec`.
inline std::size_t send_without_waiting(TcpSocket& socket, std::string_view head,
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

// A message's send in two steps, so that the usual case costs no coroutine of its own:
// send_at_once() serialises the head into `head` (the connection's buffer, reused so a head costs
// no allocation) and, on a plain TCP stream, sends what the socket takes at once; when that was
// not all of it (or on TLS, or for a chunked message, which goes through Beast's serializer for
// its chunk framing), send_rest() writes the rest asynchronously. A caller on the hot path does
//   error_code ec;
//   auto progress = send_at_once(stream, message, head, ec);
//   if (!ec && !progress.done) ec = co_await send_rest(stream, message, head, progress, cancel);
struct SendProgress {
  bool done = false;     // the whole message went out
  std::size_t sent = 0;  // bytes of head + body sent so far
  bool chunked = false;  // send_rest() writes it all through Beast's serializer
};

//
// `extra` follows the message's fields in the head (extra_fields.hpp). A chunked message, which
// Beast's serializer writes, has them inserted into its fields instead: a caller that may send the
// same message again (a retry) folds them in once itself first (ExtraFields::insert_into).
template <class Stream, bool isRequest>
SendProgress send_at_once(Stream& stream,
                          bhttp::message<isRequest, bhttp::string_body, Fields>& message,
                          std::string& head, error_code& ec, const ExtraFields& extra = {}) {
  SendProgress progress;
  if (has_transfer_encoding(message) && message.chunked()) {
    for (const auto& field : extra) message.insert(field.name, field.value);
    progress.chunked = true;
    return progress;
  }
  head.clear();
  append_head(message.base(), head, extra);
  if constexpr (std::is_same_v<Stream, TcpStream>) {
    progress.sent = send_without_waiting(stream.socket(), head, message.body(), ec);
    progress.done = !ec && progress.sent == head.size() + message.body().size();
  }
  return progress;
}

template <class Stream, bool isRequest>
Task<error_code> send_rest(Stream& stream,
                           bhttp::message<isRequest, bhttp::string_body, Fields>& message,
                           std::string_view head, SendProgress progress,
                           asio::cancellation_slot cancel = {}) {
  if (progress.chunked) {
    auto [ec, n] = co_await bhttp::async_write(stream, message,
                                               asio::bind_cancellation_slot(cancel, kUseTuple));
    co_return ec;
  }
  std::string_view body = message.body();
  std::size_t head_sent = std::min(progress.sent, head.size());
  std::size_t body_sent = progress.sent - head_sent;
  std::array<asio::const_buffer, 2> rest{
      asio::buffer(head.data() + head_sent, head.size() - head_sent),
      asio::buffer(body.data() + body_sent, body.size() - body_sent)};
  auto [ec, n] =
      co_await asio::async_write(stream, rest, asio::bind_cancellation_slot(cancel, kUseTuple));
  co_return ec;
}

}  // namespace sluice::http
