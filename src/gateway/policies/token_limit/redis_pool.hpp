#pragma once
// A small pool of blocking hiredis connections, each owned by its own thread, that runs Lua
// scripts for the token-limit policy off the gateway's worker threads. A thread takes every job
// waiting in the queue (up to kMaxBatch) and pipelines them on its connection: one write, the
// replies in order, so under load the cost per job is a fraction of a round trip.
//
// Why threads and not hiredis's async API: hiredis has no Asio adapter, and the policy needs one
// round trip per admission and one per settlement; a handful of threads, each with one
// connection, keep every worker's event loop free and the code straightforward. Callers hand a
// job to the pool and get the reply in a callback on a pool thread (redis_store.hpp turns that
// into an awaitable that resumes on the worker's executor).
//
// Failures: connect and command timeouts come from the settings. A pooled connection that fails
// is retried once on a fresh connection (it may only have gone stale across a Redis restart). When
// that fails too, or a new connection fails or times out, the pool marks Redis down for
// `retry_interval`: jobs submitted meanwhile fail at once (kUnavailable) instead of each waiting
// for a timeout; the first job after the interval tries again, so a restarted Redis is picked up
// within about one interval. Scripts are loaded with SCRIPT LOAD on every new connection and run
// with EVALSHA; a NOSCRIPT reply (script cache flushed) reloads them and retries once.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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

class RedisPool {
 public:
  using Done = std::function<void(RedisReply)>;
  using SteadyTime = std::chrono::steady_clock::time_point;

  // Starts settings.pool_size threads; connections are made on first use. `scripts` are the Lua
  // sources eval() refers to by index. `delivered` (optional) runs on the same thread after every
  // group of `done` calls (a pipelined batch, or one job failed at once): callbacks may gather
  // work there and hand it on once per batch (resume_batch.hpp).
  RedisPool(RedisSettings settings, std::vector<std::string> scripts,
            std::function<void()> delivered = {});
  // Runs the jobs still queued (each bounded by the timeouts), then joins the threads.
  ~RedisPool();
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  // Runs script `script` with `keys` and `args`. `done` is called exactly once: on a pool thread
  // with the reply, or on the caller's thread at once when Redis is marked down. A job still queued
  // at `deadline` fails as kUnavailable without being sent. Any thread.
  void eval(std::size_t script, std::vector<std::string> keys, std::vector<std::string> args,
            SteadyTime deadline, Done done);

  // Like eval(), for work off the critical path (settlements): the keys and arguments are made by
  // `prepare` when a pool thread takes the job, so work added meanwhile can still join it, and the
  // job wakes no thread while one is busy (that one takes it with its next batch, in the same
  // pipelined write). `prepare` runs exactly once, before `done`, also when the job fails without
  // being sent.
  using Prepare =
      std::function<void(std::vector<std::string>& keys, std::vector<std::string>& args)>;
  void eval_prepared(std::size_t script, Prepare prepare, SteadyTime deadline, Done done);

  // Whether Redis is currently considered reachable (not within a retry interval). Any thread.
  bool up() const;

  // Connection-level counters, read by the policy's stats.
  std::uint64_t connects() const { return connects_.load(std::memory_order_relaxed); }
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  struct Job {
    std::size_t script = 0;
    std::vector<std::string> keys;
    std::vector<std::string> args;
    SteadyTime deadline;
    Done done;
    Prepare prepare;  // optional: fills keys and args when the job is taken
  };
  struct Connection;

  // Jobs taken from the queue at once and pipelined on one connection.
  static constexpr std::size_t kMaxBatch = 64;

  void submit(Job job);
  void run();
  // Runs `jobs` on `connection` (retrying once on a fresh connection when a reused one had been
  // closed by the server) and fills `replies`; marks Redis down when it cannot.
  void execute(Connection& connection, std::vector<Job>& jobs, std::vector<RedisReply>& replies);
  // One try, pipelined. False when the connection failed (then `error` says why, and replies from
  // `answered` on are missing).
  bool attempt(Connection& connection, std::vector<Job>& jobs, std::vector<RedisReply>& replies,
               std::size_t& answered, std::string& error);
  bool connect(Connection& connection, std::string& error);
  bool load_scripts(Connection& connection);
  void mark_down();

  RedisSettings settings_;
  std::vector<std::string> scripts_;
  std::function<void()> delivered_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  std::size_t idle_ = 0;       // threads waiting for a job
  bool wake_pending_ = false;  // one of them was woken and has not taken the queue yet
  bool stopping_ = false;
  std::atomic<std::int64_t> down_until_ns_{0};  // steady clock
  std::atomic<std::uint64_t> connects_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::vector<std::thread> threads_;
};

// Runs `script` on `pool` from a coroutine, which resumes on its own executor with the reply;
// the worker's event loop never waits for Redis.
http::Task<RedisReply> eval_on(RedisPool& pool, std::size_t script, std::vector<std::string> keys,
                               std::vector<std::string> args, RedisPool::SteadyTime deadline);

}  // namespace sluice::gateway::token_limit
