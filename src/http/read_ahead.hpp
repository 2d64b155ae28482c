#pragma once
// Reading ahead on a plain TCP connection while its handler works. One read of the next bytes
// is left outstanding during the exchange; it does two jobs at the cost of none:
//   - a client that hangs up (EOF or reset) is noticed at once, and the exchange's
//     cancellation signal fires, so the gateway stops waiting on an upstream for nobody;
//   - when the handler is done, that same read is the start of the next request, so keep-alive
//     costs no extra system call. (Waiting for readability instead, with async_wait, re-arms the
//     descriptor in epoll on every request: one epoll_ctl each, and a cancellation after.)
// Bytes that arrive early (a pipelined request) are kept in the session's buffer.
//
// The read starts only once the exchange has run a while (ReadAheadStarter,
// read_ahead_starter.hpp): Asio 1.81 tries a read at once, and while the client waits for its
// answer that try always finds nothing, one failed system call per request. Most exchanges are
// over before anyone could hang up on them; those that are not get their watch a few
// milliseconds in.
//
// One per connection, in the session's coroutine frame; worker thread only. The session must
// call finish() before the object goes away if a read may be pending.
// Before Boost.Asio and Beast, as in every file (sluice/http/asio_short_read.hpp says why).
#include "sluice/http/asio.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/intrusive/list_hook.hpp>
#include <chrono>

namespace sluice::http {

// The hook by which a ReadAhead waits in its worker's ReadAheadStarter; it leaves the starter's
// list by itself when the ReadAhead goes away.
using ReadAheadHook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

class ReadAhead : public ReadAheadHook {
 public:
  ReadAhead(TcpSocket& socket, beast::flat_buffer& buffer)
      : socket_(socket), buffer_(buffer), wake_(socket.get_executor()) {}

  // An exchange begins: a hang-up from now until stop_watching() fires slot(), once the read has
  // started (start()).
  void begin_exchange() {
    // No operation of the previous exchange is bound to the slot any more; drop whatever
    // cancellation handler it left there, so an emit cannot reach it.
    signal_.slot().clear();
    watching_ = true;
  }

  // Starts the read. Needs: no read pending.
  void start() {
    pending_ = true;
    result_ = {};
    socket_.async_read_some(buffer_.prepare(kReadSize), [this](error_code ec, std::size_t n) {
      pending_ = false;
      buffer_.commit(n);
      result_ = ec;
      if (ec && watching_) {
        gone_ = true;
        signal_.emit(asio::cancellation_type::terminal);
      }
      if (awaiting_) wake_.cancel();
    });
  }

  // The exchange is over: a hang-up from now on is the next read's business. A read not started
  // yet is not started by the starter either.
  void stop_watching() {
    watching_ = false;
    unlink();
  }

  // Waits for the pending read, if any, and gives its error (none if data came, or nothing
  // was pending). Cancelling the socket (idle deadline, drain) ends the wait with
  // operation_aborted.
  Task<error_code> finish() {
    if (pending_) {
      awaiting_ = true;
      wake_.expires_at(SteadyTimer::time_point::max());
      co_await wake_.async_wait(kUseTuple);
      awaiting_ = false;
    }
    co_return result_;
  }

  bool pending() const { return pending_; }
  bool gone() const { return gone_; }
  asio::cancellation_slot slot() { return signal_.slot(); }

 private:
  static constexpr std::size_t kReadSize = 4096;

  TcpSocket& socket_;
  beast::flat_buffer& buffer_;
  SteadyTimer wake_;
  asio::cancellation_signal signal_;
  error_code result_;
  friend class ReadAheadStarter;
  std::chrono::steady_clock::time_point start_at_;  // when its starter is to start the read
  bool pending_ = false;
  bool watching_ = false;
  bool awaiting_ = false;
  bool gone_ = false;
};

}  // namespace sluice::http
