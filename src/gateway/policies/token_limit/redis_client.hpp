#pragma once
// Redis for the token limit and the cache: Lua scripts run on a connection that belongs to the
// calling worker's own event loop (redis_connection.hpp), one per worker thread and client, made
// on first use. A request's script costs its worker a share of one socket write and one read and
// no thread switch: every script a worker asks for in one turn of its loop goes out in one
// pipelined write, and the replies come back to that loop in order. (A pool of blocking hiredis
// connections on threads of their own did this before; its hand-offs to and from the worker, a
// futex and ~1.5 context switches a request, cost more than everything else the limit does.)
//
// Failures: the connect timeout and the command timeout come from the settings; a script not
// answered within the timeout of being written fails its connection. A connection the server closed
// while idle is replaced on the next call; when the server closes a connection before answering
// anything of what was written to it after an idle spell (it may only have restarted), those
// scripts are sent once more on a fresh connection. Any other failure marks Redis down for
// `retry_interval`: calls made meanwhile fail at once (kUnavailable) instead of each waiting for a
// timeout, and the first call after the interval tries again, so a restarted Redis is picked up
// within about one interval. Scripts run as EVALSHA with their SHA-1 computed here; a NOSCRIPT
// reply (the server's script cache was flushed, or it restarted) is answered by sending that script
// once as EVAL.
//
// Threads: calls from any thread; each runs on, and answers on, the event loop of the executor it
// names, which must be an io_context run by one thread (the gateway's workers are).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/policies/token_limit/resp_strings.hpp"
#include "gateway/policies/token_limit/token_limit_settings.hpp"
#include "sluice/http/asio.hpp"

namespace sluice::gateway::token_limit {

struct RedisReply {
  enum class Status {
    kOk,
    kUnavailable,  // not connected, timed out, or marked down: the failure mode applies
    kError,        // Redis answered with an error (e.g. WRONGTYPE): also a failure
  };
  Status status = Status::kUnavailable;
  std::string error;
  std::vector<long long> integers;  // the script's reply: an integer, or an array of integers
  std::optional<std::string> text;  // ... or a string (nil: kOk with neither)
};

struct RedisShared;

class RedisClient {
 public:
  using Executor = http::Executor;
  using Done = std::function<void(RedisReply)>;
  using SteadyTime = std::chrono::steady_clock::time_point;
  // Fills a script's keys and arguments when it is written (see eval_prepared()).
  using Prepare = std::function<void(RespStrings& keys, RespStrings& args)>;

  // `scripts` are the Lua sources eval() refers to by index. Connects nothing yet.
  RedisClient(RedisSettings settings, std::vector<std::string> scripts);
  // The connections finish what was written to them, then close; calls still queued on them are
  // answered as usual.
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs script `script` with `keys` and `args` on `executor`'s connection. `done` is called
  // exactly once, on that executor, with the reply; a call still unsent at `deadline`, or not
  // answered within the client's timeout of being sent, fails as kUnavailable. (Only when the event
  // loop itself is destroyed first is `done` destroyed uncalled.)
  void eval(const Executor& executor, std::size_t script, std::vector<std::string> keys,
            std::vector<std::string> args, SteadyTime deadline, Done done);

  // Like eval(), for work that gathers until it is sent (settlements): `prepare` makes the keys
  // and arguments when the loop writes its turn's scripts, so work added meanwhile still joins.
  // `prepare` runs exactly once, before `done`, also when the call fails without being sent.
  void eval_prepared(const Executor& executor, std::size_t script, Prepare prepare,
                     SteadyTime deadline, Done done);

  // Like eval(), for a script that runs many callers' work in one call (the reserve script): a
  // call made on `executor`'s loop while an earlier call of the same script still waits there to
  // be written joins it as one more part, so a turn of the loop sends one script call however
  // many of its requests asked. Redis then reads and writes each key once for all of them instead
  // of once each, and parses one command instead of one a request.
  //
  // The script's side of it: KEYS are the parts' keys one after another; ARGV[1] is the number of
  // parts, then for each part the number of its keys, the number of its arguments, and its
  // arguments. The reply is, for each part, the number of its integers and then those integers,
  // which are that part's reply; or -1 alone for a part that failed (a key of another type, say):
  // that part is sent again alone, and a script run for one part must fail as a whole, so its
  // caller gets Redis's own error. Parts run in the order they were asked. A joining call's
  // `deadline` is the first part's.
  // `keys` and `args` come written as Redis reads them (resp_strings.hpp): a part's few strings are
  // copied into the command as one piece.
  void eval_batched(const Executor& executor, std::size_t script, RespStrings keys,
                    RespStrings args, SteadyTime deadline, Done done);

  // Whether Redis is currently considered reachable (not within a retry interval). Any thread.
  bool up() const;

  // Connections made and failures that marked Redis down, over every event loop; for stats.
  std::uint64_t connects() const;
  std::uint64_t failures() const;

 private:
  std::shared_ptr<RedisShared> shared_;  // the connections hold it too: they may outlive this
};

// Runs `script` on `client` from a coroutine, on the coroutine's own event loop's connection.
http::Task<RedisReply> eval_on(RedisClient& client, std::size_t script,
                               std::vector<std::string> keys, std::vector<std::string> args,
                               RedisClient::SteadyTime deadline);
// The same, as a part of a batch (RedisClient::eval_batched).
http::Task<RedisReply> eval_batched_on(RedisClient& client, std::size_t script, RespStrings keys,
                                       RespStrings args, RedisClient::SteadyTime deadline);

}  // namespace sluice::gateway::token_limit
