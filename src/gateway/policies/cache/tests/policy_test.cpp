// The cache policy on requests with no network: look-ups, hits, partitions, what is kept and
// what is not, TTL with a fake clock, and what a hit leaves in the request context for the usage
// record and the token limit.
#include "gateway/policies/cache/cache_policy.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>

#include "gateway/json_scratch.hpp"
#include "gateway/policies/identity/tests/fake_exchange.hpp"
#include "gateway/request_body.hpp"
#include "sluice/core/config.hpp"
#include "sluice/core/fake_clock.hpp"

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;
namespace asio = http::asio;
using identity::testing::FakeExchange;

constexpr std::string_view kTarget =
    "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
constexpr std::string_view kAnswer = R"({"id":"c1","object":"chat.completion","created":1,
  "model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},
  "finish_reason":"stop"}],"usage":{"prompt_tokens":8,"completion_tokens":2,"total_tokens":10}})";

http::Request request_of(std::string body,
                         std::vector<std::pair<std::string, std::string>> headers) {
  http::Request request{http::bhttp::verb::post, kTarget, 11};
  request.body() = std::move(body);
  for (const auto& [name, value] : headers) request.set(name, value);
  return request;
}

struct Call {
  Call(asio::io_context& io, std::string body, std::string app,
       std::vector<std::pair<std::string, std::string>> headers)
      : exchange(io, request_of(std::move(body), std::move(headers))), context(exchange, "req") {
    context.target = parse_request_target(kTarget);
    JsonScratch scratch;
    EXPECT_FALSE(inspect_request_body(exchange.request().body(), scratch, context.body));
    context.deployment = context.target.deployment;
    context.set_identity(std::make_shared<Identity>(Identity{.app_id = std::move(app)}));
  }
  std::string header(std::string_view name) const {
    for (const auto& [key, value] : context.response_headers) {
      if (key == name) return value;
    }
    return "";
  }
  FakeExchange exchange;
  RequestContext context;
};

class CachePolicyTest : public ::testing::Test {
 protected:
  void configure(std::string_view yaml) {
    auto root = core::load_config_string(yaml, "gateway.yaml");
    policy = std::make_shared<CachePolicy>(cache::CacheSettings::from_config(root), clock, nullptr);
  }
  // Runs the access phase; a hit comes back as the response.
  std::optional<http::Response> ask(Call& call) {
    std::optional<http::Response> answer;
    asio::co_spawn(
        io, [&]() -> http::Task<void> { answer = co_await policy->on_request(call.context); },
        asio::detached);
    io.restart();
    io.run();
    if (answer) call.context.status = answer->result_int();
    return answer;
  }
  // A miss answered by the backend with `body`.
  void answer_plain(Call& call, std::string_view body, unsigned status = 200) {
    call.context.status = status;
    policy->on_response_end(call.context, body);
  }
  std::unique_ptr<Call> call(std::string body, std::string app = "app-a",
                             std::vector<std::pair<std::string, std::string>> headers = {}) {
    return std::make_unique<Call>(io, std::move(body), std::move(app), std::move(headers));
  }

  asio::io_context io;
  core::FakeClock clock;
  std::shared_ptr<CachePolicy> policy;
};

constexpr const char* kQuestion =
    R"({"messages":[{"role":"user","content":"Hi"}],"temperature":0})";

TEST_F(CachePolicyTest, MissThenHitWithZeroBackendTokensAndTheTokensSaved) {
  configure("{}");
  auto first = call(kQuestion);
  EXPECT_FALSE(ask(*first));
  EXPECT_EQ(first->header("x-sluice-cache"), "miss");
  answer_plain(*first, kAnswer);

  auto second = call(R"({"temperature":0.0,"messages":[{"content":"Hi","role":"user"}],
                         "stream":false,"user":"x"})");
  auto hit = ask(*second);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->result_int(), 200);
  EXPECT_EQ((*hit)["x-sluice-cache"], "hit");
  EXPECT_EQ(boost::json::parse(hit->body()), boost::json::parse(kAnswer));
  EXPECT_EQ(second->context.cache.kind, "exact");
  EXPECT_EQ(second->context.cache.tokens_saved, 10);
  EXPECT_EQ(second->context.usage.total_tokens, 0);
  EXPECT_EQ(second->context.response_model, "gpt-4o");
}

TEST_F(CachePolicyTest, AnotherAppMisses) {
  configure("{}");
  auto first = call(kQuestion, "app-a");
  ask(*first);
  answer_plain(*first, kAnswer);
  auto other = call(kQuestion, "app-b");
  EXPECT_FALSE(ask(*other));
  EXPECT_EQ(other->header("x-sluice-cache"), "miss");
  configure("vary_by: none");  // a new store, shared by every caller
  auto a = call(kQuestion, "app-a");
  ask(*a);
  answer_plain(*a, kAnswer);
  auto b = call(kQuestion, "app-b");
  EXPECT_TRUE(ask(*b));
}

TEST_F(CachePolicyTest, AStreamingRequestGetsTheAnswerAsSse) {
  configure("{}");
  auto first = call(kQuestion);
  ask(*first);
  answer_plain(*first, kAnswer);
  auto streaming = call(R"({"messages":[{"role":"user","content":"Hi"}],"temperature":0,
                            "stream":true,"stream_options":{"include_usage":true}})");
  auto hit = ask(*streaming);
  ASSERT_TRUE(hit);
  EXPECT_TRUE((*hit)[http::Field::content_type].starts_with("text/event-stream"));
  EXPECT_TRUE(hit->body().ends_with("data: [DONE]\n\n"));
  EXPECT_NE(hit->body().find(R"("total_tokens":10)"), std::string::npos);
  EXPECT_TRUE(streaming->context.streamed);
}

TEST_F(CachePolicyTest, AStreamedAnswerIsKeptFromItsEvents) {
  configure("{}");
  auto first =
      call(R"({"messages":[{"role":"user","content":"Hi"}],"temperature":0,"stream":true})");
  ask(*first);
  for (
      const char* event :
      {R"({"id":"c1","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
       R"({"id":"c1","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]})",
       R"({"id":"c1","created":5,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"lo."},"finish_reason":"stop"}]})",
       R"({"id":"c1","created":5,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":2,"total_tokens":10}})"}) {
    policy->on_stream_event(first->context, event);
  }
  first->context.streamed = true;
  answer_plain(*first, "");
  auto plain = call(kQuestion);
  auto hit = ask(*plain);
  ASSERT_TRUE(hit);
  auto body = boost::json::parse(hit->body());
  EXPECT_EQ(body.at("choices").at(0).at("message").at("content"), "Hello.");
  EXPECT_EQ(plain->context.cache.tokens_saved, 10);
}

TEST_F(CachePolicyTest, WhatIsNotKept) {
  configure("{}");
  auto error = call(kQuestion);
  ask(*error);
  answer_plain(*error, R"({"error":{"message":"busy"}})", 429);
  auto broken = call(kQuestion);
  ask(*broken);
  broken->context.streamed = true;
  broken->context.upstream_truncated = true;
  answer_plain(*broken, "");
  auto filtered = call(kQuestion);
  ask(*filtered);
  answer_plain(*filtered, R"({"choices":[{"index":0,"message":{"content":""},
                              "finish_reason":"content_filter"}]})");
  auto again = call(kQuestion);
  EXPECT_FALSE(ask(*again));
  EXPECT_EQ(policy->store().size(), 0u);
}

TEST_F(CachePolicyTest, SamplingAndNoStoreStepAside) {
  configure("{}");
  for (const char* body : {R"({"messages":[],"temperature":0.7})", R"({"messages":[]})"}) {
    auto sampled = call(body);
    EXPECT_FALSE(ask(*sampled));
    EXPECT_EQ(sampled->header("x-sluice-cache"), "bypass");
    answer_plain(*sampled, kAnswer);
  }
  auto no_store = call(kQuestion, "app-a", {{"Cache-Control", "no-store"}});
  EXPECT_FALSE(ask(*no_store));
  EXPECT_EQ(no_store->header("x-sluice-cache"), "bypass");
  answer_plain(*no_store, kAnswer);
  EXPECT_EQ(policy->store().size(), 0u);

  configure("allow_sampling: true");
  auto sampled = call(R"({"messages":[],"temperature":0.7})");
  ask(*sampled);
  answer_plain(*sampled, kAnswer);
  EXPECT_EQ(policy->store().size(), 1u);
}

TEST_F(CachePolicyTest, NoCacheSkipsTheLookupButKeepsTheFreshAnswer) {
  configure("{}");
  auto first = call(kQuestion);
  ask(*first);
  answer_plain(*first, kAnswer);
  auto fresh = call(kQuestion, "app-a", {{"Cache-Control", "no-cache"}});
  EXPECT_FALSE(ask(*fresh));
  EXPECT_EQ(fresh->header("x-sluice-cache"), "miss");
  std::string newer(kAnswer);
  newer.replace(newer.find("Hello."), 6, "Howdy.");
  answer_plain(*fresh, newer);
  auto hit = ask(*call(kQuestion));
  ASSERT_TRUE(hit);
  EXPECT_NE(hit->body().find("Howdy."), std::string::npos);
}

TEST_F(CachePolicyTest, EntriesExpireWithTheTtl) {
  configure("ttl: 10s");
  auto first = call(kQuestion);
  ask(*first);
  answer_plain(*first, kAnswer);
  clock.advance(9s);
  EXPECT_TRUE(ask(*call(kQuestion)));
  clock.advance(1s);
  EXPECT_FALSE(ask(*call(kQuestion)));
}

TEST_F(CachePolicyTest, ABodyItCannotNormaliseGoesToTheBackend) {
  configure("{}");
  std::string deep = R"({"messages":[],"temperature":0,"x":)";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}";
  auto c = call(deep);
  EXPECT_FALSE(ask(*c));
  EXPECT_EQ(c->header("x-sluice-cache"), "bypass");
  EXPECT_EQ(c->context.policy_state.size(), 0u);
}

// The gateway's own pipeline as the semantic cache sees it: embeddings from a table (question
// text -> vector), or failures, and a count of the calls and of what they carried.
class FakeEmbeddings final : public InternalRequests {
 public:
  http::Task<std::optional<http::Response>> send(RequestContext& parent, http::Request request,
                                                 std::string_view purpose,
                                                 std::chrono::milliseconds) override {
    ++calls;
    last_target = std::string(request.target());
    last_purpose = std::string(purpose);
    if (fail_with == 0) co_return std::nullopt;  // timed out
    http::Response response{static_cast<http::Status>(fail_with), 11};
    if (fail_with == 200) {
      auto input = std::string(boost::json::parse(request.body()).at("input").as_string());
      auto it = vectors.find(input);
      boost::json::array embedding;
      if (it != vectors.end()) {
        for (float x : it->second) embedding.emplace_back(x);
      } else {
        embedding = {0.0, 0.0, 0.0, 1.0};  // anything unknown: one far-away direction
      }
      response.body() = boost::json::serialize(boost::json::object{
          {"data", boost::json::array{boost::json::object{{"embedding", embedding}}}}});
    }
    co_return response;
  }
  std::map<std::string, std::vector<float>> vectors;
  unsigned fail_with = 200;  // 200: answer; 0: no response (timeout); else that status
  int calls = 0;
  std::string last_target;
  std::string last_purpose;
};

class SemanticCacheTest : public CachePolicyTest {
 protected:
  void configure_semantic(std::string_view extra = "") {
    configure("semantic: {embeddings_deployment: emb, threshold: 0.9" + std::string(extra) + "}");
    embeddings.vectors = {
        {"What is the capital of France?", {1.0f, 0.0f, 0.0f, 0.0f}},
        {"Which city is France's capital?", {0.95f, 0.3122f, 0.0f, 0.0f}},  // cosine 0.95
        {"What is the capital of Spain?", {0.8f, 0.0f, 0.6f, 0.0f}},        // cosine 0.8
    };
  }
  std::unique_ptr<Call> question(std::string text, std::string app = "app-a",
                                 std::string history = "") {
    auto c = call(R"({"messages":[)" + history + R"({"role":"user","content":")" + text +
                      R"("}],"temperature":0})",
                  std::move(app));
    c->context.internal_requests = &embeddings;
    return c;
  }
  FakeEmbeddings embeddings;
};

TEST_F(SemanticCacheTest, AParaphraseAboveTheThresholdIsASemanticHit) {
  configure_semantic();
  auto first = question("What is the capital of France?");
  EXPECT_FALSE(ask(*first));
  EXPECT_EQ(first->header("x-sluice-cache"), "miss");
  answer_plain(*first, kAnswer);
  EXPECT_EQ(embeddings.calls, 1);
  EXPECT_EQ(embeddings.last_purpose, "cache_lookup");
  EXPECT_EQ(embeddings.last_target, "/openai/deployments/emb/embeddings?api-version=2024-10-21");

  auto paraphrase = question("Which city is France's capital?");
  auto hit = ask(*paraphrase);
  ASSERT_TRUE(hit);
  EXPECT_EQ((*hit)["x-sluice-cache"], "semantic-hit");
  EXPECT_EQ((*hit)["x-sluice-cache-similarity"], "0.9500");
  EXPECT_EQ(boost::json::parse(hit->body()), boost::json::parse(kAnswer));
  EXPECT_EQ(paraphrase->context.cache.kind, "semantic");
  EXPECT_NEAR(paraphrase->context.cache.similarity, 0.95, 1e-3);
  EXPECT_EQ(paraphrase->context.cache.tokens_saved, 10);
  EXPECT_EQ(paraphrase->context.usage.total_tokens, 0);

  // Below the threshold, another app, another history: misses.
  auto spain = question("What is the capital of Spain?");
  EXPECT_FALSE(ask(*spain));
  auto other_app = question("Which city is France's capital?", "app-b");
  EXPECT_FALSE(ask(*other_app));
  auto other_history = question("Which city is France's capital?", "app-a",
                                R"({"role":"user","content":"Hi"},)"
                                R"({"role":"assistant","content":"Hello"},)");
  EXPECT_FALSE(ask(*other_history));
  EXPECT_EQ(other_history->header("x-sluice-cache"), "miss");
}

TEST_F(SemanticCacheTest, AnExactHitNeedsNoEmbedding) {
  configure_semantic();
  auto first = question("What is the capital of France?");
  ask(*first);
  answer_plain(*first, kAnswer);
  auto again = question("What is the capital of France?");
  auto hit = ask(*again);
  ASSERT_TRUE(hit);
  EXPECT_EQ((*hit)["x-sluice-cache"], "hit");
  EXPECT_EQ(embeddings.calls, 1);
}

TEST_F(SemanticCacheTest, AFailedOrSlowEmbeddingCallStepsAsideAndTheBackendAnswers) {
  configure_semantic();
  auto failures = cache::cache_stats().semantic_embedding_failures.load();
  for (unsigned status : {0u, 500u, 429u, 404u}) {
    embeddings.fail_with = status;
    auto c = question("What is the capital of France?");
    EXPECT_FALSE(ask(*c)) << status;  // no error answer: the request goes on to the backend
    EXPECT_EQ(c->header("x-sluice-cache"), "miss");
  }
  EXPECT_EQ(cache::cache_stats().semantic_embedding_failures.load(), failures + 4);
  // An embeddings answer that is not a vector is a failure too.
  embeddings.fail_with = 200;
  embeddings.vectors["What is the capital of France?"] = {};
  auto empty = question("What is the capital of France?");
  EXPECT_FALSE(ask(*empty));
  EXPECT_EQ(cache::cache_stats().semantic_embedding_failures.load(), failures + 5);
}

TEST_F(SemanticCacheTest, NoQuestionMeansNoEmbeddingCall) {
  configure_semantic();
  auto c = call(R"({"messages":[{"role":"assistant","content":"Hi"}],"temperature":0})");
  c->context.internal_requests = &embeddings;
  EXPECT_FALSE(ask(*c));
  EXPECT_EQ(embeddings.calls, 0);
}

}  // namespace
}  // namespace sluice::gateway
