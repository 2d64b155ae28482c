#include "gateway/policies/token_limit/token_limit_policy.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "gateway/json_scratch.hpp"
#include "gateway/request_body.hpp"
#include "gateway/usage_estimation.hpp"
#include "sluice/core/config.hpp"
#include "sluice/core/fake_clock.hpp"
#include "sluice/gateway/gateway.hpp"

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;
namespace asio = http::asio;

class FakeExchange final : public http::Exchange {
 public:
  explicit FakeExchange(asio::io_context& io) : io_(io) {}
  http::Request& request() override { return request_; }
  const std::string& client_address() const override { return ip_; }
  std::chrono::steady_clock::time_point received_at() const override { return {}; }
  http::Executor executor() const override { return io_.get_executor(); }
  int worker() const override { return 0; }
  using http::Exchange::send;
  http::Task<bool> send(http::Response, http::ExtraFields) override { co_return true; }
  http::Task<bool> start_stream(http::ResponseHeader) override { co_return true; }
  http::Task<bool> write(std::string_view) override { co_return true; }
  http::Task<bool> finish_stream() override { co_return true; }
  bool responded() const override { return false; }
  bool client_gone() const override { return false; }
  asio::cancellation_slot client_gone_slot() override { return signal_.slot(); }
  void close_after_response() override {}

  http::Request request_;
  std::string ip_ = "10.1.2.3";

 private:
  asio::io_context& io_;
  asio::cancellation_signal signal_;
};

// One request through the policy: build it, run the access phase, then the log phase.
struct Call {
  Call(asio::io_context& io, std::string target, std::string body) : exchange(io) {
    exchange.request_.method(http::bhttp::verb::post);
    exchange.request_.target(target);
    exchange.request_.body() = std::move(body);
    context = std::make_unique<RequestContext>(exchange, "req");
    context->client_ip = exchange.client_address();
    context->target = parse_request_target(target);
    if (!exchange.request_.body().empty()) {
      EXPECT_FALSE(inspect_request_body(exchange.request_.body(), scratch, context->body));
    }
    context->deployment = context->target.style == ApiStyle::kAzure ? context->target.deployment
                                                                    : context->body.model;
  }
  std::string header(std::string_view name) const {
    for (const auto& [key, value] : context->response_headers) {
      if (key == name) return value;
    }
    return "";
  }

  FakeExchange exchange;
  // The worker's scratch, which keeps the body's document for the policy (as the gateway's does).
  JsonScratch scratch;
  std::unique_ptr<RequestContext> context;
};

std::string chat_body(std::string_view content, std::optional<int> max_tokens = 50) {
  boost::json::object body;
  body["messages"] =
      boost::json::array{boost::json::object{{"role", "user"}, {"content", content}}};
  if (max_tokens) body["max_tokens"] = *max_tokens;
  return boost::json::serialize(body);
}

constexpr const char* kChat = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

class TokenLimitPolicyTest : public ::testing::Test {
 protected:
  std::shared_ptr<TokenLimitPolicy> make(std::string_view yaml) {
    auto root = core::load_config_string(yaml, "gateway.yaml");
    auto settings = token_limit::TokenLimitSettings::from_config(root);
    return std::make_shared<TokenLimitPolicy>(std::move(settings), clock,
                                              std::make_shared<token_limit::LocalStore>());
  }
  std::unique_ptr<Call> call(std::string body, std::string target = kChat) {
    return std::make_unique<Call>(io, std::move(target), std::move(body));
  }
  std::optional<http::Response> request(Policy& policy, Call& call) {
    std::optional<http::Response> answer;
    bool done = false;
    asio::co_spawn(
        io,
        [&]() -> http::Task<void> {
          answer = co_await policy.on_request(*call.context);
          done = true;
        },
        asio::detached);
    io.restart();
    io.run();
    EXPECT_TRUE(done);
    if (answer) call.context->status = answer->result_int();
    return answer;
  }
  // The usage a backend reported; status 200.
  static void succeed(Call& call, std::int64_t prompt, std::int64_t completion) {
    call.context->status = 200;
    call.context->usage.prompt_tokens = prompt;
    call.context->usage.completion_tokens = completion;
    call.context->usage.total_tokens = prompt + completion;
    call.context->usage.source = UsageSource::kReported;
  }
  static std::int64_t prompt_of(const std::string& body) {
    return estimate_prompt_tokens(body, Operation::kChatCompletions, "gpt-4o");
  }
  static std::string message_of(const http::Response& response) {
    return std::string(boost::json::parse(response.body()).at("error").at("message").as_string());
  }

  asio::io_context io;
  core::FakeClock clock;
};

constexpr std::string_view kPerApp = R"(
limits:
  - name: per-app
    counter_key: [app_id]
    tokens_per_minute: 1000
    token_quota: 5000
    token_quota_period: daily
)";

TEST_F(TokenLimitPolicyTest, ReservesTheTokenizerEstimatePlusMaxTokensAndSaysSoInHeaders) {
  auto policy = make(kPerApp);
  auto body = chat_body("The quick brown fox jumps over the lazy dog.", 50);
  auto c = call(body);
  c->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-1"}));
  EXPECT_FALSE(request(*policy, *c));
  std::int64_t prompt = prompt_of(body);
  ASSERT_GT(prompt, 10);
  EXPECT_EQ(c->context->estimated_prompt_tokens, prompt);  // reused by the usage estimator
  EXPECT_EQ(c->header("x-ratelimit-consumed-tokens"), std::to_string(prompt + 50));
  EXPECT_EQ(c->header("x-ratelimit-remaining-tokens"), std::to_string(1000 - prompt - 50));
  EXPECT_EQ(c->header("x-ratelimit-remaining-quota"), std::to_string(5000 - prompt - 50));

  // Without max_tokens the limit's default_completion_tokens (256) is reserved.
  auto second = call(chat_body("The quick brown fox jumps over the lazy dog.", std::nullopt));
  second->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-1"}));
  EXPECT_FALSE(request(*policy, *second));
  EXPECT_EQ(second->header("x-ratelimit-consumed-tokens"), std::to_string(prompt + 256));
  EXPECT_EQ(second->header("x-ratelimit-remaining-tokens"),
            std::to_string(1000 - 2 * prompt - 50 - 256));
}

TEST_F(TokenLimitPolicyTest, CountsTheGatewaysParseOfTheBodyOrTheTextWhenAnotherParseReplacedIt) {
  auto policy = make(kPerApp);
  const std::string short_body = chat_body("hi", 10);
  const std::string long_body = chat_body(std::string(400, 'x') + " and more words to count", 10);
  ASSERT_NE(prompt_of(short_body), prompt_of(long_body));

  // A body the gateway read by its one-pass scan leaves no document: the limit parses the text.
  auto scanned = call(short_body);
  ASSERT_EQ(scanned->context->body.document_source, nullptr);
  EXPECT_FALSE(request(*policy, *scanned));
  EXPECT_EQ(scanned->context->estimated_prompt_tokens, prompt_of(short_body));

  // A body the scan left to simdjson (a non-ASCII prompt, say): the document the gateway parsed is
  // what the limit counts, not a second parse of the text. (The two differ here only to tell
  // which one was read.)
  auto reused = call(short_body);
  ASSERT_FALSE(inspect_request_body_by_dom(short_body, reused->scratch, reused->context->body));
  RequestBodyInfo long_info;
  ASSERT_FALSE(inspect_request_body_by_dom(long_body, reused->scratch, long_info));
  reused->context->body.document_generation = long_info.document_generation;
  EXPECT_FALSE(request(*policy, *reused));
  EXPECT_EQ(reused->context->estimated_prompt_tokens, prompt_of(long_body));

  // Another request's body parsed on the worker since (while this one waited): the text is parsed
  // again, and this request's own prompt is counted.
  auto replaced = call(short_body);
  ASSERT_FALSE(inspect_request_body_by_dom(short_body, replaced->scratch, replaced->context->body));
  ASSERT_FALSE(inspect_request_body_by_dom(long_body, replaced->scratch, long_info));
  EXPECT_FALSE(request(*policy, *replaced));
  EXPECT_EQ(replaced->context->estimated_prompt_tokens, prompt_of(short_body));
}

TEST_F(TokenLimitPolicyTest, RefusesWith429RetryAfterAndTheLimitsName) {
  auto policy = make(kPerApp);
  auto first = call(chat_body("hi", 900));
  first->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-1"}));
  ASSERT_FALSE(request(*policy, *first));
  clock.advance(15s);
  auto second = call(chat_body("hi", 200));
  second->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-1"}));
  auto refused = request(*policy, *second);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 429);
  // The first reservation leaves the window 61 s after its second began: 46 s from now.
  EXPECT_EQ(refused->at(http::Field::retry_after), "46");
  EXPECT_EQ(refused->at("retry-after-ms"), "46000");
  auto message = message_of(*refused);
  EXPECT_NE(message.find("limit 'per-app'"), std::string::npos) << message;
  EXPECT_NE(message.find("1000 tokens per minute"), std::string::npos) << message;
  auto json = boost::json::parse(refused->body());
  EXPECT_EQ(json.at("error").at("code").as_string(), "rate_limit_exceeded");
  // The refusal carries the remaining-token headers too (applied to every response).
  EXPECT_EQ(second->header("x-ratelimit-remaining-tokens"),
            std::to_string(1000 - 900 - prompt_of(chat_body("hi", 900))));
  EXPECT_EQ(second->header("x-ratelimit-consumed-tokens"), "");
  // Nothing was reserved for the refused request: it has no log-phase effect.
  policy->on_complete(*second->context);
  clock.advance(46s);
  auto third = call(chat_body("hi", 200));
  third->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-1"}));
  EXPECT_FALSE(request(*policy, *third));
}

TEST_F(TokenLimitPolicyTest, ARequestThatCanNeverFitIsRefusedWithoutRetryAfter) {
  auto policy = make(kPerApp);
  auto c = call(chat_body("hi", 2000));  // more than a minute's 1000, within the quota
  auto refused = request(*policy, *c);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 429);
  EXPECT_EQ(refused->find(http::Field::retry_after), refused->end());
  EXPECT_NE(message_of(*refused).find("Lower max_tokens"), std::string::npos);
}

TEST_F(TokenLimitPolicyTest, RefusesWith403WhenTheQuotaIsUsedUpAndRecoversTheNextDay) {
  auto policy = make(R"(
limits:
  - {name: daily, counter_key: app_id, token_quota: 1000, token_quota_period: daily}
)");
  clock.set_system_time(std::chrono::sys_days(std::chrono::year(2024) / 5 / 17) + 22h);
  for (int i = 0; i < 2; ++i) {
    auto c = call(chat_body("hi", 400));
    c->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-1"}));
    ASSERT_FALSE(request(*policy, *c));
    succeed(*c, 10, 400);
    policy->on_complete(*c->context);
  }
  auto c = call(chat_body("hi", 400));
  c->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-1"}));
  auto refused = request(*policy, *c);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 403);
  auto message = message_of(*refused);
  EXPECT_NE(message.find("Token quota of 1000 for period daily exceeded"), std::string::npos)
      << message;
  EXPECT_NE(message.find("resets at 2024-05-18T00:00:00Z"), std::string::npos) << message;
  EXPECT_EQ(c->header("x-ratelimit-remaining-quota"), "180");
  EXPECT_EQ(refused->find(http::Field::retry_after), refused->end());

  clock.advance(2h);
  auto next_day = call(chat_body("hi", 400));
  next_day->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-1"}));
  EXPECT_FALSE(request(*policy, *next_day));
}

TEST_F(TokenLimitPolicyTest, TheLogPhaseReplacesTheReservationByTheRealUsage) {
  auto policy = make(kPerApp);
  auto body = chat_body("hello", 500);
  auto first = call(body);
  ASSERT_FALSE(request(*policy, *first));
  succeed(*first, 7, 23);
  policy->on_complete(*first->context);
  auto second = call(body);
  ASSERT_FALSE(request(*policy, *second));
  std::int64_t reserved = prompt_of(body) + 500;
  EXPECT_EQ(second->header("x-ratelimit-remaining-tokens"), std::to_string(1000 - 30 - reserved));
  EXPECT_EQ(second->header("x-ratelimit-remaining-quota"), std::to_string(5000 - 30 - reserved));
}

TEST_F(TokenLimitPolicyTest, AStreamIsReconciledToItsRealUsage) {
  auto policy = make(kPerApp);
  auto body =
      R"({"messages":[{"role":"user","content":"stream me"}],"max_tokens":300,"stream":true})";
  auto stream = call(body);
  ASSERT_FALSE(request(*policy, *stream));
  ASSERT_TRUE(stream->context->body.stream);
  // The headers went out when the stream started: they show the reservation.
  std::int64_t reserved = prompt_of(body) + 300;
  EXPECT_EQ(stream->header("x-ratelimit-remaining-tokens"), std::to_string(1000 - reserved));
  stream->context->streamed = true;
  succeed(*stream, 9, 120);  // from the stream's usage chunk
  policy->on_complete(*stream->context);
  auto next = call(chat_body("x", 0));
  ASSERT_FALSE(request(*policy, *next));
  EXPECT_EQ(next->header("x-ratelimit-remaining-tokens"),
            std::to_string(1000 - 129 - prompt_of(chat_body("x", 0))));
}

TEST_F(TokenLimitPolicyTest, FailedRequestsReleaseTheirReservation) {
  auto policy = make(kPerApp);
  auto failed = call(chat_body("hello", 900));
  ASSERT_FALSE(request(*policy, *failed));
  failed->context->status = 502;  // every backend failed; no usage
  policy->on_complete(*failed->context);
  auto cancelled = call(chat_body("hello", 900));
  ASSERT_FALSE(request(*policy, *cancelled));      // fits again: all was released
  cancelled->context->client_disconnected = true;  // left before any answer: status 0, no usage
  policy->on_complete(*cancelled->context);
  auto next = call(chat_body("hello", 900));
  EXPECT_FALSE(request(*policy, *next));
}

TEST_F(TokenLimitPolicyTest, ASuccessWithoutUsageKeepsTheEstimate) {
  auto policy = make(kPerApp);
  auto body = chat_body("hello", 400);
  auto first = call(body);
  ASSERT_FALSE(request(*policy, *first));
  first->context->status = 200;  // no usage came back
  policy->on_complete(*first->context);
  auto second = call(chat_body("hello", 0));
  ASSERT_FALSE(request(*policy, *second));
  EXPECT_EQ(second->header("x-ratelimit-remaining-tokens"),
            std::to_string(1000 - prompt_of(body) - 400 - prompt_of(chat_body("hello", 0))));
}

TEST_F(TokenLimitPolicyTest, SeveralLimitsAreCheckedTogetherAndTheRefusalNamesTheOneThatRefused) {
  auto policy = make(R"(
limits:
  - {name: per-app, counter_key: app_id, tokens_per_minute: 1000}
  - {name: per-deployment, counter_key: deployment, tokens_per_minute: 1500}
)");
  auto a = call(chat_body("hi", 800));
  a->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-a"}));
  ASSERT_FALSE(request(*policy, *a));
  auto b = call(chat_body("hi", 800));
  b->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-b"}));
  auto refused = request(*policy, *b);
  ASSERT_TRUE(refused);
  EXPECT_NE(message_of(*refused).find("limit 'per-deployment'"), std::string::npos);
  // The header shows the tightest window: the deployment's.
  EXPECT_EQ(b->header("x-ratelimit-remaining-tokens"),
            std::to_string(1500 - 800 - prompt_of(chat_body("hi", 800))));
  // app-b was not charged: a request that fits the deployment's remainder is admitted.
  auto small = call(chat_body("hi", 100));
  small->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-b"}));
  ASSERT_FALSE(request(*policy, *small));
  EXPECT_EQ(small->header("x-ratelimit-remaining-tokens"),
            std::to_string(1500 - 900 - 2 * prompt_of(chat_body("hi", 100))));
  auto again = call(chat_body("hi", 300));
  again->context->set_identity(std::make_shared<Identity>(Identity{.app_id = "app-a"}));
  auto app_refused = request(*policy, *again);
  ASSERT_TRUE(app_refused);
  EXPECT_NE(message_of(*app_refused).find("limit 'per-app'"), std::string::npos);
}

TEST_F(TokenLimitPolicyTest, CounterKeysComeFromHeadersClaimsAndIdentity) {
  auto policy = make(R"(
limits:
  - {name: team, counter_key: ['header:X-Team', 'claim:tid', client_ip], tokens_per_minute: 100}
)");
  const auto& limit = policy->settings().limits[0];
  auto c = call(chat_body("hi"));
  c->exchange.request_.set("x-team", "red|blue");
  c->context->set_identity(std::make_shared<Identity>(Identity{.claims = {{"tid", "tenant%1"}}}));
  EXPECT_EQ(TokenLimitPolicy::counter_value(limit, *c->context), "red%7Cblue|tenant%251|10.1.2.3");
  auto missing = call(chat_body("hi"));
  EXPECT_EQ(TokenLimitPolicy::counter_value(limit, *missing->context), "||10.1.2.3");
  auto long_value = call(chat_body("hi"));
  long_value->exchange.request_.set("x-team", std::string(300, 'x'));
  auto hashed = TokenLimitPolicy::counter_value(limit, *long_value->context);
  EXPECT_EQ(hashed.size(), 17u);
  EXPECT_EQ(hashed, TokenLimitPolicy::counter_value(limit, *long_value->context));

  // Different header values are different counters.
  auto red = call(chat_body("hi", 90));
  red->exchange.request_.set("x-team", "red");
  ASSERT_FALSE(request(*policy, *red));
  auto blue = call(chat_body("hi", 90));
  blue->exchange.request_.set("x-team", "blue");
  EXPECT_FALSE(request(*policy, *blue));
  auto red_again = call(chat_body("hi", 90));
  red_again->exchange.request_.set("x-team", "red");
  EXPECT_TRUE(request(*policy, *red_again));
}

TEST_F(TokenLimitPolicyTest, EmbeddingsReserveNoCompletionAndOtherPathsAreNotLimited) {
  auto policy = make(kPerApp);
  auto embed = call(R"({"input":"some text to embed"})",
                    "/openai/deployments/embed/embeddings?api-version=2024-10-21");
  ASSERT_FALSE(request(*policy, *embed));
  auto consumed = std::stoll(embed->header("x-ratelimit-consumed-tokens"));
  EXPECT_GT(consumed, 0);
  EXPECT_LT(consumed, 50);
  auto other = call("", "/openai/models?api-version=2024-10-21");
  EXPECT_FALSE(request(*policy, *other));
  EXPECT_TRUE(other->context->response_headers.empty());
}

TEST_F(TokenLimitPolicyTest, WithoutPromptEstimationOnlyTheCompletionIsReserved) {
  auto policy = make(R"(
limits:
  - {name: a, counter_key: app_id, tokens_per_minute: 1000, estimate_prompt_tokens: false}
)");
  auto c = call(chat_body("a fairly long prompt that has quite a few tokens in it", 40));
  ASSERT_FALSE(request(*policy, *c));
  EXPECT_EQ(c->header("x-ratelimit-consumed-tokens"), "40");
  EXPECT_EQ(c->context->estimated_prompt_tokens, -1);
}

TEST_F(TokenLimitPolicyTest, RedisUnreachableFailsClosedWith503) {
  auto& stats = token_limit_stats();
  auto failures = stats.store_failures.load();
  auto closed = stats.fail_closed_refused.load();
  auto policy = make(R"(
limits: [{name: a, counter_key: app_id, tokens_per_minute: 1000}]
store: redis
redis: {url: "redis://127.0.0.1:1", timeout: 50ms, pool_size: 1, on_failure: fail_closed}
)");
  auto c = call(chat_body("hi"));
  auto refused = request(*policy, *c);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 503);
  EXPECT_EQ(refused->at(http::Field::retry_after), "1");
  EXPECT_EQ(stats.store_failures.load(), failures + 1);
  EXPECT_EQ(stats.fail_closed_refused.load(), closed + 1);
  EXPECT_FALSE(policy->redis_store()->client().up());  // marked down: the next one fails at once
}

TEST_F(TokenLimitPolicyTest, RedisUnreachableFailsOpenWithTheLocalFallbackBudget) {
  auto& stats = token_limit_stats();
  auto admitted = stats.fail_open_admitted.load();
  auto refused_before = stats.fail_open_refused.load();
  auto policy = make(R"(
limits: [{name: a, counter_key: app_id, tokens_per_minute: 100000, token_quota: 10, token_quota_period: daily}]
store: redis
redis: {url: "redis://127.0.0.1:1", pool_size: 1, on_failure: fail_open, fallback_tokens_per_minute: 500}
)");
  auto first = call(chat_body("hi", 300));
  EXPECT_FALSE(request(*policy, *first));  // the quota of 10 is not judged without Redis
  EXPECT_EQ(first->header("x-ratelimit-remaining-tokens"),
            std::to_string(500 - 300 - prompt_of(chat_body("hi", 300))));
  auto second = call(chat_body("hi", 300));
  auto refused = request(*policy, *second);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 429);
  EXPECT_EQ(stats.fail_open_admitted.load(), admitted + 1);
  EXPECT_EQ(stats.fail_open_refused.load(), refused_before + 1);
  // The fallback reservation is settled in the fallback store.
  first->context->status = 500;
  policy->on_complete(*first->context);
  auto third = call(chat_body("hi", 300));
  EXPECT_FALSE(request(*policy, *third));
}

TEST_F(TokenLimitPolicyTest, TheRegistryBuildsItFromTheGatewayConfig) {
  auto registry = builtin_policies();
  ASSERT_NE(registry.find("token_limit"), nullptr);
  PolicyServices services;
  services.clock = &clock;
  auto settings = read_gateway_settings(core::load_config_string(R"(
listeners: [{port: 0}]
policies:
  token_limit:
    limits: [{name: a, counter_key: app_id, tokens_per_minute: 10}]
)",
                                                                 "gateway.yaml"),
                                        registry, services);
  ASSERT_EQ(settings.global_policies.size(), 1u);
  EXPECT_EQ(settings.global_policies[0]->name(), "token_limit");
  EXPECT_EQ(settings.global_policies[0]->phase_order(), PhaseOrder::kLimit);
}

TEST_F(TokenLimitPolicyTest, CountersSurviveAConfigReload) {
  auto registry = builtin_policies();
  PolicyServices services;
  services.clock = &clock;
  constexpr std::string_view kConfig = R"(
listeners: [{port: 0}]
policies:
  token_limit:
    limits: [{name: a, counter_key: app_id, tokens_per_minute: 1000}]
)";
  auto running =
      read_gateway_settings(core::load_config_string(kConfig, "gateway.yaml"), registry, services);
  auto c = call(chat_body("hi", 900));
  ASSERT_FALSE(request(*running.global_policies[0], *c));
  // SIGHUP: the new config is built while the running one still holds its policies.
  auto reloaded =
      read_gateway_settings(core::load_config_string(kConfig, "gateway.yaml"), registry, services);
  ASSERT_NE(reloaded.global_policies[0], running.global_policies[0]);
  auto after = call(chat_body("hi", 900));
  auto refused = request(*reloaded.global_policies[0], *after);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 429);
}

// The prompt's count reads the gateway's parse of the body: the gateway must keep a document for
// it exactly when some limit estimates prompt tokens.
TEST_F(TokenLimitPolicyTest, ReadsTheRequestDocumentOnlyToCountPrompts) {
  EXPECT_TRUE(make("limits: [{name: a, counter_key: app_id, tokens_per_minute: 100}]")
                  ->reads_request_document());
  EXPECT_FALSE(make("limits: [{name: a, counter_key: app_id, tokens_per_minute: 100, "
                    "estimate_prompt_tokens: false}]")
                   ->reads_request_document());
}

}  // namespace
}  // namespace sluice::gateway
