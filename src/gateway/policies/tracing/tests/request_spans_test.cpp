#include "gateway/policies/tracing/request_spans.hpp"

#include <gtest/gtest.h>

#include "gateway/policies/identity/tests/fake_exchange.hpp"
#include "sluice/gateway/settings.hpp"
#include "sluice/telemetry/otlp_encoding.hpp"
#include "sluice/telemetry/span.hpp"

namespace sluice::gateway {
namespace {

using telemetry::Span;
using telemetry::SpanKind;
using telemetry::StatusCode;

const telemetry::AttributeValue* find(const Span& span, std::string_view key) {
  for (const auto& a : span.attributes) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

std::string text(const Span& span, std::string_view key) {
  auto* v = find(span, key);
  return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "<absent>";
}

// The spans as objects, by the same code that encodes them on the request path.
std::vector<Span> request_spans(const RequestContext& context, const RequestTrace& trace,
                                std::chrono::nanoseconds offset) {
  telemetry::SpanCollector collector;
  write_request_spans(collector, context, trace, offset);
  return std::move(collector.spans());
}

std::int64_t number(const Span& span, std::string_view key) {
  auto* v = find(span, key);
  return v && std::holds_alternative<std::int64_t>(*v) ? std::get<std::int64_t>(*v) : -999;
}

class RequestSpansTest : public ::testing::Test {
 protected:
  RequestSpansTest() : exchange_(io_, make_request()), context_(exchange_, "req-1") {
    ptu_.name = "ptu";
    ptu_.url = *http::parse_url("http://ptu.example:8081");
    paygo_.name = "paygo";
    paygo_.url = *http::parse_url("https://paygo.example");
    paygo_.kind = BackendKind::kOpenAi;
    context_.target = parse_request_target(exchange_.request().target());
    context_.deployment = "gpt-4o";
    context_.set_identity(std::make_shared<Identity>(Identity{.app_id = "app-a"}));
    context_.received_at = std::chrono::steady_clock::now();
    context_.completed_at = context_.received_at + std::chrono::milliseconds(40);
    context_.status = 200;
    context_.backend = "paygo";
    context_.response_model = "gpt-4o-2024-08-06";
    context_.usage = TokenUsage{12, 30, 42, 0, 0, UsageSource::kReported};
    Attempt first{"ptu", &ptu_,      context_.received_at,
                  429,   "HTTP 429", std::chrono::milliseconds(3)};
    Attempt second{"paygo",      &paygo_, context_.received_at + std::chrono::milliseconds(4),
                   200,          "",      std::chrono::milliseconds(30),
                   "gpt-4o-prod"};
    context_.attempts = {first, second};
    trace_.trace_id = telemetry::random_trace_id();
    trace_.span_id = telemetry::random_span_id();
    trace_.sampled = true;
    trace_.attempt_span_ids = {telemetry::random_span_id(), telemetry::random_span_id()};
  }

  static http::Request make_request() {
    http::Request request{http::bhttp::verb::post,
                          "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", 11};
    return request;
  }

  http::asio::io_context io_;
  identity::testing::FakeExchange exchange_;
  RequestContext context_;
  BackendSettings ptu_;
  BackendSettings paygo_;
  RequestTrace trace_;
};

TEST_F(RequestSpansTest, TheServerSpanCarriesTheGenAiAttributes) {
  auto spans = request_spans(context_, trace_, std::chrono::nanoseconds(0));
  ASSERT_EQ(spans.size(), 3u);
  const auto& server = spans[0];
  EXPECT_EQ(server.kind, SpanKind::kServer);
  EXPECT_EQ(server.name, "chat gpt-4o");
  EXPECT_EQ(server.span_id, trace_.span_id);
  EXPECT_FALSE(telemetry::is_valid(server.parent_span_id));
  EXPECT_EQ(text(server, "gen_ai.operation.name"), "chat");
  EXPECT_EQ(text(server, "gen_ai.request.model"), "gpt-4o");
  EXPECT_EQ(text(server, "gen_ai.response.model"), "gpt-4o-2024-08-06");
  EXPECT_EQ(number(server, "gen_ai.usage.input_tokens"), 12);
  EXPECT_EQ(number(server, "gen_ai.usage.output_tokens"), 30);
  EXPECT_EQ(text(server, "gen_ai.provider.name"), "openai");  // the backend that answered
  EXPECT_EQ(text(server, "server.address"), "paygo.example");
  EXPECT_EQ(number(server, "server.port"), 443);
  EXPECT_EQ(text(server, "sluice.app_id"), "app-a");
  EXPECT_EQ(text(server, "sluice.backend"), "paygo");
  EXPECT_EQ(number(server, "http.response.status_code"), 200);
  EXPECT_EQ(number(server, "sluice.attempts"), 2);
  EXPECT_EQ(text(server, "http.request.method"), "POST");
  EXPECT_EQ(text(server, "url.path"), "/openai/deployments/gpt-4o/chat/completions");
  EXPECT_EQ(find(server, "sluice.route"), nullptr);  // no route: the global policies ran
  EXPECT_EQ(server.status, StatusCode::kUnset);
  EXPECT_EQ(server.end_unix_ns - server.start_unix_ns, 40'000'000u);
}

TEST_F(RequestSpansTest, EachAttemptIsAClientChildWithItsOutcome) {
  auto spans = request_spans(context_, trace_, std::chrono::nanoseconds(0));
  ASSERT_EQ(spans.size(), 3u);
  const auto& failed = spans[1];
  const auto& ok = spans[2];
  for (const auto* span : {&failed, &ok}) {
    EXPECT_EQ(span->kind, SpanKind::kClient);
    EXPECT_EQ(span->trace_id, trace_.trace_id);
    EXPECT_EQ(span->parent_span_id, trace_.span_id);
  }
  EXPECT_EQ(failed.span_id, trace_.attempt_span_ids[0]);  // the id the backend was sent
  EXPECT_EQ(text(failed, "sluice.attempt.outcome"), "failover");
  EXPECT_EQ(text(failed, "sluice.failover_reason"), "HTTP 429");
  EXPECT_EQ(number(failed, "http.response.status_code"), 429);
  EXPECT_EQ(text(failed, "gen_ai.provider.name"), "azure.ai.openai");
  EXPECT_EQ(text(failed, "server.address"), "ptu.example");
  EXPECT_EQ(number(failed, "server.port"), 8081);
  EXPECT_EQ(failed.status, StatusCode::kError);
  EXPECT_EQ(text(ok, "sluice.attempt.outcome"), "ok");
  // The name the backend knows the deployment by, where its `deployments` map renames it.
  EXPECT_EQ(text(ok, "sluice.upstream_deployment"), "gpt-4o-prod");
  EXPECT_EQ(find(failed, "sluice.upstream_deployment"), nullptr);
  EXPECT_EQ(ok.status, StatusCode::kUnset);
  // A request's tokens are on its SERVER span only, so a sum over the trace counts them once.
  for (const auto* span : {&failed, &ok}) {
    EXPECT_EQ(find(*span, "gen_ai.usage.input_tokens"), nullptr);
    EXPECT_EQ(find(*span, "gen_ai.usage.output_tokens"), nullptr);
    EXPECT_EQ(find(*span, "gen_ai.response.model"), nullptr);
  }
  EXPECT_EQ(ok.end_unix_ns - ok.start_unix_ns, 30'000'000u);
}

TEST_F(RequestSpansTest, ACallersTraceparentMakesTheServerSpanItsChild) {
  telemetry::TraceContext caller{trace_.trace_id, telemetry::random_span_id(), true};
  trace_.caller = caller;
  auto spans = request_spans(context_, trace_, std::chrono::nanoseconds(0));
  EXPECT_EQ(spans[0].parent_span_id, caller.span_id);
  EXPECT_TRUE(spans[0].parent_is_remote);
  EXPECT_FALSE(spans[1].parent_is_remote);
}

TEST_F(RequestSpansTest, DecisionsAndFirstTokenAreRecorded) {
  context_.streamed = true;
  context_.first_token_at = context_.received_at + std::chrono::milliseconds(10);
  context_.cache_decision = "miss";
  context_.limit_decision = "admitted";
  auto server = request_spans(context_, trace_, std::chrono::nanoseconds(0))[0];
  EXPECT_EQ(text(server, "sluice.cache"), "miss");
  EXPECT_EQ(text(server, "sluice.limit"), "admitted");
  ASSERT_EQ(server.events.size(), 1u);
  EXPECT_EQ(server.events[0].name, "gen_ai.first_token");
  EXPECT_EQ(server.events[0].time_unix_ns - server.start_unix_ns, 10'000'000u);
}

TEST_F(RequestSpansTest, AGatewayRefusalHasNoAttemptsAndAFailedBackendIsAnError) {
  context_.attempts.clear();
  context_.backend.clear();
  context_.status = 429;
  context_.error_code = "token_rate_limited";
  context_.limit_decision = "rate_limited";
  context_.usage = {};
  auto spans = request_spans(context_, trace_, std::chrono::nanoseconds(0));
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(text(spans[0], "sluice.limit"), "rate_limited");
  EXPECT_EQ(spans[0].status, StatusCode::kUnset);  // 4xx is the caller's, not an error
  EXPECT_EQ(find(spans[0], "gen_ai.usage.input_tokens"), nullptr);

  context_.status = 502;
  context_.error_code = "bad_gateway";
  auto failed = request_spans(context_, trace_, std::chrono::nanoseconds(0));
  EXPECT_EQ(failed[0].status, StatusCode::kError);
  EXPECT_EQ(text(failed[0], "error.type"), "bad_gateway");
}

// The request path's encoder (which writes each backend's attributes from a per-thread cache)
// writes exactly what encoding the collected spans does, also after a backend's settings change
// in place, where a stale cache entry would name the old host.
TEST_F(RequestSpansTest, TheEncoderWritesWhatTheCollectedSpansEncodeTo) {
  const auto offset = std::chrono::nanoseconds(1'700'000'000'000'000'000);
  telemetry::ResourceInfo resource;
  auto expect_same_bytes = [&](const char* when) {
    telemetry::SpanEncoder encoder;
    write_request_spans(encoder, context_, trace_, offset);
    const auto encoded = encoder.take();
    EXPECT_EQ(encoded.count, 1 + context_.attempts.size()) << when;
    const auto collected = request_spans(context_, trace_, offset);
    EXPECT_EQ(telemetry::encode_export_request(
                  resource, std::span<const telemetry::EncodedSpans>(&encoded, 1)),
              telemetry::encode_export_request(resource, std::span<const Span>(collected)))
        << when;
  };
  expect_same_bytes("first request");
  expect_same_bytes("second request, from the cache");
  paygo_.url = *http::parse_url("https://paygo-2.example:8443");
  paygo_.kind = BackendKind::kAzure;
  expect_same_bytes("after the backend's settings changed in place");
  context_.backend = "ptu";
  context_.attempts.pop_back();
  expect_same_bytes("another backend");
  // The attributes of a deployment, path and route come from another per-thread cache: each
  // change is seen, also a route renamed in place and a deployment name past 15 bytes.
  context_.deployment = "gpt-4o-mini-2024-07-18";
  expect_same_bytes("another deployment");
  RouteSettings route;
  route.name = "chat";
  context_.route = &route;
  expect_same_bytes("with a route");
  route.name = "chat-eu";
  expect_same_bytes("the route renamed in place");
  context_.attempts.back().upstream_deployment = "mini-eu";
  expect_same_bytes("the attempt's deployment renamed upstream");
  context_.target.operation = Operation::kEmbeddings;
  expect_same_bytes("another operation");
  context_.route = nullptr;
  // And the request's summary (model answered, usage source, status, app, streamed), which is
  // cached too, as is each attempt's ending.
  context_.response_model = "gpt-4o-mini-2024-07-18";
  expect_same_bytes("another response model");
  context_.usage.source = UsageSource::kEstimated;
  expect_same_bytes("usage estimated");
  context_.streamed = true;
  expect_same_bytes("streamed");
  context_.set_identity(std::make_shared<Identity>(Identity{.app_id = "app-b"}));
  expect_same_bytes("another app");
  context_.status = 503;
  context_.attempts.back().status = 503;
  context_.attempts.back().error = "HTTP 503";
  expect_same_bytes("a failed request");
  context_.attempts.back().status = 0;
  context_.attempts.back().error = "connection refused";
  expect_same_bytes("an attempt with no answer");
  context_.status = 70'000;  // past what the cache's key holds: encoded as it comes
  expect_same_bytes("a status the key cannot hold");
}

}  // namespace
}  // namespace sluice::gateway
