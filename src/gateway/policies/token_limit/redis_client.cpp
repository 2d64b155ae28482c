#include "gateway/policies/token_limit/redis_client.hpp"

#include <utility>

#include "gateway/policies/token_limit/redis_connection.hpp"

namespace sluice::gateway::token_limit {

namespace asio = http::asio;

RedisClient::RedisClient(RedisSettings settings, std::vector<std::string> scripts)
    : shared_(std::make_shared<RedisShared>(std::move(settings), std::move(scripts))) {}

RedisClient::~RedisClient() {
  shared_->retired.store(true, std::memory_order_relaxed);
}

namespace {

// Inline on the executor's own thread (the usual case: a worker's request), posted otherwise.
void submit_on(const std::shared_ptr<RedisShared>& shared, const RedisClient::Executor& executor,
               RedisCall call) {
  asio::dispatch(executor, [shared, executor, call = std::move(call)]() mutable {
    connection_for(shared, executor).submit(std::move(call));
  });
}

}  // namespace

void RedisClient::eval(const Executor& executor, std::size_t script, std::vector<std::string> keys,
                       std::vector<std::string> args, SteadyTime deadline, Done done) {
  RedisCall call{script, {}, {}, {}, deadline, std::move(done)};
  for (const auto& key : keys) call.keys.add(key);
  for (const auto& arg : args) call.args.add(arg);
  submit_on(shared_, executor, std::move(call));
}

void RedisClient::eval_batched(const Executor& executor, std::size_t script, RespStrings keys,
                               RespStrings args, SteadyTime deadline, Done done) {
  RedisPart part{std::move(keys), std::move(args), std::move(done)};
  if (executor.running_in_this_thread()) {
    // A worker's request, nearly always: straight into the call its loop's turn is gathering,
    // without a call made for it and moved through a dispatch.
    connection_for(shared_, executor).submit_part(script, std::move(part), deadline);
    return;
  }
  asio::dispatch(executor,
                 [shared = shared_, executor, script, part = std::move(part), deadline]() mutable {
                   connection_for(shared, executor).submit_part(script, std::move(part), deadline);
                 });
}

void RedisClient::eval_prepared(const Executor& executor, std::size_t script, Prepare prepare,
                                SteadyTime deadline, Done done) {
  submit_on(shared_, executor,
            RedisCall{script, {}, {}, std::move(prepare), deadline, std::move(done)});
}

bool RedisClient::up() const {
  return shared_->up();
}
std::uint64_t RedisClient::connects() const {
  return shared_->connects.load(std::memory_order_relaxed);
}
std::uint64_t RedisClient::failures() const {
  return shared_->failures.load(std::memory_order_relaxed);
}

namespace {

// A script's reply, awaited: `start(executor, done)` makes the call when the awaiting coroutine
// gets to it, and the reply comes on that coroutine's own executor.
template <class Start>
http::Task<RedisReply> await_reply(Start start) {
  auto initiate = [start = std::move(start)](auto handler) mutable {
    auto executor = asio::get_associated_executor(handler);
    // The handler is move-only, Done is not.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    start(executor, [shared](RedisReply reply) { std::move (*shared)(std::move(reply)); });
  };
  return asio::async_initiate<decltype(http::kUseAwaitable), void(RedisReply)>(std::move(initiate),
                                                                               http::kUseAwaitable);
}

}  // namespace

http::Task<RedisReply> eval_on(RedisClient& client, std::size_t script,
                               std::vector<std::string> keys, std::vector<std::string> args,
                               RedisClient::SteadyTime deadline) {
  co_return co_await await_reply(
      [&](const RedisClient::Executor& executor, RedisClient::Done done) {
        client.eval(executor, script, std::move(keys), std::move(args), deadline, std::move(done));
      });
}

http::Task<RedisReply> eval_batched_on(RedisClient& client, std::size_t script, RespStrings keys,
                                       RespStrings args, RedisClient::SteadyTime deadline) {
  co_return co_await await_reply(
      [&](const RedisClient::Executor& executor, RedisClient::Done done) {
        client.eval_batched(executor, script, std::move(keys), std::move(args), deadline,
                            std::move(done));
      });
}

}  // namespace sluice::gateway::token_limit
