// The engine against an in-process HTTP server on loopback: counts, streaming timings, the open
// model's intended-time latency, token refresh, JTL output.
//
// Timings are checked only against lower bounds the server guarantees (it waits at least so long),
// never against how fast this machine happens to be; how close the engine's figures come to a
// timing model is measured by bench/load/timing.sh.
#include "sluice/loadgen/engine.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "sluice/http/server.hpp"

namespace sluice::loadgen {
namespace {

namespace asio = http::asio;
using http::Task;

struct Counters {
  std::atomic<int> plain{0}, token{0}, chat{0}, slow{0}, throttle{0};
  std::atomic<int> bad_auth{0};
  std::atomic<int> logins{0};
  std::mutex mu;
  std::vector<std::string> cookies_seen;       // Cookie header of each /check and /login, in order
  std::vector<std::string> traceparents_seen;  // each /trace: "<how many> <the first's value>"
};

Task<void> pause(http::Exchange& ex, std::chrono::milliseconds d) {
  http::SteadyTimer t(ex.executor());
  t.expires_after(d);
  co_await t.async_wait(http::kUseTuple);
}

http::Handler handler(Counters& c) {
  return [&c](http::Exchange& ex) -> Task<void> {
    std::string target(ex.request().target());
    if (target.starts_with("/token?expires_in=")) {
      ++c.token;
      http::Response r{http::Status::ok, 11};
      r.set(http::Field::content_type, "application/json");
      r.body() = R"({"token_type":"Bearer","expires_in":")" + target.substr(18) +
                 R"(","access_token":"tok-)" + std::to_string(c.token.load()) + "\"}";
      r.prepare_payload();
      co_await ex.send(std::move(r));
      co_return;
    }
    if (target == "/chat") {
      ++c.chat;
      auto auth = ex.request()[http::Field::authorization];
      if (!std::string_view(auth).starts_with("Bearer tok-")) ++c.bad_auth;
      http::ResponseHeader h;
      h.result(http::Status::ok);
      h.set(http::Field::content_type, "text/event-stream");
      if (!co_await ex.start_stream(std::move(h))) co_return;
      co_await pause(ex, std::chrono::milliseconds(100));  // time to first token
      for (int i = 0; i < 5; ++i) {
        if (i) co_await pause(ex, std::chrono::milliseconds(40));
        std::string ev = R"(data: {"choices":[{"index":0,"delta":{"content":"w)" +
                         std::to_string(i) + "\"}}]}\n\n";
        if (!co_await ex.write(ev)) co_return;
      }
      co_await ex.write(
          "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":5}}\n\n"
          "data: [DONE]\n\n");
      co_await ex.finish_stream();
      co_return;
    }
    if (target == "/login" || target == "/check") {
      http::Response r{http::Status::ok, 11};
      {
        std::lock_guard lock(c.mu);
        c.cookies_seen.push_back(target + " " + std::string(ex.request()[http::Field::cookie]));
      }
      if (target == "/login") {
        r.set(http::Field::set_cookie, "session=s" + std::to_string(++c.logins) + "; Path=/");
        r.insert(http::Field::set_cookie, "elsewhere=1; Domain=other.test");
      }
      r.body() = "ok";
      r.prepare_payload();
      co_await ex.send(std::move(r));
      co_return;
    }
    if (target == "/trace") {
      int count = 0;
      std::string first;
      for (const auto& field : ex.request()) {
        if (!http::beast::iequals(field.name_string(), "traceparent")) continue;
        if (count++ == 0) first = std::string(field.value());
      }
      {
        std::lock_guard lock(c.mu);
        c.traceparents_seen.push_back(std::to_string(count) + " " + first);
      }
    }
    if (target == "/throttle") {
      // Every other request is throttled for 80 ms.
      if (++c.throttle % 2 == 1) {
        http::Response r{http::Status::too_many_requests, 11};
        r.set("retry-after-ms", "80");
        r.set(http::Field::retry_after, "1");
        r.body() = R"({"error":{"code":"429","message":"slow down"}})";
        r.prepare_payload();
        co_await ex.send(std::move(r));
        co_return;
      }
    }
    if (target == "/slow") {
      ++c.slow;
      co_await pause(ex, std::chrono::milliseconds(100));
    } else {
      ++c.plain;
    }
    http::Response r{http::Status::ok, 11};
    r.body() = "ok";
    r.prepare_payload();
    co_await ex.send(std::move(r));
  };
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    http::ServerSettings s;
    s.port = 0;
    s.threads = 2;
    server_ = std::make_unique<http::Server>(s, handler(counters_));
    server_->start();
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_->shutdown(std::chrono::milliseconds(2000));
    server_->join();
  }
  HttpSampler sampler(std::string label, std::string path) {
    HttpSampler s;
    s.label = std::move(label);
    s.url = *Template::compile(base_ + path);
    s.timeout = std::chrono::milliseconds(60'000);  // only a hang reaches it
    return s;
  }
  // Per VU: an Entra-style token (fetched once, refreshed `refresh_margin` before it expires), then
  // a streamed chat completion with it.
  Plan token_then_chat(int vus, int loops, int token_seconds) {
    Plan plan;
    ThreadGroup g;
    g.load = ClosedLoad{.vus = vus, .loops = loops};
    HttpSampler token = sampler("token", "/token?expires_in=" + std::to_string(token_seconds));
    token.method = "POST";
    token.form.push_back({"grant_type", Template::literal("client_credentials")});
    token.extractors.push_back(
        {Extractor::kJsonPath, "access_token", "$.access_token", 1, 1, std::nullopt});
    token.extractors.push_back(
        {Extractor::kJsonPath, "expires_in", "$.expires_in", 1, 1, std::nullopt});
    OnceOnly once;
    once.refresh_expires_in_var = "expires_in";
    once.refresh_margin = std::chrono::seconds(1);
    once.steps.push_back(Step{std::move(token)});
    g.steps.push_back(Step{std::move(once)});
    HttpSampler chat = sampler("chat", "/chat");
    chat.method = "POST";
    chat.response = ResponseKind::kOpenAi;
    chat.model = "gpt-4o";
    chat.body =
        *Template::compile(R"({"messages":[{"role":"user","content":"hi"}],"stream":true})");
    chat.headers.push_back({"Authorization", *Template::compile("Bearer ${access_token}")});
    g.steps.push_back(Step{std::move(chat)});
    plan.groups.push_back(std::move(g));
    return plan;
  }
  // `vus` users, each sending `loops` requests to a port where nothing listens.
  static Plan refused_plan(int vus, int loops) {
    Plan plan;
    ThreadGroup g;
    g.load = ClosedLoad{.vus = vus, .loops = loops};
    HttpSampler s;
    s.label = "refused";
    s.url = Template::literal("http://127.0.0.1:1/x");
    s.timeout = std::chrono::milliseconds(2000);
    g.steps.push_back(Step{std::move(s)});
    plan.groups.push_back(std::move(g));
    return plan;
  }
  Counters counters_;
  std::unique_ptr<http::Server> server_;
  std::string base_;
};

TEST_F(EngineTest, ClosedModelRunsEveryVuEveryLoopAndWritesJtl) {
  Plan plan;
  ThreadGroup g;
  g.load = ClosedLoad{.vus = 4, .ramp_up = std::chrono::milliseconds(200), .loops = 5};
  g.steps.push_back(Step{sampler("plain", "/plain")});
  plan.groups.push_back(std::move(g));
  auto jtl = std::filesystem::temp_directory_path() / "sluice_engine_test.jtl";
  EngineOptions o;
  o.threads = 2;
  o.jtl_path = jtl.string();
  auto out = run_plan(plan, {}, o);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->results.total.requests, 20u);
  EXPECT_EQ(out->results.total.errors, 0u);
  EXPECT_EQ(counters_.plain.load(), 20);
  std::ifstream in(jtl);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line,
            "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,"
            "failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect");
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_NE(line.find(",plain,200,OK,"), std::string::npos) << line;
    EXPECT_NE(line.find(",text,true,"), std::string::npos) << line;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), 16) << line;  // seventeen columns
    EXPECT_NE(line.find("," + base_ + "/plain,"), std::string::npos) << line;
  }
  EXPECT_EQ(rows, 20);
  std::filesystem::remove(jtl);
}

TEST_F(EngineTest, EveryRequestCarriesOneTraceparentThePlansOwnWhereItSetsOne) {
  constexpr std::string_view kPlans = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  Plan plan;
  ThreadGroup g;
  g.load = ClosedLoad{.vus = 2, .loops = 3};
  g.steps.push_back(Step{sampler("run's", "/trace")});
  HttpSampler own = sampler("plan's", "/trace");
  own.headers.push_back({"TraceParent", Template::literal(std::string(kPlans))});
  g.steps.push_back(Step{std::move(own)});
  plan.groups.push_back(std::move(g));
  EngineOptions o;
  o.threads = 1;
  o.trace_id_prefix = "0123456789abcdef";
  auto out = run_plan(plan, {}, o);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->results.total.errors, 0u);
  ASSERT_EQ(counters_.traceparents_seen.size(), 12u);
  int plans = 0;
  std::set<std::string> runs;
  for (const auto& seen : counters_.traceparents_seen) {
    ASSERT_TRUE(seen.starts_with("1 ")) << seen;  // one field, never the plan's and the run's
    std::string value = seen.substr(2);
    if (value == kPlans) {
      ++plans;
      continue;
    }
    EXPECT_EQ(value.size(), 55u) << value;
    EXPECT_TRUE(value.starts_with("00-0123456789abcdef")) << value;
    EXPECT_TRUE(value.ends_with("-01")) << value;
    runs.insert(value);
  }
  EXPECT_EQ(plans, 6);
  EXPECT_EQ(runs.size(), 6u);  // a trace of its own for every request
}

TEST_F(EngineTest, StreamingTtftAndItlAndTokenOncePerVu) {
  EngineOptions o;
  o.threads = 1;
  auto out = run_plan(token_then_chat(2, 4, 3600), {}, o);
  ASSERT_TRUE(out) << out.error().message;
  const auto& s = out->results.labels.at("chat");
  EXPECT_EQ(s.requests, 8u);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(counters_.bad_auth.load(), 0);
  // Server: 100 ms to the first token, then 4 gaps of 40 ms. TTFT counts from the send, so it is
  // never shorter; first token plus the gaps reach the last token, at least 260 ms in.
  EXPECT_GE(s.ttft.min(), 100'000u);
  EXPECT_EQ(s.itl.count(), s.requests * 4);
  EXPECT_GE(s.ttft.sum() + s.itl.sum(), s.requests * (260'000 - 10));  // µs, less rounding
  EXPECT_GE(s.e2e.min(), 260'000u);
  EXPECT_EQ(s.completion_tokens, s.requests * 5);
  EXPECT_EQ(s.prompt_tokens, s.requests * 11);
  EXPECT_EQ(s.estimated, 0u);
  // An hour-long token is fetched once per VU, not once per iteration.
  EXPECT_EQ(counters_.token.load(), 2);
  EXPECT_EQ(out->results.labels.at("token").requests, 2u);
}

TEST_F(EngineTest, TokenIsRefreshedWhenItNearsExpiry) {
  // 2 s tokens refreshed 1 s before they expire. An iteration lasts at least 260 ms (the chat
  // stream), so a VU's fifth iteration starts at least 1.04 s after its first fetch and must
  // refresh: at least two fetches per VU, and never more than one per iteration.
  EngineOptions o;
  o.threads = 1;
  auto out = run_plan(token_then_chat(2, 5, 2), {}, o);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->results.labels.at("chat").requests, 10u);
  EXPECT_EQ(out->results.labels.at("chat").errors, 0u);
  EXPECT_EQ(counters_.bad_auth.load(), 0);
  int tokens = counters_.token.load();
  EXPECT_GE(tokens, 4);
  EXPECT_LE(tokens, 10);
}

TEST_F(EngineTest, OpenModelKeepsItsRateAndMeasuresFromIntendedStart) {
  Plan plan;
  ThreadGroup g;
  // 20 arrivals/s into one VU whose requests take 100 ms: capacity 10/s, so a queue builds and
  // latency from the intended start grows well past the server's 100 ms.
  g.load = OpenLoad{
      .rate_per_second = 20, .max_concurrency = 1, .duration = std::chrono::milliseconds(1500)};
  g.steps.push_back(Step{sampler("slow", "/slow")});
  plan.groups.push_back(std::move(g));
  EngineOptions o;
  o.threads = 1;
  o.grace = std::chrono::milliseconds(60'000);  // in-flight requests always finish
  auto out = run_plan(plan, {}, o);
  ASSERT_TRUE(out) << out.error().message;
  const auto& t = out->results.total;
  EXPECT_EQ(t.requests + out->results.dropped_iterations, 30u);
  // Arrivals are due every 50 ms, each request takes at least 100 ms, and the VU takes the queued
  // arrivals until the last is due (at 1.45 s): the last request it runs ends at t >= 1.45 s and
  // was due at t / 2 at the latest (it is at most the (t / 100 ms)th), so it is late by at least
  // 725 ms, however slow the machine. Timed from its send, it would be ~100 ms.
  EXPECT_GT(t.e2e.max() / 1000.0, 600.0);
  EXPECT_GT(t.queue.count(), 0u);

  // With a VU for every arrival nothing waits for a VU: the rate is kept (no arrival dropped) and
  // no request is measured from before its send.
  Plan fast;
  ThreadGroup f;
  f.load = OpenLoad{
      .rate_per_second = 40, .max_concurrency = 40, .duration = std::chrono::milliseconds(1000)};
  f.steps.push_back(Step{sampler("slow", "/slow")});
  fast.groups.push_back(std::move(f));
  auto out2 = run_plan(fast, {}, o);
  ASSERT_TRUE(out2);
  EXPECT_EQ(out2->results.total.requests, 40u);
  EXPECT_EQ(out2->results.dropped_iterations, 0u);
  EXPECT_GE(out2->results.total.e2e.min(), 100'000u);  // the server's 100 ms, at least
}

TEST_F(EngineTest, RetriesAreOffByDefaultAndHonourRetryAfterWhenOn) {
  Plan plan;
  ThreadGroup g;
  g.load = ClosedLoad{.vus = 1, .loops = 4};
  g.steps.push_back(Step{sampler("throttled", "/throttle")});
  plan.groups.push_back(std::move(g));
  auto off = run_plan(plan, {}, EngineOptions{});
  ASSERT_TRUE(off);
  EXPECT_EQ(off->results.total.requests, 4u);
  EXPECT_EQ(off->results.total.throttled, 2u);
  EXPECT_EQ(off->results.total.errors, 2u);

  auto& s = std::get<HttpSampler>(plan.groups[0].steps[0].node);
  s.max_retries = 2;
  // Not used: retry-after-ms wins. Were it used, the run would outlast ctest's timeout.
  s.retry_backoff = std::chrono::hours(1);
  auto begin = std::chrono::steady_clock::now();
  auto on = run_plan(plan, {}, EngineOptions{});
  auto took = std::chrono::steady_clock::now() - begin;
  ASSERT_TRUE(on);
  // Each iteration: a 429, a wait of 80 ms, then a success; every attempt is its own sample.
  EXPECT_EQ(on->results.total.requests, 8u);
  EXPECT_EQ(on->results.total.throttled, 4u);
  EXPECT_EQ(on->results.total.statuses.at(200), 4u);
  EXPECT_GE(took, std::chrono::milliseconds(4 * 80));  // it did wait as told, never less
}

TEST_F(EngineTest, ConnectionErrorsAreSamplesNotCrashes) {
  Plan plan = refused_plan(1, 3);
  auto out = run_plan(plan, {}, EngineOptions{});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->results.total.requests, 3u);
  EXPECT_EQ(out->results.total.errors, 3u);
  EXPECT_EQ(out->results.total.statuses.at(0), 3u);
}

// A user that cannot connect pauses before going on, unless told to go on at once like JMeter.
TEST_F(EngineTest, ConnectionFailuresPauseTheUserUnlessTurnedOff) {
  Plan plan = refused_plan(2, 4);
  EngineOptions o;
  o.connect_backoff = std::chrono::milliseconds(5);
  o.connect_backoff_max = std::chrono::milliseconds(20);
  auto out = run_plan(plan, {}, o);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->results.total.requests, 8u);
  EXPECT_EQ(out->results.connect_failures, 8u);
  EXPECT_EQ(out->results.backoff_waits, 8u);
  EXPECT_EQ(out->results.connect_backoff_ms, 5);
  o.connect_backoff = std::chrono::milliseconds(0);
  out = run_plan(plan, {}, o);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->results.connect_failures, 8u);
  EXPECT_EQ(out->results.backoff_waits, 0u);
  EXPECT_EQ(out->results.connect_backoff_ms, 0);
  // A sample that got an answer is no connection failure.
  Plan good;
  ThreadGroup ok;
  ok.load = ClosedLoad{.vus = 1, .loops = 2};
  ok.steps.push_back(Step{sampler("plain", "/plain")});
  good.groups.push_back(std::move(ok));
  out = run_plan(good, {}, EngineOptions{});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->results.connect_failures, 0u);
}

// JMeter's cookie manager: each user keeps the cookies its server set, starts with the
// user-defined ones, and with clearing on is a new user each iteration.
TEST_F(EngineTest, CookiesArePerUserAndClearedEachIterationWhenAsked) {
  for (bool clear : {true, false}) {
    counters_.cookies_seen.clear();
    counters_.logins = 0;
    Plan plan;
    ThreadGroup g;
    g.load = ClosedLoad{.vus = 1, .loops = 2};
    g.cookies =
        CookieSettings{clear, {UserCookie{"tenant", Template::literal("blue"), "", "/", false}}};
    for (const char* path : {"/login", "/check"}) {
      HttpSampler s = sampler(path, path);
      s.use_cookies = true;
      g.steps.push_back(Step{std::move(s)});
    }
    plan.groups.push_back(std::move(g));
    auto out = run_plan(plan, {}, EngineOptions{});
    ASSERT_TRUE(out);
    EXPECT_EQ(out->results.total.errors, 0u);
    std::vector<std::string> expected =
        clear ? std::vector<std::string>{"/login tenant=blue", "/check tenant=blue; session=s1",
                                         "/login tenant=blue", "/check tenant=blue; session=s2"}
              : std::vector<std::string>{"/login tenant=blue", "/check tenant=blue; session=s1",
                                         "/login tenant=blue; session=s1",
                                         "/check tenant=blue; session=s2"};
    EXPECT_EQ(counters_.cookies_seen, expected) << "clear " << clear;
  }
}

// A Constant Throughput Timer in a runtime-bounded loop: however fast or slow the machine, no more
// samples start than the pace allows in each user's loop time (one every 100 ms for 500 ms: at
// most 6 a user), per user or shared by all users. (A shared schedule allows fewer still, but the
// users' loops begin at slightly different times, so only the per-user bound holds everywhere.)
TEST_F(EngineTest, ConstantThroughputTimerPacesSamplersPerUserOrShared) {
  for (auto pacing : {Timer::Pacing::kThisUser, Timer::Pacing::kAllUsersShared}) {
    Plan plan;
    ThreadGroup g;
    g.load = ClosedLoad{.vus = 2, .loops = 1};
    Loop loop;
    loop.count = -1;
    loop.run_time = std::chrono::milliseconds(500);
    Timer pace;
    pace.kind = Timer::kConstantThroughput;
    pace.per_minute = 600;
    pace.pacing = pacing;
    loop.steps.push_back(Step{pace});
    loop.steps.push_back(Step{sampler("plain", "/plain")});
    g.steps.push_back(Step{std::move(loop)});
    plan.groups.push_back(std::move(g));
    auto out = run_plan(plan, {}, EngineOptions{});
    ASSERT_TRUE(out);
    auto requests = out->results.total.requests;
    EXPECT_GE(requests, 2u);
    EXPECT_LE(requests, 12u);
    EXPECT_EQ(out->results.total.errors, 0u);
  }
}

TEST_F(EngineTest, AutoStopEndsARunOfErrors) {
  Plan plan;
  ThreadGroup g;
  // Longer than ctest's timeout: only autoStop can end this run in time.
  g.load = ClosedLoad{.vus = 1, .loops = -1, .duration = std::chrono::milliseconds(600'000)};
  HttpSampler s;
  s.label = "refused";
  s.url = Template::literal("http://127.0.0.1:1/x");
  s.timeout = std::chrono::milliseconds(2000);
  g.steps.push_back(Step{std::move(s)});
  g.steps.push_back(Step{Timer{Timer::kConstant, std::chrono::milliseconds(50), {}}});
  plan.groups.push_back(std::move(g));
  EngineOptions o;
  o.auto_stop = AutoStop{true, 50.0, std::chrono::seconds(1)};
  auto out = run_plan(plan, {}, o);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->auto_stopped);
  EXPECT_NE(out->stop_reason.find("autoStop"), std::string::npos);
}

}  // namespace
}  // namespace sluice::loadgen
