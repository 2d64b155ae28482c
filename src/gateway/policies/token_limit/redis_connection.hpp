#pragma once
// One event loop's connection to Redis for one RedisClient (redis_client.hpp says what it does for
// its callers). Everything here runs on the loop's one thread; nothing takes a lock.
//
// A call is queued (`waiting_`) and a flush is posted behind the handlers the loop already has
// ready, so the calls their requests make join it: the flush formats every waiting call into one
// buffer and writes it, and the calls move to `in_flight_`, whose order is the replies' order.
// One read is always pending while connected, so a server that closes an idle connection is seen
// at once; a timer watches the earliest deadline of what is in flight.
//
// The connections of a loop live in an io_context service (RedisConnections), so they go with
// their loop: a test's short-lived io_context leaves no connection behind on a dead executor.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "gateway/policies/token_limit/redis_client.hpp"
#include "gateway/policies/token_limit/resp_reader.hpp"

namespace sluice::gateway::token_limit {

// What a client's connections share, across every event loop. Outlives the client while a
// connection holds it.
struct RedisShared {
  RedisShared(RedisSettings settings, std::vector<std::string> scripts);

  const RedisSettings settings;
  const std::vector<std::string> scripts;
  const std::vector<std::string> shas;  // SHA-1 of each script, lowercase hex: EVALSHA's name
  std::atomic<std::int64_t> down_until_ns{0};  // steady clock
  std::atomic<std::uint64_t> connects{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<bool> retired{false};  // the client is gone: close once idle

  bool up() const;
  void mark_down();
};

// One caller's share of a batched call (RedisClient::eval_batched).
struct RedisPart {
  RespStrings keys;
  RespStrings args;
  RedisClient::Done done;
};

struct RedisCall {
  std::size_t script = 0;
  RespStrings keys;
  RespStrings args;
  RedisClient::Prepare prepare;  // optional: fills keys and args when the call is written
  RedisClient::SteadyTime deadline;
  RedisClient::Done done;
  // A batched call's parts, each with its own keys, arguments and `done` (then `keys`, `args`
  // and `done` above are unused). `alone`: a part that failed in a batch, sent again by itself;
  // nothing joins it.
  std::vector<RedisPart> parts;
  bool alone = false;
  bool resent = false;   // already sent again on a fresh connection once
  bool as_eval = false;  // the server did not know the script: send its source
};

class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  RedisConnection(std::shared_ptr<RedisShared> shared, RedisClient::Executor executor);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  void submit(RedisCall call);
  // One caller's part of a batched call of `script` (RedisClient::eval_batched): it joins the call
  // of that script waiting here, if there is one, or starts one. On the loop's own thread.
  void submit_part(std::size_t script, RedisPart part, RedisClient::SteadyTime deadline);
  // The client is gone and nothing is queued or in flight: the connection can go.
  bool finished() const;
  void close();
  // The event loop is being destroyed: calls still queued are prepared (so gathered work is not
  // left marked as pending) and dropped with their `done`.
  void abandon();
  const RedisShared* shared() const { return shared_.get(); }

 private:
  enum class State { kClosed, kConnecting, kReady };

  void connect();
  void on_connected();
  std::string cannot_connect(const std::string& why) const;  // the error, naming host and port
  void schedule_flush();
  void flush();
  void write_out();
  void read_more();
  void take_replies();
  void arm_timer();
  void on_timer();
  // The connection failed. `closed_by_server`: the server ended it (EOF, reset), which alone allows
  // one more try on a fresh connection for what it never answered.
  void fail(const std::string& error, bool closed_by_server);
  void append(const RedisCall& call);
  // A waiting batched call of `script` that another part may join, or nullptr.
  RedisCall* open_batch(std::size_t script);
  void answer(RedisCall& call, RedisReply reply);
  void answer_parts(RedisCall& call, RedisReply reply);
  void answer_failed(RedisCall& call, const std::string& error);

  std::shared_ptr<RedisShared> shared_;
  RedisClient::Executor executor_;
  http::TcpSocket socket_;
  http::SteadyTimer timer_;
  State state_ = State::kClosed;
  // Bumped whenever the socket is closed: handlers of an earlier socket see it and do nothing.
  std::uint64_t generation_ = 0;
  std::deque<RedisCall> waiting_;
  std::deque<RedisCall> in_flight_;
  std::vector<std::string> handshake_;  // AUTH, SELECT: written first, their replies read first
  std::string out_;                     // commands formatted and not yet written
  std::string sending_;                 // the write in progress
  std::vector<char> read_buffer_;
  RespReader reader_;
  RespReply reply_;  // the reply being read, kept for its buffers
  bool flush_posted_ = false;
  bool writing_ = false;
  bool timer_armed_ = false;
  RedisClient::SteadyTime timer_at_;
  RedisClient::SteadyTime connect_deadline_;
  bool answered_ever_ = false;        // this socket has answered a call: it was working
  bool answered_since_idle_ = false;  // ... and has answered since calls met it idle
};

// The calling thread's connection for `shared` on `executor`'s io_context, made on first use.
// Call on that io_context's thread.
RedisConnection& connection_for(const std::shared_ptr<RedisShared>& shared,
                                const RedisClient::Executor& executor);

}  // namespace sluice::gateway::token_limit
