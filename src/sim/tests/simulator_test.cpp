// The simulator behind sluice's real HTTP server, in process, with several worker threads: what
// only shows up with concurrency and real sockets (limiter exactness across threads, streams cut
// on the wire, many paced streams on one thread). How closely paced streams keep the timing model
// under load is a benchmark (bench/sim/run.sh), not an assertion here.
#include "sluice/sim/simulator.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <future>
#include <thread>

#include "core/tests/eventually.hpp"
#include "sim/token_count.hpp"
#include "sluice/http/client.hpp"
#include "sluice/http/url.hpp"

namespace sluice::sim {
namespace {

using namespace std::chrono_literals;
namespace asio = http::asio;
namespace bhttp = http::bhttp;
namespace json = boost::json;
using core::testing::kHangBound;  // client deadlines only a hang reaches
using http::ClientResult;
using http::Request;
using http::Response;
using http::Task;

constexpr const char* kPath = "/openai/deployments/chat/chat/completions?api-version=2024-10-21";

class SimulatorTest : public ::testing::Test {
 protected:
  void start(SimSettings settings, int threads) {
    sim_ = std::make_unique<Simulator>(std::move(settings));
    http::ServerSettings server;
    server.threads = threads;
    server_ = std::make_unique<http::Server>(
        server, [this](http::Exchange& ex) { return sim_->handle(ex); });
    server_->start();
    origin_ = *http::parse_url("http://127.0.0.1:" + std::to_string(server_->port()));
    client_thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(io_);
      io_.run();
    });
    pool_ = std::make_unique<http::ClientPool>(io_.get_executor(), http::ClientSettings{});
  }
  void TearDown() override {
    asio::post(io_, [this] { pool_.reset(); });
    io_.stop();
    if (client_thread_.joinable()) client_thread_.join();
    if (server_) {
      server_->shutdown(1s);
      server_->join();
    }
  }

  static SimSettings settings(std::int64_t tpm) {
    SimSettings s = default_sim_settings();
    s.deployments.clear();
    DeploymentSettings d = default_deployment("chat", "gpt-4o");
    d.tokens_per_minute = tpm;
    d.time_to_first_token = 0ms;
    d.tokens_per_second = 0;
    d.jitter = 0;
    s.deployments.push_back(d);
    return s;
  }

  static Request post(std::string target, std::string body) {
    Request req{bhttp::verb::post, target, 11};
    req.set(http::Field::content_type, "application/json");
    req.set("api-key", "sim-key");
    req.body() = std::move(body);
    return req;
  }

  template <class T>
  T run(std::function<Task<T>()> make) {
    return asio::co_spawn(io_, make(), asio::use_future).get();
  }

  json::object usage() {
    auto r = run<ClientResult<Response>>([&] {
      return pool_->fetch(origin_, Request{bhttp::verb::get, "/sim/usage", 11}, kHangBound);
    });
    EXPECT_TRUE(r.ok());
    return json::parse(r->body()).as_object();
  }

  std::unique_ptr<Simulator> sim_;
  std::unique_ptr<http::Server> server_;
  http::Url origin_;
  asio::io_context io_;
  std::thread client_thread_;
  std::unique_ptr<http::ClientPool> pool_;
};

TEST_F(SimulatorTest, TokenBudgetIsExactAcrossWorkerThreads) {
  start(settings(1'000'000), 3);
  const std::string body = R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":30000})";
  const auto prompt = *token_count_for_model("gpt-4o")->chat_prompt(body);
  const int expected = static_cast<int>(1'000'000 / (30'000 + prompt));
  constexpr int kRequests = 60;
  auto statuses = run<std::vector<unsigned>>([&]() -> Task<std::vector<unsigned>> {
    std::vector<std::promise<unsigned>> done(kRequests);
    for (int i = 0; i < kRequests; ++i) {
      asio::co_spawn(
          io_,
          [&, i]() -> Task<void> {
            auto r = co_await pool_->fetch(origin_, post(kPath, body), kHangBound);
            done[i].set_value(r.ok() ? r->result_int() : 0u);
          },
          asio::detached);
    }
    std::vector<unsigned> out;
    http::SteadyTimer timer(io_);
    for (auto& d : done) {
      auto f = d.get_future();
      while (f.wait_for(0s) != std::future_status::ready) {
        timer.expires_after(2ms);
        co_await timer.async_wait(http::kUseAwaitable);
      }
      out.push_back(f.get());
    }
    co_return out;
  });
  const int ok = static_cast<int>(std::count(statuses.begin(), statuses.end(), 200u));
  const int throttled = static_cast<int>(std::count(statuses.begin(), statuses.end(), 429u));
  EXPECT_EQ(ok, expected);
  EXPECT_EQ(throttled, kRequests - expected);
  auto u = usage();
  EXPECT_EQ(u["deployments"].at("chat").at("requests").as_int64(), expected);
  EXPECT_EQ(u["deployments"].at("chat").at("throttled").as_int64(), kRequests - expected);
}

TEST_F(SimulatorTest, DroppedStreamIsCutOnTheWireAndCountsWhatWasSent) {
  SimSettings s = settings(0);
  FaultSettings f;
  f.deployment = "chat";
  f.drop_stream_rate = 1.0;
  f.drop_after_tokens = 4;
  s.faults.push_back(f);
  start(s, 1);
  struct Seen {
    std::string body;
    bool done = false;
    bool failed = false;
  };
  Seen seen = run<Seen>([&]() -> Task<Seen> {
    Seen out;
    auto opened = co_await pool_->open(
        origin_, post(kPath, R"({"messages":[{"role":"user","content":"x"}],"stream":true})"),
        kHangBound);
    if (!opened) co_return out;
    auto& stream = **opened;
    while (!stream.done()) {
      auto piece = co_await stream.read_some(kHangBound);
      if (!piece) {
        out.failed = true;
        break;
      }
      out.body.append(piece->data(), piece->size());
    }
    out.done = stream.done() && !out.failed;
    co_return out;
  });
  EXPECT_TRUE(seen.failed) << seen.body;
  EXPECT_FALSE(seen.done);
  EXPECT_EQ(seen.body.find("[DONE]"), std::string::npos);
  std::size_t content_chunks = 0;
  for (std::size_t pos = 0;
       (pos = seen.body.find(R"("delta":{"content":")", pos)) != std::string::npos; ++pos) {
    if (seen.body.compare(pos, 22, R"("delta":{"content":"",)") != 0) ++content_chunks;
  }
  EXPECT_EQ(content_chunks, 4u);
  auto u = usage();
  EXPECT_EQ(u["deployments"].at("chat").at("completion_tokens").as_int64(), 4);
  EXPECT_EQ(u["deployments"].at("chat").at("streams_cut").as_int64(), 1);
}

TEST_F(SimulatorTest, ManyPacedStreamsOnOneThreadAllFinishOnTheModel) {
  SimSettings s = settings(0);
  s.deployments[0].time_to_first_token = 200ms;
  s.deployments[0].tokens_per_second = 50;  // 20 ms apart
  start(s, 1);
  constexpr int kStreams = 300;
  auto durations = run<std::vector<double>>([&]() -> Task<std::vector<double>> {
    std::vector<std::promise<double>> done(kStreams);
    for (int i = 0; i < kStreams; ++i) {
      asio::co_spawn(
          io_,
          [&, i]() -> Task<void> {
            const auto begin = std::chrono::steady_clock::now();
            auto r = co_await pool_->fetch(
                origin_,
                post(
                    kPath,
                    R"({"messages":[{"role":"user","content":"x"}],"stream":true,"max_tokens":10})"),
                kHangBound);
            const double ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin)
                    .count();
            const bool complete = r.ok() && r->body().ends_with("data: [DONE]\n\n");
            done[i].set_value(complete ? ms : -1.0);
          },
          asio::detached);
    }
    std::vector<double> out;
    http::SteadyTimer timer(io_);
    for (auto& d : done) {
      auto f = d.get_future();
      while (f.wait_for(0s) != std::future_status::ready) {
        timer.expires_after(2ms);
        co_await timer.async_wait(http::kUseAwaitable);
      }
      out.push_back(f.get());
    }
    co_return out;
  });
  // Model: 200 ms + 9 gaps of 20 ms = 380 ms per stream, which no stream may beat (less a little
  // for timer rounding). That they run at once rather than one after another (114 s) is shown
  // without a clock by the next test.
  for (double d : durations) {
    ASSERT_GE(d, 370.0);
  }
}

// A stream waiting on its timing model must not hold the server's only thread: while one waits
// (for longer than the test could last), another request on the same thread is answered. Were
// pacing a blocking sleep, that request would hit its deadline.
TEST_F(SimulatorTest, APacedStreamDoesNotHoldTheThread) {
  SimSettings s = settings(0);
  DeploymentSettings held = default_deployment("held", "gpt-4o");
  held.tokens_per_minute = 0;
  held.time_to_first_token = 10min;
  held.jitter = 0;
  s.deployments.push_back(held);
  start(s, 1);

  asio::io_context io;
  http::TcpSocket waiting(io);
  waiting.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  const std::string body = R"({"messages":[{"role":"user","content":"x"}],"stream":true})";
  const std::string request =
      "POST /openai/deployments/held/chat/completions?api-version=2024-10-21 HTTP/1.1\r\n"
      "Host: x\r\napi-key: sim-key\r\ncontent-type: application/json\r\ncontent-length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  asio::write(waiting, asio::buffer(request));
  ASSERT_TRUE(
      core::testing::eventually([&] { return server_->stats().requests_in_flight.load() == 1; }));

  auto r = run<ClientResult<Response>>([&] {
    return pool_->fetch(origin_, post(kPath, R"({"messages":[{"role":"user","content":"x"}]})"),
                        kHangBound);
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result_int(), 200u);
  // Once the answered request has left, the held stream is still there, waiting.
  EXPECT_TRUE(
      core::testing::eventually([&] { return server_->stats().requests_in_flight.load() == 1; }));
  waiting.close();
}

}  // namespace
}  // namespace sluice::sim
