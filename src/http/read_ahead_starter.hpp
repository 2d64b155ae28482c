#pragma once
// Starts the read-ahead (read_ahead.hpp) of each exchange that is still running `delay` after it
// began, so that a short exchange makes no read until it is over.
//
// Why: Asio 1.81 tries a read as soon as it is asked for one, and during an exchange the client is
// waiting for its answer, so the read-ahead's first try found nothing on every request: one
// failed recv a request, of the gateway's ~5.7 system calls and of the simulator's ~3
// (bench/gateway/syscalls.sh). After the exchange the session reads the next request at once:
// a socket whose last read was short is marked drained (src/http/asio_epoll_reactor.ipp), so that
// read waits for epoll without a failed try. An exchange that outlasts `delay` (an LLM call, a
// stream) gets its watch then: a client that hangs up is noticed at most about two `delay`s
// after its exchange began, and at once after that.
//
// One per worker, on its event loop's thread only. Exchanges join in the order they begin, so the
// list is sorted by start time and one timer, set for the oldest, serves them all; it waits only
// while some exchange is waiting. Its timer and its posted turns refer to it, so it must not go
// away while its loop can still run them: it goes with its worker, after that loop has stopped
// for good.
#include <boost/intrusive/list.hpp>
#include <chrono>

#include "http/read_ahead.hpp"
#include "sluice/http/asio.hpp"

namespace sluice::http {

class ReadAheadStarter {
 public:
  using Clock = std::chrono::steady_clock;

  ReadAheadStarter(const Executor& executor, std::chrono::milliseconds delay)
      : timer_(executor), delay_(delay) {}
  ReadAheadStarter(const ReadAheadStarter&) = delete;
  ReadAheadStarter& operator=(const ReadAheadStarter&) = delete;

  // Starts `read_ahead` once `delay` has passed since `begun` (its exchange's start, which the
  // session has read the clock for already), unless it leaves first (ReadAhead::stop_watching,
  // or its destruction). Exchanges are given in the order they began.
  void start_later(ReadAhead& read_ahead, Clock::time_point begun) {
    read_ahead.start_at_ = begun + delay_;
    waiting_.push_back(read_ahead);
    if (!scheduled_) wait_for(read_ahead.start_at_);
  }

 private:
  using List = boost::intrusive::list<ReadAhead, boost::intrusive::base_hook<ReadAheadHook>,
                                      boost::intrusive::constant_time_size<false>>;

  // Reads started in one go at most: 1,000 streams that began together come due together, and
  // their first tries (a system call each) would hold up the relay of the streams already
  // running. The rest start in the next turn of the loop, after the work queued meanwhile.
  static constexpr int kMostStartsAtOnce = 64;

  void wait_for(Clock::time_point when) {
    scheduled_ = true;
    timer_.expires_at(when);
    timer_.async_wait([this](error_code ec) {
      if (ec) return;  // cancelled: the starter is going away with its worker (do not touch it)
      start_due();
    });
  }

  void start_due() {
    scheduled_ = false;
    const auto now = Clock::now();
    for (int started = 0; !waiting_.empty() && waiting_.front().start_at_ <= now; ++started) {
      if (started == kMostStartsAtOnce) {
        scheduled_ = true;
        asio::post(timer_.get_executor(), [this] { start_due(); });
        return;
      }
      ReadAhead& due = waiting_.front();
      waiting_.pop_front();
      due.start();
    }
    if (!waiting_.empty()) wait_for(waiting_.front().start_at_);
  }

  SteadyTimer timer_;
  const std::chrono::milliseconds delay_;
  List waiting_;            // by start time, oldest first
  bool scheduled_ = false;  // the timer waits, or a turn of starts is posted
};

}  // namespace sluice::http
