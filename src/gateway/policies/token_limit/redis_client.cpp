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
  submit_on(shared_, executor,
            RedisCall{script, std::move(keys), std::move(args), {}, deadline, std::move(done)});
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

http::Task<RedisReply> eval_on(RedisClient& client, std::size_t script,
                               std::vector<std::string> keys, std::vector<std::string> args,
                               RedisClient::SteadyTime deadline) {
  auto initiate = [&client, script, deadline](auto handler, std::vector<std::string> keys,
                                              std::vector<std::string> args) {
    // The reply comes on the coroutine's own executor; the handler is move-only, Done is not.
    auto executor = asio::get_associated_executor(handler);
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    client.eval(executor, script, std::move(keys), std::move(args), deadline,
                [shared](RedisReply reply) { std::move (*shared)(std::move(reply)); });
  };
  co_return co_await asio::async_initiate<decltype(http::kUseAwaitable), void(RedisReply)>(
      initiate, http::kUseAwaitable, std::move(keys), std::move(args));
}

}  // namespace sluice::gateway::token_limit
