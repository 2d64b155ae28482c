#pragma once
// A deadline for reads on a connection that, unlike beast::tcp_stream's own timeout, cancels the
// pending operations but keeps the socket open: the server can still answer 408 to a client
// that is too slow, and the client tells a timeout from a hang-up by timed_out().
//
// Arming and disarming only move a time stamp: the timer is started when none is waiting and,
// when it fires, compares the time with the deadline of that moment (waiting again if the
// deadline moved later, doing nothing if disarmed). A keep-alive connection whose requests come
// faster than the timeout thus costs no timer operation per request; arming and cancelling a
// timer per read was two trips through the event loop and a timerfd update each time.
//
// After a timeout the connection can still be written to but never read again: close it after
// the answer. One per connection, on its event loop's thread only.
#include <chrono>
#include <cstdint>
#include <memory>

#include "sluice/http/asio.hpp"

namespace sluice::http {

class ReadDeadline {
 public:
  using Clock = SteadyTimer::clock_type;

  ReadDeadline(const Executor& executor, TcpSocket& socket) : timer_(executor), socket_(socket) {}
  ~ReadDeadline() { *alive_ = false; }
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;

  void arm(std::chrono::milliseconds timeout) {
    timed_out_ = false;
    deadline_ = Clock::now() + timeout;
    // A wait that ends no later than the new deadline re-checks when it fires.
    if (waiting_ && timer_.expiry() <= deadline_) return;
    timer_.expires_at(deadline_);  // ends a later wait; its handler sees it was superseded
    wait();
  }
  void disarm() { deadline_ = Clock::time_point::max(); }
  // Disarms and ends the wait: a pending wait keeps its event loop's run() from returning, which
  // a connection at rest in a client pool must not do.
  void rest() {
    disarm();
    if (!waiting_) return;
    waiting_ = false;
    ++waits_;  // the cancelled wait's handler sees it was superseded
    timer_.cancel();
  }
  bool timed_out() const { return timed_out_; }

 private:
  void wait() {
    waiting_ = true;
    timer_.async_wait([this, wait = ++waits_, alive = alive_](error_code ec) {
      if (!*alive || wait != waits_) return;  // gone, or superseded by a newer wait
      waiting_ = false;
      if (ec || deadline_ == Clock::time_point::max()) return;
      if (Clock::now() < deadline_) {
        timer_.expires_at(deadline_);
        this->wait();
        return;
      }
      timed_out_ = true;
      // Cancelling ends the read that is pending; shutting the receiving side ends at once any
      // read started after this handler was queued (a composed read between two of its steps).
      // Writing stays possible, for a 408.
      error_code ignored;
      socket_.cancel(ignored);
      socket_.shutdown(asio::socket_base::shutdown_receive, ignored);
    });
  }

  SteadyTimer timer_;
  TcpSocket& socket_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Clock::time_point deadline_ = Clock::time_point::max();
  std::uint64_t waits_ = 0;
  bool waiting_ = false;
  bool timed_out_ = false;
};

}  // namespace sluice::http
