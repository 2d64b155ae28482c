#include "gateway/policies/token_limit/redis_connection.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

namespace sluice::gateway::token_limit {

namespace asio = http::asio;
using SteadyClock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kReadBufferBytes = 16 * 1024;

std::string sha1_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::vector<std::string> sha1_of_each(const std::vector<std::string>& scripts) {
  std::vector<std::string> shas;
  shas.reserve(scripts.size());
  for (const auto& script : scripts) shas.push_back(sha1_hex(script));
  return shas;
}

// RESP, the protocol's request form: an array of bulk strings ("*<count>\r\n", then
// "$<length>\r\n<bytes>\r\n" each), written into `out` sized once for the whole command: a
// resize and then copies, instead of an append, a to_string and a strlen per string (a batch of
// reservations is a few hundred strings).
class RespCommand {
 public:
  // `strings` and `bytes`: how many strings follow and their bytes in all, numbers counted as
  // kNumberBytes each and strings already written (written()) at their whole written size.
  static constexpr std::size_t kNumberBytes = 20;
  RespCommand(std::string& out, std::size_t strings, std::size_t bytes) : out_(out) {
    const std::size_t start = out.size();
    out_.resize(start + kNumberBytes + 3 + strings * kPerString + bytes);
    at_ = out_.data() + start;
    *at_++ = '*';
    at_ = std::to_chars(at_, at_ + kNumberBytes, strings).ptr;
    at_ = crlf(at_);
  }
  RespCommand(const RespCommand&) = delete;
  RespCommand& operator=(const RespCommand&) = delete;
  ~RespCommand() { out_.resize(static_cast<std::size_t>(at_ - out_.data())); }

  void bulk(std::string_view value) {
    at_ = write_bulk_head(at_, value.size());
    std::memcpy(at_, value.data(), value.size());
    at_ = crlf(at_ + value.size());
  }
  void bulk(std::size_t number) {
    char text[kNumberBytes];
    char* end = std::to_chars(text, text + kNumberBytes, number).ptr;
    bulk(std::string_view(text, static_cast<std::size_t>(end - text)));
  }
  // Strings already in RESP's form (resp_strings.hpp), counted in the constructor's `strings`.
  void written(std::string_view resp) {
    std::memcpy(at_, resp.data(), resp.size());
    at_ += resp.size();
  }

 private:
  static constexpr std::size_t kPerString = kBulkHeadBytes + 2;  // the head, and the last CRLF
  static char* crlf(char* at) {
    at[0] = '\r';
    at[1] = '\n';
    return at + 2;
  }

  std::string& out_;
  char* at_;
};

RedisReply to_result(RespReply&& reply) {
  RedisReply result;
  result.status = RedisReply::Status::kOk;
  switch (reply.type) {
    case RespReply::Type::kInteger:
      result.integers = std::move(reply.integers);
      break;
    case RespReply::Type::kArray:
      if (!reply.only_integers) {
        result.status = RedisReply::Status::kError;
        result.error = "unexpected non-integer element in the script's reply";
        break;
      }
      result.integers = std::move(reply.integers);
      break;
    case RespReply::Type::kBulk:
      result.text = std::move(reply.text);
      break;
    case RespReply::Type::kNil:
      break;
    case RespReply::Type::kError:
      result.status = RedisReply::Status::kError;
      result.error = std::move(reply.text);
      break;
    case RespReply::Type::kStatus:
      result.status = RedisReply::Status::kError;
      result.error = "unexpected status reply \"" + reply.text + "\" to a script";
      break;
  }
  return result;
}

bool closed_by_peer(const boost::system::error_code& error) {
  return error == asio::error::eof || error == asio::error::connection_reset ||
         error == asio::error::broken_pipe;
}

}  // namespace

RedisShared::RedisShared(RedisSettings settings_in, std::vector<std::string> scripts_in)
    : settings(std::move(settings_in)),
      scripts(std::move(scripts_in)),
      shas(sha1_of_each(scripts)) {}

bool RedisShared::up() const {
  return SteadyClock::now().time_since_epoch().count() >=
         down_until_ns.load(std::memory_order_acquire);
}

void RedisShared::mark_down() {
  failures.fetch_add(1, std::memory_order_relaxed);
  auto until = SteadyClock::now() + settings.retry_interval;
  down_until_ns.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(until.time_since_epoch()).count(),
      std::memory_order_release);
}

RedisConnection::RedisConnection(std::shared_ptr<RedisShared> shared,
                                 RedisClient::Executor executor)
    : shared_(std::move(shared)),
      executor_(executor),
      socket_(executor),
      timer_(executor),
      read_buffer_(kReadBufferBytes) {}

RedisConnection::~RedisConnection() = default;

bool RedisConnection::finished() const {
  return shared_->retired.load(std::memory_order_relaxed) && waiting_.empty() && in_flight_.empty();
}

void RedisConnection::close() {
  ++generation_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  timer_armed_ = false;
  writing_ = false;
  state_ = State::kClosed;
  out_.clear();
  sending_.clear();
  handshake_.clear();
  reader_.reset();
}

void RedisConnection::abandon() {
  close();
  for (auto* calls : {&waiting_, &in_flight_}) {
    for (auto& call : *calls) {
      if (call.prepare) std::exchange(call.prepare, {})(call.keys, call.args);
    }
    calls->clear();
  }
}

void RedisConnection::submit(RedisCall call) {
  if (!shared_->up()) {
    answer_failed(call, "Redis is marked down after a failure; retrying after the retry interval");
    return;
  }
  waiting_.push_back(std::move(call));
  if (state_ == State::kClosed) {
    connect();
  } else if (state_ == State::kReady) {
    schedule_flush();
  }
}

void RedisConnection::submit_part(std::size_t script, RedisPart part,
                                  RedisClient::SteadyTime deadline) {
  if (shared_->up()) {
    if (RedisCall* batch = open_batch(script)) {
      // Its flush is already due (or its connection is being made).
      batch->parts.push_back(std::move(part));
      return;
    }
  }
  RedisCall call{script, {}, {}, {}, deadline, {}};
  call.parts.reserve(8);  // a turn's reservations, mostly; more grow it
  call.parts.push_back(std::move(part));
  submit(std::move(call));
}

RedisCall* RedisConnection::open_batch(std::size_t script) {
  for (auto it = waiting_.rbegin(); it != waiting_.rend(); ++it) {
    if (it->script == script && !it->parts.empty() && !it->alone && !it->resent) return &*it;
  }
  return nullptr;
}

// Always posted, never called inline: the caller may be in the middle of submit(), or of a loop
// over this connection's calls.
void RedisConnection::answer(RedisCall& call, RedisReply reply) {
  if (!call.parts.empty()) return answer_parts(call, std::move(reply));
  asio::post(executor_, [done = std::move(call.done), reply = std::move(reply)]() mutable {
    done(std::move(reply));
  });
}

// Each part gets its own slice of the reply (the protocol is eval_batched's); a part that failed
// within a batch goes again alone; anything else than a whole, well-formed reply is every part's
// failure.
void RedisConnection::answer_parts(RedisCall& call, RedisReply reply) {
  std::vector<std::pair<RedisClient::Done, RedisReply>> answers;
  answers.reserve(call.parts.size());
  if (reply.status == RedisReply::Status::kOk) {
    const auto& all = reply.integers;
    std::size_t at = 0;
    for (auto& part : call.parts) {
      const long long length = at < all.size() ? all[at] : -2;
      if (length == -1 && call.parts.size() > 1) {
        RedisCall again{call.script, {}, {}, {}, call.deadline, {}};
        again.parts.push_back(std::move(part));
        part.done = nullptr;  // answered by `again`, not below
        again.alone = true;
        submit(std::move(again));
        ++at;
        continue;
      }
      if (length < 0 || all.size() - at - 1 < static_cast<std::size_t>(length)) {
        reply.status = RedisReply::Status::kError;
        reply.error = "unexpected reply from a batched Redis script";
        break;
      }
      RedisReply own;
      own.status = RedisReply::Status::kOk;
      own.integers.assign(all.begin() + static_cast<std::ptrdiff_t>(at + 1),
                          all.begin() + static_cast<std::ptrdiff_t>(at + 1 + length));
      answers.emplace_back(std::exchange(part.done, nullptr), std::move(own));
      at += 1 + static_cast<std::size_t>(length);
    }
    if (reply.status == RedisReply::Status::kOk && at != all.size()) {
      reply.status = RedisReply::Status::kError;
      reply.error = "unexpected reply from a batched Redis script";
    }
  }
  if (reply.status != RedisReply::Status::kOk) {
    reply.integers.clear();
    for (auto& answer : answers) answer.second = reply;
    for (auto& part : call.parts) {
      if (part.done) answers.emplace_back(std::exchange(part.done, nullptr), reply);
    }
  }
  asio::post(executor_, [answers = std::move(answers)]() mutable {
    for (auto& [done, reply] : answers) done(std::move(reply));
  });
}

void RedisConnection::answer_failed(RedisCall& call, const std::string& error) {
  if (call.prepare) std::exchange(call.prepare, {})(call.keys, call.args);
  RedisReply reply;
  reply.status = RedisReply::Status::kUnavailable;
  reply.error = error;
  answer(call, std::move(reply));
}

void RedisConnection::connect() {
  close();
  state_ = State::kConnecting;
  answered_ever_ = false;
  answered_since_idle_ = false;
  connect_deadline_ = SteadyClock::now() + shared_->settings.connect_timeout;
  arm_timer();
  const auto& settings = shared_->settings;
  auto failed = [self = shared_from_this(),
                 generation = generation_](const boost::system::error_code& error) {
    if (generation != self->generation_) return;
    self->fail(self->cannot_connect(error.message()), false);
  };
  auto connected = [self = shared_from_this(), generation = generation_, failed](
                       const boost::system::error_code& error, const auto&) {
    if (generation != self->generation_) return;
    if (error) return failed(error);
    self->on_connected();
  };
  boost::system::error_code not_an_address;
  auto address = asio::ip::make_address(settings.host, not_an_address);
  if (!not_an_address) {
    std::vector<tcp::endpoint> endpoints{tcp::endpoint(address, settings.port)};
    asio::async_connect(socket_, endpoints, connected);
    return;
  }
  // A host name (a Kubernetes service, "localhost"): resolved on every new connection, so a
  // Redis that moved is found.
  auto resolver = std::make_shared<http::TcpResolver>(executor_);
  resolver->async_resolve(
      settings.host, std::to_string(settings.port),
      [self = shared_from_this(), generation = generation_, resolver, failed, connected](
          const boost::system::error_code& error, http::TcpResolver::results_type results) {
        if (generation != self->generation_) return;
        if (error) return failed(error);
        asio::async_connect(self->socket_, results, connected);
      });
}

std::string RedisConnection::cannot_connect(const std::string& why) const {
  const auto& settings = shared_->settings;
  return "cannot connect to Redis at " + settings.host + ":" + std::to_string(settings.port) +
         ": " + why;
}

void RedisConnection::on_connected() {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  shared_->connects.fetch_add(1, std::memory_order_relaxed);
  state_ = State::kReady;
  timer_.cancel();
  timer_armed_ = false;
  const auto& settings = shared_->settings;
  if (!settings.password.empty()) {
    RespCommand auth(out_, settings.username.empty() ? 2 : 3,
                     4 + settings.username.size() + settings.password.size());
    auth.bulk("AUTH");
    if (!settings.username.empty()) auth.bulk(settings.username);
    auth.bulk(settings.password);
    handshake_.push_back("AUTH");
  }
  if (settings.database != 0) {
    RespCommand select(out_, 2, 6 + RespCommand::kNumberBytes);
    select.bulk("SELECT");
    select.bulk(std::to_string(settings.database));
    handshake_.push_back("SELECT");
  }
  read_more();
  flush();
}

void RedisConnection::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] { self->flush(); });
}

void RedisConnection::flush() {
  flush_posted_ = false;
  if (state_ != State::kReady) return;  // on_connected() flushes what waits
  const auto now = SteadyClock::now();
  const bool was_idle = in_flight_.empty();
  while (!waiting_.empty()) {
    RedisCall call = std::move(waiting_.front());
    waiting_.pop_front();
    if (call.prepare) std::exchange(call.prepare, {})(call.keys, call.args);
    // Calls that waited too long (for a connection) are not sent: their requests have already
    // taken the failure mode.
    if (now > call.deadline) {
      answer_failed(call, "timed out waiting for a Redis connection");
      continue;
    }
    // Once written, the round trip has a whole `timeout` of its own, as each read had on the
    // pool's blocking connections: the deadline bounds the queueing, not queueing plus reply.
    call.deadline = std::max(call.deadline, now + shared_->settings.timeout);
    append(call);
    in_flight_.push_back(std::move(call));
  }
  if (was_idle && !in_flight_.empty()) answered_since_idle_ = false;
  write_out();
  arm_timer();
}

void RedisConnection::append(const RedisCall& call) {
  constexpr std::size_t kNumber = RespCommand::kNumberBytes;
  // A batch's keys and arguments are its parts' (RedisClient::eval_batched has the layout).
  std::size_t keys = call.keys.count();
  std::size_t args = call.args.count();
  std::size_t bytes = call.keys.bytes().size() + call.args.bytes().size();
  if (!call.parts.empty()) {
    keys = 0;
    args = 1;
    bytes = kNumber;
    for (const auto& part : call.parts) {
      keys += part.keys.count();
      args += 2 + part.args.count();
      bytes += part.keys.bytes().size() + 2 * kNumber + part.args.bytes().size();
    }
  }
  const std::string_view verb = call.as_eval ? "EVAL" : "EVALSHA";
  const std::string_view script =
      call.as_eval ? shared_->scripts[call.script] : shared_->shas[call.script];
  RespCommand command(out_, 3 + keys + args, verb.size() + script.size() + kNumber + bytes);
  command.bulk(verb);
  command.bulk(script);
  command.bulk(keys);
  if (call.parts.empty()) {
    command.written(call.keys.bytes());
    command.written(call.args.bytes());
    return;
  }
  for (const auto& part : call.parts) command.written(part.keys.bytes());
  command.bulk(call.parts.size());
  for (const auto& part : call.parts) {
    command.bulk(part.keys.count());
    command.bulk(part.args.count());
    command.written(part.args.bytes());
  }
}

void RedisConnection::write_out() {
  if (writing_ || out_.empty() || state_ != State::kReady) return;
  writing_ = true;
  std::swap(sending_, out_);
  out_.clear();
  asio::async_write(socket_, asio::buffer(sending_),
                    [self = shared_from_this(), generation = generation_](
                        const boost::system::error_code& error, std::size_t) {
                      if (generation != self->generation_) return;
                      self->writing_ = false;
                      if (error) {
                        return self->fail("writing to Redis failed: " + error.message(),
                                          closed_by_peer(error));
                      }
                      self->write_out();
                    });
}

void RedisConnection::read_more() {
  socket_.async_read_some(
      asio::buffer(read_buffer_), [self = shared_from_this(), generation = generation_](
                                      const boost::system::error_code& error, std::size_t bytes) {
        if (generation != self->generation_) return;
        if (error) {
          return self->fail(error == asio::error::eof
                                ? std::string("Redis closed the connection")
                                : "reading from Redis failed: " + error.message(),
                            closed_by_peer(error));
        }
        self->reader_.feed(std::string_view(self->read_buffer_.data(), bytes));
        self->take_replies();
        if (generation == self->generation_) self->read_more();
      });
}

void RedisConnection::take_replies() {
  for (;;) {
    const auto read = reader_.next(reply_);
    // A copy: fail() closes the connection, which resets the reader and its error.
    if (read == RespReader::Result::kMalformed) return fail(std::string(reader_.error()), false);
    if (read == RespReader::Result::kIncomplete) break;
    if (!handshake_.empty()) {
      std::string step = std::move(handshake_.front());
      handshake_.erase(handshake_.begin());
      if (reply_.type == RespReply::Type::kError) {
        return fail("Redis " + step + " failed: " + reply_.text, false);
      }
      continue;
    }
    if (in_flight_.empty()) return fail("Redis sent a reply to nothing that was asked", false);
    RedisCall call = std::move(in_flight_.front());
    in_flight_.pop_front();
    answered_ever_ = true;
    answered_since_idle_ = true;
    if (reply_.type == RespReply::Type::kError && reply_.text.starts_with("NOSCRIPT") &&
        !call.as_eval) {
      // The server's script cache lost it (flushed, or a restart): EVAL with the source, which
      // also caches it again for the EVALSHAs after.
      call.as_eval = true;
      call.deadline = std::max(call.deadline, SteadyClock::now() + shared_->settings.timeout);
      append(call);
      in_flight_.push_back(std::move(call));
      write_out();
      continue;
    }
    answer(call, to_result(std::move(reply_)));
  }
  if (in_flight_.empty() && timer_armed_) {
    timer_.cancel();
    timer_armed_ = false;
  }
  if (finished()) close();  // the client is gone and everything it sent is answered
}

void RedisConnection::arm_timer() {
  RedisClient::SteadyTime earliest = RedisClient::SteadyTime::max();
  if (state_ == State::kConnecting) earliest = connect_deadline_;
  for (const auto& call : in_flight_) earliest = std::min(earliest, call.deadline);
  if (earliest == RedisClient::SteadyTime::max()) return;
  if (timer_armed_ && timer_at_ <= earliest) return;
  timer_armed_ = true;
  timer_at_ = earliest;
  timer_.expires_at(earliest);
  timer_.async_wait([self = shared_from_this(), generation = generation_,
                     at = earliest](const boost::system::error_code&) {
    // A timer re-armed or cancelled since has another `timer_at_` (or none).
    if (generation != self->generation_ || !self->timer_armed_ || self->timer_at_ != at) return;
    self->timer_armed_ = false;
    self->on_timer();
  });
}

void RedisConnection::on_timer() {
  const auto now = SteadyClock::now();
  const auto& settings = shared_->settings;
  if (state_ == State::kConnecting && now >= connect_deadline_) {
    return fail(cannot_connect("timed out after " +
                               std::to_string(settings.connect_timeout.count()) + " ms"),
                false);
  }
  for (const auto& call : in_flight_) {
    if (now >= call.deadline) {
      // Replies come in order: one that is late holds up every one behind it.
      return fail("Redis did not answer within " + std::to_string(settings.timeout.count()) + " ms",
                  false);
    }
  }
  arm_timer();
}

void RedisConnection::fail(const std::string& error, bool closed_by_server) {
  // What was written after an idle spell and never answered, on a socket that had worked, when the
  // server then closed it: most likely it restarted, or dropped an idle client, and never ran
  // those calls, so they may go once more on a fresh connection. After a timeout, or a partial
  // answer, nothing is sent again: it might charge twice.
  const bool send_again = closed_by_server && answered_ever_ && !answered_since_idle_;
  std::deque<RedisCall> sent = std::move(in_flight_);
  in_flight_.clear();
  close();
  if (sent.empty() && closed_by_server) {
    if (!waiting_.empty()) connect();  // closed while idle: the waiting calls need a new one
    return;
  }
  if (send_again && std::none_of(sent.begin(), sent.end(), [](auto& c) { return c.resent; })) {
    for (auto& call : sent) call.resent = true;
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) waiting_.push_front(std::move(*it));
    connect();
    return;
  }
  shared_->mark_down();
  for (auto& call : sent) answer_failed(call, error);
  for (auto& call : waiting_) answer_failed(call, error);
  waiting_.clear();
}

// The connections of one io_context, one per client, destroyed with it.
class RedisConnections : public asio::execution_context::service {
 public:
  using key_type = RedisConnections;
  static inline asio::execution_context::id id;

  explicit RedisConnections(asio::execution_context& context) : service(context) {}

  RedisConnection& of(const std::shared_ptr<RedisShared>& shared,
                      const RedisClient::Executor& executor) {
    for (const auto& connection : connections_) {
      if (connection->shared() == shared.get()) return *connection;
    }
    // A new client on this loop (the first call, or a reload): connections of clients that are
    // gone, and have nothing left to answer, close now.
    std::erase_if(connections_, [](const auto& connection) {
      if (!connection->finished()) return false;
      connection->close();
      return true;
    });
    return *connections_.emplace_back(std::make_shared<RedisConnection>(shared, executor));
  }

 private:
  void shutdown() override {
    for (auto& connection : connections_) connection->abandon();
    connections_.clear();
  }

  std::vector<std::shared_ptr<RedisConnection>> connections_;
};

RedisConnection& connection_for(const std::shared_ptr<RedisShared>& shared,
                                const RedisClient::Executor& executor) {
  auto& context = asio::query(executor, asio::execution::context);
  return asio::use_service<RedisConnections>(context).of(shared, executor);
}

}  // namespace sluice::gateway::token_limit
