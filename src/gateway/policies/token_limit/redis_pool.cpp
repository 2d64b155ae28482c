#include "gateway/policies/token_limit/redis_pool.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cerrno>

#include <memory>

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

RedisPool::RedisPool(RedisSettings settings, std::vector<std::string> scripts)
    : settings_(std::move(settings)), scripts_(std::move(scripts)) {
  for (int i = 0; i < settings_.pool_size; ++i) threads_.emplace_back([this] { run(); });
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
  if (!up()) {
    RedisReply reply;
    reply.error = "Redis is marked down after a failure; retrying after the retry interval";
    done(std::move(reply));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Job{script, std::move(keys), std::move(args), deadline, std::move(done)});
  }
  wake_.notify_one();
}

void RedisPool::run() {
  Connection connection;
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every job is done
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    RedisReply reply;
    if (SteadyClock::now() > job.deadline) {
      reply.error = "timed out waiting for a Redis connection";
    } else if (!up()) {
      reply.error = "Redis is marked down after a failure; retrying after the retry interval";
    } else {
      reply = execute(connection, job);
    }
    job.done(std::move(reply));
  }
}

RedisReply RedisPool::execute(Connection& connection, const Job& job) {
  // A pooled connection may have gone stale (Redis restarted, or closed an idle client): when the
  // server had closed it, the job is retried once on a fresh connection before Redis is declared
  // down. The server never ran the lost attempt, so the retry cannot charge twice.
  bool reused = connection.context != nullptr;
  std::string error;
  if (auto reply = attempt(connection, job, error)) return std::move(*reply);
  // Only a connection the server had closed is retried: after a timeout the script may have run.
  bool closed =
      connection.context &&
      (connection.context->err == REDIS_ERR_EOF ||
       (connection.context->err == REDIS_ERR_IO && (errno == ECONNRESET || errno == EPIPE)));
  connection.close();
  if (reused && closed) {
    if (auto reply = attempt(connection, job, error)) return std::move(*reply);
    connection.close();
  }
  mark_down();
  RedisReply result;
  result.status = RedisReply::Status::kUnavailable;
  result.error = std::move(error);
  return result;
}

std::optional<RedisReply> RedisPool::attempt(Connection& connection, const Job& job,
                                             std::string& error) {
  auto failed = [&](std::string message) -> std::optional<RedisReply> {
    error = std::move(message);
    return std::nullopt;
  };
  auto load_scripts = [&]() -> bool {
    connection.shas.clear();
    for (const auto& script : scripts_) {
      auto reply = command(connection.context, {"SCRIPT", "LOAD", script});
      if (!reply || reply->type != REDIS_REPLY_STRING) return false;
      connection.shas.emplace_back(text_of(*reply));
    }
    return true;
  };

  if (!connection.context) {
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
    if (!load_scripts()) {
      return failed("SCRIPT LOAD failed: " + std::string(connection.context->errstr));
    }
  }

  auto run_script = [&]() {
    std::vector<std::string_view> argv;
    argv.reserve(3 + job.keys.size() + job.args.size());
    std::string key_count = std::to_string(job.keys.size());
    argv.push_back("EVALSHA");
    argv.push_back(connection.shas[job.script]);
    argv.push_back(key_count);
    for (const auto& key : job.keys) argv.push_back(key);
    for (const auto& arg : job.args) argv.push_back(arg);
    return command(connection.context, argv);
  };
  auto reply = run_script();
  if (reply && reply->type == REDIS_REPLY_ERROR && text_of(*reply).starts_with("NOSCRIPT")) {
    if (!load_scripts()) {
      return failed("SCRIPT LOAD failed: " + std::string(connection.context->errstr));
    }
    reply = run_script();
  }
  if (!reply) return failed("Redis command failed: " + std::string(connection.context->errstr));

  RedisReply result;
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      result.status = RedisReply::Status::kOk;
      result.integers.push_back(reply->integer);
      break;
    case REDIS_REPLY_ARRAY:
      result.status = RedisReply::Status::kOk;
      for (std::size_t i = 0; i < reply->elements; ++i) {
        const redisReply* element = reply->element[i];
        if (element->type != REDIS_REPLY_INTEGER) {
          result.status = RedisReply::Status::kError;
          result.error = "unexpected non-integer element in the script's reply";
          result.integers.clear();
          break;
        }
        result.integers.push_back(element->integer);
      }
      break;
    case REDIS_REPLY_ERROR:
      result.status = RedisReply::Status::kError;
      result.error = std::string(text_of(*reply));
      break;
    default:
      result.status = RedisReply::Status::kError;
      result.error = "unexpected reply type " + std::to_string(reply->type);
      break;
  }
  return result;
}

}  // namespace sluice::gateway::token_limit
