#include "gateway/policies/token_limit/redis_pool.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cerrno>

#include <memory>
#include <utility>
#include "sluice/core/thread_name.hpp"

namespace sluice::gateway::token_limit {

namespace {

using SteadyClock = std::chrono::steady_clock;

timeval to_timeval(std::chrono::milliseconds value) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(value.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((value.count() % 1000) * 1000);
  return tv;
}

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

ReplyPtr command(redisContext* context, const std::vector<std::string_view>& argv) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  pointers.reserve(argv.size());
  lengths.reserve(argv.size());
  for (auto arg : argv) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return ReplyPtr(static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), pointers.data(), lengths.data())));
}

std::string_view text_of(const redisReply& reply) {
  return std::string_view(reply.str ? reply.str : "", reply.str ? reply.len : 0);
}

}  // namespace

struct RedisPool::Connection {
  redisContext* context = nullptr;
  std::vector<std::string> shas;  // of scripts_, loaded on this connection's server

  ~Connection() { close(); }
  void close() {
    if (context) redisFree(context);
    context = nullptr;
    shas.clear();
  }
};

RedisPool::RedisPool(RedisSettings settings, std::vector<std::string> scripts,
                     std::function<void()> delivered)
    : settings_(std::move(settings)),
      scripts_(std::move(scripts)),
      delivered_(std::move(delivered)) {
  for (int i = 0; i < settings_.pool_size; ++i)
    threads_.emplace_back([this] {
      core::name_this_thread("redis-limit");
      run();
    });
}

RedisPool::~RedisPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

bool RedisPool::up() const {
  return SteadyClock::now().time_since_epoch().count() >=
         down_until_ns_.load(std::memory_order_acquire);
}

void RedisPool::mark_down() {
  failures_.fetch_add(1, std::memory_order_relaxed);
  auto until = SteadyClock::now() + settings_.retry_interval;
  down_until_ns_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(until.time_since_epoch()).count(),
      std::memory_order_release);
}

void RedisPool::eval(std::size_t script, std::vector<std::string> keys,
                     std::vector<std::string> args, SteadyTime deadline, Done done) {
  submit(Job{script, std::move(keys), std::move(args), deadline, std::move(done), {}});
}

void RedisPool::eval_prepared(std::size_t script, Prepare prepare, SteadyTime deadline, Done done) {
  submit(Job{script, {}, {}, deadline, std::move(done), std::move(prepare)});
}

void RedisPool::submit(Job job) {
  const bool job_can_wait = static_cast<bool>(job.prepare);
  if (!up()) {
    if (job.prepare) job.prepare(job.keys, job.args);
    RedisReply reply;
    reply.error = "Redis is marked down after a failure; retrying after the retry interval";
    job.done(std::move(reply));
    if (delivered_) delivered_();
    return;
  }
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
    // One wake-up at a time: the woken thread takes everything queued until it runs, so a burst
    // of jobs costs one futex wake and goes out in one pipelined write. A job that can wait wakes
    // no one while a thread is busy: that thread takes it with its next batch.
    bool busy = idle_ < static_cast<std::size_t>(settings_.pool_size);
    wake = idle_ > 0 && !wake_pending_ && !(job_can_wait && busy);
    if (wake) wake_pending_ = true;
  }
  if (wake) wake_.notify_one();
}

void RedisPool::run() {
  Connection connection;
  std::vector<Job> batch;
  std::vector<RedisReply> replies;
  for (;;) {
    batch.clear();
    bool more = false;
    {
      std::unique_lock lock(mutex_);
      ++idle_;
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      --idle_;
      wake_pending_ = false;
      if (queue_.empty()) return;  // stopping, and every job is done
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      // More than one batch waiting: wake another thread for the rest.
      more = !queue_.empty() && idle_ > 0 && !wake_pending_;
      if (more) wake_pending_ = true;
    }
    if (more) wake_.notify_one();
    for (auto& job : batch) {
      if (job.prepare) std::exchange(job.prepare, {})(job.keys, job.args);
    }
    // Jobs that waited too long are not sent: their requests have already taken the failure mode.
    auto now = SteadyClock::now();
    std::size_t kept = 0;
    for (auto& job : batch) {
      if (now > job.deadline) {
        RedisReply reply;
        reply.error = "timed out waiting for a Redis connection";
        job.done(std::move(reply));
      } else {
        if (&batch[kept] != &job) batch[kept] = std::move(job);
        ++kept;
      }
    }
    batch.resize(kept);
    if (batch.empty()) {
      if (delivered_) delivered_();
      continue;
    }
    replies.assign(batch.size(), RedisReply{});
    if (!up()) {
      for (auto& reply : replies) {
        reply.error = "Redis is marked down after a failure; retrying after the retry interval";
      }
    } else {
      execute(connection, batch, replies);
    }
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(replies[i]));
    if (delivered_) delivered_();
  }
}

void RedisPool::execute(Connection& connection, std::vector<Job>& jobs,
                        std::vector<RedisReply>& replies) {
  // A pooled connection may have gone stale (Redis restarted, or closed an idle client): when the
  // server had closed it before answering anything, the batch is retried once on a fresh
  // connection before Redis is declared down. That server never ran the lost attempt, so the retry
  // cannot charge twice; after a timeout, or a partial answer, nothing is retried.
  bool reused = connection.context != nullptr;
  std::size_t answered = 0;
  std::string error;
  if (attempt(connection, jobs, replies, answered, error)) return;
  bool closed =
      connection.context &&
      (connection.context->err == REDIS_ERR_EOF ||
       (connection.context->err == REDIS_ERR_IO && (errno == ECONNRESET || errno == EPIPE)));
  connection.close();
  if (reused && closed && answered == 0) {
    if (attempt(connection, jobs, replies, answered, error)) return;
    connection.close();
  }
  mark_down();
  for (std::size_t i = answered; i < replies.size(); ++i) {
    replies[i].status = RedisReply::Status::kUnavailable;
    replies[i].error = error;
  }
}

bool RedisPool::connect(Connection& connection, std::string& error) {
  auto failed = [&](std::string message) {
    error = std::move(message);
    return false;
  };
  connection.context = redisConnectWithTimeout(settings_.host.c_str(), settings_.port,
                                               to_timeval(settings_.connect_timeout));
  if (!connection.context || connection.context->err) {
    std::string reason = connection.context ? connection.context->errstr : "out of memory";
    return failed("cannot connect to Redis at " + settings_.host + ":" +
                  std::to_string(settings_.port) + ": " + reason);
  }
  redisSetTimeout(connection.context, to_timeval(settings_.timeout));
  connects_.fetch_add(1, std::memory_order_relaxed);
  if (!settings_.password.empty()) {
    std::vector<std::string_view> argv{"AUTH"};
    if (!settings_.username.empty()) argv.push_back(settings_.username);
    argv.push_back(settings_.password);
    auto reply = command(connection.context, argv);
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      return failed("Redis AUTH failed: " +
                    std::string(reply ? text_of(*reply) : connection.context->errstr));
    }
  }
  if (settings_.database != 0) {
    auto reply = command(connection.context, {"SELECT", std::to_string(settings_.database)});
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      return failed("Redis SELECT failed: " +
                    std::string(reply ? text_of(*reply) : connection.context->errstr));
    }
  }
  if (!load_scripts(connection)) {
    return failed("SCRIPT LOAD failed: " + std::string(connection.context->errstr));
  }
  return true;
}

bool RedisPool::load_scripts(Connection& connection) {
  connection.shas.clear();
  for (const auto& script : scripts_) {
    auto reply = command(connection.context, {"SCRIPT", "LOAD", script});
    if (!reply || reply->type != REDIS_REPLY_STRING) return false;
    connection.shas.emplace_back(text_of(*reply));
  }
  return true;
}

namespace {

std::vector<std::string_view> evalsha_argv(const std::string& sha, const std::string& key_count,
                                           const std::vector<std::string>& keys,
                                           const std::vector<std::string>& args) {
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(sha);
  argv.push_back(key_count);
  for (const auto& key : keys) argv.push_back(key);
  for (const auto& arg : args) argv.push_back(arg);
  return argv;
}

RedisReply to_result(const redisReply& reply) {
  RedisReply result;
  switch (reply.type) {
    case REDIS_REPLY_INTEGER:
      result.status = RedisReply::Status::kOk;
      result.integers.push_back(reply.integer);
      break;
    case REDIS_REPLY_ARRAY:
      result.status = RedisReply::Status::kOk;
      for (std::size_t i = 0; i < reply.elements; ++i) {
        const redisReply* element = reply.element[i];
        if (element->type != REDIS_REPLY_INTEGER) {
          result.status = RedisReply::Status::kError;
          result.error = "unexpected non-integer element in the script's reply";
          result.integers.clear();
          break;
        }
        result.integers.push_back(element->integer);
      }
      break;
    case REDIS_REPLY_STRING:
      result.status = RedisReply::Status::kOk;
      result.text = std::string(text_of(reply));
      break;
    case REDIS_REPLY_NIL:
      result.status = RedisReply::Status::kOk;
      break;
    case REDIS_REPLY_ERROR:
      result.status = RedisReply::Status::kError;
      result.error = std::string(text_of(reply));
      break;
    default:
      result.status = RedisReply::Status::kError;
      result.error = "unexpected reply type " + std::to_string(reply.type);
      break;
  }
  return result;
}

}  // namespace

bool RedisPool::attempt(Connection& connection, std::vector<Job>& jobs,
                        std::vector<RedisReply>& replies, std::size_t& answered,
                        std::string& error) {
  if (!connection.context && !connect(connection, error)) return false;
  // Pipelined: every command of the batch goes out in one write, the replies come back in order.
  std::vector<std::string> key_counts;
  key_counts.reserve(jobs.size());
  for (std::size_t i = answered; i < jobs.size(); ++i) {
    const Job& job = jobs[i];
    key_counts.push_back(std::to_string(job.keys.size()));
    auto argv = evalsha_argv(connection.shas[job.script], key_counts.back(), job.keys, job.args);
    std::vector<const char*> pointers;
    std::vector<std::size_t> lengths;
    for (auto arg : argv) {
      pointers.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    redisAppendCommandArgv(connection.context, static_cast<int>(argv.size()), pointers.data(),
                           lengths.data());
  }
  std::vector<std::size_t> unloaded;  // jobs answered NOSCRIPT (the script cache was flushed)
  for (; answered < jobs.size(); ++answered) {
    void* raw = nullptr;
    if (redisGetReply(connection.context, &raw) != REDIS_OK || !raw) {
      error = "Redis command failed: " + std::string(connection.context->errstr);
      return false;
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR && text_of(*reply).starts_with("NOSCRIPT")) {
      unloaded.push_back(answered);
    } else {
      replies[answered] = to_result(*reply);
    }
  }
  if (!unloaded.empty()) {
    if (!load_scripts(connection)) {
      error = "SCRIPT LOAD failed: " + std::string(connection.context->errstr);
      for (std::size_t i : unloaded) {
        replies[i].status = RedisReply::Status::kUnavailable;
        replies[i].error = error;
      }
      connection.close();
      mark_down();
      return true;  // the others were answered
    }
    for (std::size_t i : unloaded) {
      const Job& job = jobs[i];
      std::string key_count = std::to_string(job.keys.size());
      auto reply = command(connection.context, evalsha_argv(connection.shas[job.script], key_count,
                                                            job.keys, job.args));
      if (!reply) {
        replies[i].status = RedisReply::Status::kUnavailable;
        replies[i].error = "Redis command failed: " + std::string(connection.context->errstr);
        connection.close();
        mark_down();
        break;
      }
      replies[i] = to_result(*reply);
    }
  }
  return true;
}

}  // namespace sluice::gateway::token_limit

namespace sluice::gateway::token_limit {

http::Task<RedisReply> eval_on(RedisPool& pool, std::size_t script, std::vector<std::string> keys,
                               std::vector<std::string> args, RedisPool::SteadyTime deadline) {
  auto initiate = [&pool, script, deadline](auto handler, std::vector<std::string> keys,
                                            std::vector<std::string> args) {
    // Resume on the coroutine's own executor, and keep it alive while Redis works.
    auto executor = http::asio::prefer(http::asio::get_associated_executor(handler),
                                       http::asio::execution::outstanding_work.tracked);
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    pool.eval(script, std::move(keys), std::move(args), deadline,
              [shared, executor](RedisReply reply) {
                http::asio::post(executor, [shared, reply = std::move(reply)]() mutable {
                  std::move (*shared)(std::move(reply));
                });
              });
  };
  co_return co_await http::asio::async_initiate<decltype(http::asio::use_awaitable),
                                                void(RedisReply)>(
      initiate, http::asio::use_awaitable, std::move(keys), std::move(args));
}

}  // namespace sluice::gateway::token_limit
