// Server and client together on loopback: keep-alive reuse, streaming both ways, limits and
// timeouts answered in OpenAI error JSON, client disconnects noticed by the handler.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <future>
#include <thread>

#include "core/tests/eventually.hpp"
#include "sluice/http/client.hpp"
#include "sluice/http/server.hpp"
#include "sluice/http/sse_parser.hpp"
#include "usage/tests/test_dir.hpp"

namespace sluice::http {
namespace {

using namespace std::chrono_literals;

struct Observed {
  std::atomic<int> hanging{0};  // /hang handlers that started waiting
  std::atomic<int> disconnects{0};
};

// Deadlines that only a hung test reaches: a slow or busy machine never does.
using core::testing::kHangBound;

Handler test_handler(Observed& observed) {
  return [&observed](Exchange& ex) -> Task<void> {
    auto& req = ex.request();
    if (req.target() == "/echo") {
      Response res{Status::ok, 11};
      res.set(Field::content_type, "text/plain");
      res.body() = req.body();
      co_await ex.send(std::move(res));
    } else if (req.target() == "/echo-chunked") {
      // Sent with chunked framing, which goes through Beast's serializer.
      Response res{Status::ok, 11};
      res.set(Field::content_type, "text/plain");
      res.body() = req.body();
      res.chunked(true);
      co_await ex.send(std::move(res));
    } else if (req.target() == "/extra-fields" || req.target() == "/extra-fields-chunked") {
      // Answers with the request's x-extra-* fields, one "name=value" line each, and adds one of
      // its own as an extra field (in the fields of a chunked answer, which Beast writes).
      Response res{Status::ok, 11};
      for (const auto& field : req) {
        if (field.name_string().starts_with("x-extra-")) {
          res.body() += std::string(field.name_string()) + "=" + std::string(field.value()) + "\n";
        }
      }
      if (req.target() == "/extra-fields-chunked") res.chunked(true);
      ExtraFields extra;
      extra.add("x-extra-reply", "yes");
      co_await ex.send(std::move(res), extra);
    } else if (req.target() == "/stream") {
      ResponseHeader header;
      header.result(Status::ok);
      header.set(Field::content_type, "text/event-stream");
      co_await ex.start_stream(std::move(header));
      SteadyTimer timer(ex.executor());
      for (int i = 0; i < 5; ++i) {
        timer.expires_after(5ms);
        co_await timer.async_wait(kUseTuple);
        if (!co_await ex.write("data: " + std::to_string(i) + "\n\n")) co_return;
      }
      co_await ex.finish_stream();
    } else if (req.target() == "/stall") {
      // One event, then nothing until the client goes away.
      ResponseHeader header;
      header.result(Status::ok);
      header.set(Field::content_type, "text/event-stream");
      co_await ex.start_stream(std::move(header));
      co_await ex.write("data: first\n\n");
      SteadyTimer timer(ex.executor(), 2 * kHangBound);
      co_await timer.async_wait(asio::bind_cancellation_slot(ex.client_gone_slot(), kUseTuple));
    } else if (req.target() == "/hang") {
      // Waits for longer than the test could unless the client goes away.
      SteadyTimer timer(ex.executor(), 2 * kHangBound);
      observed.hanging++;
      auto [ec] =
          co_await timer.async_wait(asio::bind_cancellation_slot(ex.client_gone_slot(), kUseTuple));
      if (ec == asio::error::operation_aborted && ex.client_gone()) observed.disconnects++;
      co_await ex.send(Response{Status::ok, 11});
    } else {
      co_await ex.send(openai_error_response(Status::not_found, "not_found", "no such route", 11));
    }
  };
}

class ServerClientTest : public ::testing::Test {
 protected:
  // The server's read timeouts. Long here, so a request the client sends at once is never cut by
  // a busy machine; SlowClientTest makes them short, as slowness is then what it tests.
  virtual std::chrono::milliseconds read_timeout() const { return kHangBound; }

  virtual std::size_t max_body_bytes() const { return 1024; }

  void SetUp() override {
    ServerSettings settings;
    settings.threads = 2;
    settings.max_body_bytes = max_body_bytes();
    settings.max_header_bytes = 2048;
    settings.header_timeout = read_timeout();
    settings.body_timeout = read_timeout();
    server_ = std::make_unique<Server>(settings, test_handler(observed_));
    server_->start();
    origin_ = *parse_url("http://127.0.0.1:" + std::to_string(server_->port()));
    client_thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(io_);
      io_.run();
    });
    pool_ = std::make_unique<ClientPool>(io_.get_executor(), ClientSettings{});
  }
  void TearDown() override {
    asio::post(io_, [this] { pool_.reset(); });
    io_.stop();
    client_thread_.join();
    server_->shutdown(1s);
    server_->join();
  }

  // Runs one coroutine on the client loop and waits for its result.
  template <class T>
  T run_task(std::function<Task<T>()> make) {
    auto future = asio::co_spawn(io_, make(), asio::use_future);
    return future.get();
  }

  Request post(std::string target, std::string body) {
    Request req{bhttp::verb::post, target, 11};
    req.set(Field::content_type, "application/json");
    req.body() = std::move(body);
    return req;
  }

  // Opens GET /stream and returns its events' data, read piece by piece as they arrive.
  std::vector<std::string> stream_events() {
    return run_task<std::vector<std::string>>([&]() -> Task<std::vector<std::string>> {
      std::vector<std::string> seen;
      Request req{bhttp::verb::get, "/stream", 11};
      auto opened = co_await pool_->open(origin_, std::move(req), kHangBound);
      if (!opened) co_return seen;
      auto& stream = **opened;
      EXPECT_EQ(stream.status(), 200u);
      SseParser parser;
      std::vector<SseEvent> out;
      while (!stream.done()) {
        auto piece = co_await stream.read_some(kHangBound);
        if (!piece) break;
        parser.feed(*piece, out);
        // Each event is readable before the next is produced: nothing is batched up.
        for (auto& e : out) seen.push_back(e.data);
        out.clear();
      }
      co_return seen;
    });
  }

  // Sends raw bytes on a fresh socket and returns everything the server answers until it closes.
  std::string raw_exchange(const std::string& bytes) {
    asio::io_context io;
    TcpSocket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    asio::write(socket, asio::buffer(bytes));
    std::string out;
    error_code ec;
    for (;;) {
      char buf[4096];
      auto n = socket.read_some(asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }

  Observed observed_;
  std::unique_ptr<Server> server_;
  Url origin_;
  asio::io_context io_;
  std::thread client_thread_;
  std::unique_ptr<ClientPool> pool_;
};

TEST_F(ServerClientTest, FetchReusesKeepAliveConnections) {
  for (int i = 0; i < 5; ++i) {
    auto result = run_task<ClientResult<Response>>([&] {
      return pool_->fetch(origin_, post("/echo", "hello " + std::to_string(i)), kHangBound);
    });
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->result_int(), 200u);
    EXPECT_EQ(result->body(), "hello " + std::to_string(i));
  }
  EXPECT_EQ(pool_->connections_opened(), 1u);
}

// Two origins asked in turn keep a connection each: the pool's memory of the origin it last
// served never hands one origin's connection to the other (the second server answers in its own
// words, so a request that went to the wrong one shows).
TEST_F(ServerClientTest, OriginsInTurnEachReuseTheirOwnConnection) {
  ServerSettings settings;
  settings.threads = 1;
  Server second(settings, [](Exchange& ex) -> Task<void> {
    Response res{Status::ok, 11};
    res.body() = "second: " + ex.request().body();
    co_await ex.send(std::move(res));
  });
  second.start();
  const Url other = *parse_url("http://127.0.0.1:" + std::to_string(second.port()));
  for (int i = 0; i < 6; ++i) {
    const bool first = i % 2 == 0;
    auto result = run_task<ClientResult<Response>>([&] {
      return pool_->fetch(first ? origin_ : other, post("/echo", "turn " + std::to_string(i)),
                          kHangBound);
    });
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->body(), (first ? "" : "second: ") + std::string("turn ") + std::to_string(i));
  }
  EXPECT_EQ(pool_->connections_opened(), 2u);
  EXPECT_EQ(pool_->idle_connections(), 2u);
  asio::post(io_, [this] { pool_->close(); });  // before the second server goes
  second.shutdown(1s);
  second.join();
}

// Extra fields go out after a message's own, on requests (whole, chunked, opened as a stream) and
// on responses (whole and chunked), and arrive as fields like any other.
TEST_F(ServerClientTest, ExtraFieldsArriveAsFields) {
  ExtraFields extra;
  extra.add("x-extra-a", "1");
  extra.add("x-extra-b", "two");
  const std::string expected = "x-extra-a=1\nx-extra-b=two\n";
  for (const char* target : {"/extra-fields", "/extra-fields-chunked"}) {
    for (bool chunked_request : {false, true}) {
      auto result = run_task<ClientResult<Response>>([&] {
        Request req = post(target, "{}");
        req.set("x-extra-own", "0");
        if (chunked_request) req.chunked(true);
        return pool_->fetch(origin_, std::move(req), kHangBound, {}, nullptr, extra);
      });
      ASSERT_TRUE(result.ok()) << result.error().message;
      EXPECT_EQ(result->body(), "x-extra-own=0\n" + expected) << target << chunked_request;
      EXPECT_EQ((*result)["x-extra-reply"], "yes") << target << chunked_request;
    }
  }
  auto opened_body = run_task<std::string>([&]() -> Task<std::string> {
    auto opened =
        co_await pool_->open(origin_, post("/extra-fields", "{}"), kHangBound, {}, nullptr, extra);
    if (!opened) co_return "open failed: " + opened.error().message;
    std::string body;
    while (!(*opened)->done()) {
      auto piece = co_await (*opened)->read_some(kHangBound);
      if (!piece) co_return "read failed";
      body += *piece;
    }
    co_return body;
  });
  EXPECT_EQ(opened_body, expected);
}

TEST(ExtraFields, MoreThanTheCapacityIsAnError) {
  ExtraFields extra;
  for (std::size_t i = 0; i < ExtraFields::kCapacity; ++i) extra.add("x-a", "1");
  EXPECT_EQ(extra.size(), ExtraFields::kCapacity);
  EXPECT_THROW(extra.add("x-a", "1"), std::length_error);
}

// close(): the idle connection goes at once, and one released afterwards is closed, not pooled
// (a gateway closes its pools before its listeners' event loops go, ~Gateway). The pool still
// works: a request after close() opens a connection of its own.
TEST_F(ServerClientTest, AClosedPoolKeepsNoConnection) {
  auto fetch = [&] {
    return run_task<ClientResult<Response>>(
        [&] { return pool_->fetch(origin_, post("/echo", "x"), kHangBound); });
  };
  ASSERT_TRUE(fetch().ok());
  EXPECT_EQ(pool_->idle_connections(), 1u);
  run_task<int>([&]() -> Task<int> {
    pool_->close();
    co_return 0;
  });
  EXPECT_EQ(pool_->idle_connections(), 0u);
  auto after = fetch();
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->body(), "x");
  EXPECT_EQ(pool_->connections_opened(), 2u);
  EXPECT_EQ(pool_->idle_connections(), 0u);
}

TEST_F(ServerClientTest, StreamsArriveEventByEvent) {
  EXPECT_EQ(stream_events(), (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  // The finished stream's connection went back to the pool.
  auto again = run_task<ClientResult<Response>>(
      [&] { return pool_->fetch(origin_, post("/echo", "x"), kHangBound); });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(pool_->connections_opened(), 1u);
}

// A connection's stream buffer is made when it first streams and kept: a second and third stream
// on the same pooled connection (with a whole response between) read into it whole.
TEST_F(ServerClientTest, StreamsInTurnOnOneConnectionEachArriveWhole) {
  const std::vector<std::string> expected{"0", "1", "2", "3", "4"};
  auto fetched = run_task<ClientResult<Response>>(
      [&] { return pool_->fetch(origin_, post("/echo", "before"), kHangBound); });
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(stream_events(), expected);
  EXPECT_EQ(stream_events(), expected);
  auto between = run_task<ClientResult<Response>>(
      [&] { return pool_->fetch(origin_, post("/echo", "between"), kHangBound); });
  ASSERT_TRUE(between.ok());
  EXPECT_EQ(between->body(), "between");
  EXPECT_EQ(stream_events(), expected);
  EXPECT_EQ(pool_->connections_opened(), 1u);
}

TEST_F(ServerClientTest, OversizedBodyGets413InOpenAiJson) {
  auto result = run_task<ClientResult<Response>>(
      [&] { return pool_->fetch(origin_, post("/echo", std::string(5000, 'x')), kHangBound); });
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->result_int(), 413u);
  EXPECT_NE(result->body().find("\"code\":\"request_too_large\""), std::string::npos);
}

TEST_F(ServerClientTest, OversizedHeadersGet431) {
  std::string answer = raw_exchange(
      "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer;
  EXPECT_NE(answer.find("request_header_fields_too_large"), std::string::npos);
}

// The client sends part of a request and nothing more, so the read timeout must fire however
// fast or slow the machine is; the read below waits for the answer without a deadline of its own.
// Messages larger than a loopback socket's send buffer: the first non-blocking send takes only a
// part, and the rest is written asynchronously (send_rest in message_writer.hpp), on the client's
// request and on the server's response, after a head that may itself be cut anywhere.
class LargeMessageTest : public ServerClientTest {
 protected:
  std::size_t max_body_bytes() const override { return 32 * 1024 * 1024; }
};

std::string patterned(std::size_t size) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return text;
}

TEST_F(LargeMessageTest, ABodyLargerThanTheSendBufferArrivesWholeBothWays) {
  for (std::size_t size : {std::size_t{12} << 20, std::size_t{5} << 20}) {
    const std::string body = patterned(size);
    auto result = run_task<ClientResult<Response>>(
        [&] { return pool_->fetch(origin_, post("/echo", body), kHangBound); });
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->result_int(), 200u);
    ASSERT_EQ(result->body().size(), size);
    EXPECT_TRUE(result->body() == body);
  }
  EXPECT_EQ(pool_->connections_opened(), 1u);  // both went over one kept-alive connection
}

TEST_F(LargeMessageTest, AChunkedResponseIsFramedAndReadBack) {
  for (std::size_t size : {std::size_t{10}, std::size_t{6} << 20}) {
    const std::string body = patterned(size);
    auto result = run_task<ClientResult<Response>>(
        [&] { return pool_->fetch(origin_, post("/echo-chunked", body), kHangBound); });
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_TRUE(result->chunked());
    ASSERT_EQ(result->body().size(), size);
    EXPECT_TRUE(result->body() == body);
  }
}

class SlowClientTest : public ServerClientTest {
 protected:
  std::chrono::milliseconds read_timeout() const override { return 300ms; }
};

TEST_F(SlowClientTest, Gets408) {
  std::string answer =
      raw_exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  std::string partial_header = raw_exchange("GET /echo HTTP/1.1\r\nHost:");
  EXPECT_EQ(partial_header.rfind("HTTP/1.1 408", 0), 0u) << partial_header;
}

// After a quick exchange the connection waits on the (long) idle deadline; a body that then stalls
// must still get the short body deadline. The pause lets the first request's deadline fire while
// the connection is idle, so the body deadline is the earlier one when it is set.
TEST_F(SlowClientTest, KeepAliveConnectionStillTimesOutAStalledBody) {
  asio::io_context io;
  TcpSocket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  asio::write(socket, asio::buffer(std::string(
                          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst")));
  std::string out;
  error_code ec;
  char buf[4096];
  while (!ec && out.find("first") == std::string::npos) {
    out.append(buf, socket.read_some(asio::buffer(buf), ec));
  }
  ASSERT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  std::this_thread::sleep_for(2 * read_timeout());
  asio::write(
      socket,
      asio::buffer(std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")));
  out.clear();
  for (;;) {
    auto n = socket.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
}

// Requests that arrive together in one read are each parsed from the buffer and answered in order.
TEST_F(ServerClientTest, PipelinedRequestsAreAnsweredInOrder) {
  std::string answer = raw_exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwo"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthree");
  auto one = answer.find("one");
  auto two = answer.find("two");
  auto three = answer.find("three");
  ASSERT_NE(three, std::string::npos) << answer;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
  std::size_t responses = 0;
  for (auto at = answer.find("HTTP/1.1 200"); at != std::string::npos;
       at = answer.find("HTTP/1.1 200", at + 1)) {
    ++responses;
  }
  EXPECT_EQ(responses, 3u) << answer;
}

TEST_F(ServerClientTest, GarbageGets400AndServerKeepsServing) {
  std::string answer = raw_exchange(std::string("\x01\x02\xff garbage \r\n\r\n", 16));
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  // As OpenAI and Azure answer what they cannot parse, and as the gateway answers malformed JSON.
  EXPECT_NE(answer.find(R"("type":"invalid_request_error","param":null,"code":null)"),
            std::string::npos)
      << answer;
  auto result = run_task<ClientResult<Response>>(
      [&] { return pool_->fetch(origin_, post("/echo", "ok"), kHangBound); });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->body(), "ok");
}

TEST_F(ServerClientTest, Http10StreamEndsWithConnectionClose) {
  std::string answer = raw_exchange("GET /stream HTTP/1.0\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.0 200", 0), 0u) << answer;
  EXPECT_EQ(answer.find("chunked"), std::string::npos);
  EXPECT_NE(answer.find("data: 4\n\n"), std::string::npos);
}

TEST_F(ServerClientTest, HandlerSeesClientDisconnect) {
  {
    asio::io_context io;
    TcpSocket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    asio::write(socket, asio::buffer(std::string("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")));
    // Hang up only once the handler is waiting, whatever that takes.
    ASSERT_TRUE(core::testing::eventually([&] { return observed_.hanging.load() == 1; }));
  }  // socket closed here
  EXPECT_TRUE(core::testing::eventually([&] { return observed_.disconnects.load() == 1; }));
  EXPECT_EQ(observed_.disconnects.load(), 1);
}

// The client's deadlines: a response that does not come, and a stream that stops, end in a
// timeout error (not a hang, not a "closed"), and the connection is not reused.
TEST_F(ServerClientTest, ClientTimesOutAWholeResponseAndAStalledStream) {
  auto whole = run_task<ClientResult<Response>>([&] {
    return pool_->fetch(origin_, Request{bhttp::verb::get, "/hang", 11}, 200ms);
  });
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.error().kind, ClientErrorKind::kTimeout) << whole.error().message;

  auto kinds = run_task<std::pair<std::string, ClientErrorKind>>(
      [&]() -> Task<std::pair<std::string, ClientErrorKind>> {
        auto opened =
            co_await pool_->open(origin_, Request{bhttp::verb::get, "/stall", 11}, kHangBound);
        if (!opened) co_return std::pair{opened.error().message, opened.error().kind};
        std::string got;
        for (;;) {
          auto piece = co_await (*opened)->read_some(200ms);
          if (!piece) co_return std::pair{got, piece.error().kind};
          got.append(*piece);
        }
      });
  EXPECT_EQ(kinds.first, "data: first\n\n");
  EXPECT_EQ(kinds.second, ClientErrorKind::kTimeout);
  EXPECT_EQ(pool_->idle_connections(), 0u);
}

// The gateway's pools leave an idle connection's read timer waiting (idle_timers_keep_waiting):
// a reused connection must still time out at its new, shorter deadline, and a connection given
// back with its timer still waiting is reused as any other.
TEST_F(ServerClientTest, APoolWhoseIdleTimersKeepWaitingStillTimesOutAReusedConnection) {
  ClientSettings settings;
  settings.idle_timers_keep_waiting = true;
  auto pool = std::make_unique<ClientPool>(io_.get_executor(), settings);
  // An hour: were the shorter deadline below not to replace the timer's wait, the test would
  // hang past ctest's limit instead of passing.
  constexpr auto kLong = std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) {
    auto echoed = run_task<ClientResult<Response>>(
        [&] { return pool->fetch(origin_, post("/echo", "warm " + std::to_string(i)), kLong); });
    ASSERT_TRUE(echoed.ok()) << echoed.error().message;
    EXPECT_EQ(echoed->body(), "warm " + std::to_string(i));
  }
  EXPECT_EQ(pool->connections_opened(), 1u);
  EXPECT_EQ(pool->idle_connections(), 1u);

  auto hung = run_task<ClientResult<Response>>([&] {
    return pool->fetch(origin_, Request{bhttp::verb::get, "/hang", 11}, 200ms);
  });
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.error().kind, ClientErrorKind::kTimeout) << hung.error().message;
  EXPECT_EQ(pool->connections_opened(), 1u);  // the timeout was on the reused connection
  EXPECT_EQ(pool->idle_connections(), 0u);
  // Destroyed on its event loop's thread, which its connections belong to, before the test ends.
  asio::post(io_, asio::use_future([&pool] { pool.reset(); })).get();
}

// A server destroyed while clients still hold keep-alive connections destroys the sessions
// suspended on them, and each session's bookkeeping must still be alive when it goes.
TEST(ServerLifetime, DestroyedWithKeepAliveConnectionsOpen) {
  Observed observed;
  for (int round = 0; round < 10; ++round) {
    ServerSettings settings;
    settings.threads = 2;
    auto server = std::make_unique<Server>(settings, test_handler(observed));
    server->start();
    asio::io_context io;
    std::vector<TcpSocket> clients;
    for (int i = 0; i < 4; ++i) {
      auto& socket = clients.emplace_back(io);
      socket.connect({asio::ip::make_address("127.0.0.1"), server->port()});
      asio::write(socket, asio::buffer(std::string(
                              "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")));
      std::string answer;
      char buf[1024];
      error_code ec;
      while (!ec && answer.find("\r\n\r\nok") == std::string::npos) {
        answer.append(buf, socket.read_some(asio::buffer(buf), ec));
      }
      ASSERT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
    }
    server.reset();  // the four sessions wait for their next request
  }
}

TEST_F(ServerClientTest, ConnectionRefusedIsAConnectError) {
  auto closed = *parse_url("http://127.0.0.1:1");
  auto result = run_task<ClientResult<Response>>(
      [&] { return pool_->fetch(closed, post("/echo", "x"), kHangBound); });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ClientErrorKind::kConnect);
  EXPECT_NE(result.error().message.find("nothing is listening on 127.0.0.1:1"), std::string::npos)
      << result.error().message;
}

// The real client with an https:// URL against this real plain-HTTP server: instead of OpenSSL's
// "wrong version number", the user learns the server speaks plain HTTP and which URL to use.
TEST_F(ServerClientTest, AnHttpsUrlOnAPlainHttpPortSuggestsHttp) {
  const std::string host_port = "127.0.0.1:" + std::to_string(server_->port());
  auto https = *parse_url("https://" + host_port);
  auto result = run_task<ClientResult<Response>>(
      [&] { return pool_->fetch(https, post("/echo", "x"), kHangBound); });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ClientErrorKind::kConnect);
  EXPECT_NE(result.error().message.find("TLS handshake with https://" + host_port +
                                        " failed: the "
                                        "server answered in plain HTTP, not TLS; use http://" +
                                        host_port),
            std::string::npos)
      << result.error().message;
}

}  // namespace
}  // namespace sluice::http

namespace sluice::http {
namespace {

// TLS on both sides: a server with a certificate, a client that verifies it against a CA file.
TEST(Tls, ServerAndClientTalkHttpsAndVerifyThePeer) {
  usage::testing::TempDir tls_dir;  // removed with the key and certificate when the test ends
  const std::string dir = tls_dir.path().string();
  std::string command =
      std::string("openssl req -x509 -newkey rsa:2048 -nodes -days 1 ") +
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " + dir +
      "/key.pem -out " + dir + "/cert.pem 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make a test certificate";

  ServerSettings settings;
  settings.tls = TlsServerSettings{dir + "/cert.pem", dir + "/key.pem"};
  Server server(settings, [](Exchange& ex) -> Task<void> {
    Response res{Status::ok, 11};
    res.body() = "secure " + ex.request().body();
    co_await ex.send(std::move(res));
  });
  server.start();

  asio::io_context io;
  auto run = [&](ClientSettings client_settings, std::string host) {
    ClientPool pool(io.get_executor(), client_settings);
    auto origin = *parse_url("https://" + host + ":" + std::to_string(server.port()));
    Request req{bhttp::verb::post, "/", 11};
    req.body() = "hello";
    auto future =
        asio::co_spawn(io, pool.fetch(origin, std::move(req), kHangBound), asio::use_future);
    io.restart();
    io.run();
    return future.get();
  };

  ClientSettings trusting;
  trusting.tls.ca_file = dir + "/cert.pem";
  auto ok = run(trusting, "localhost");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->body(), "secure hello");

  // Without the CA the same server is refused: verification is on by default.
  auto refused = run(ClientSettings{}, "localhost");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ClientErrorKind::kConnect);
  EXPECT_NE(refused.error().message.find("the certificate of 'localhost' is self-signed"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("--ca-file"), std::string::npos);

  // A trusted certificate for another name: the message says the name is wrong, not the CA.
  ClientSettings other_name = trusting;
  other_name.resolve_overrides["other.example:" + std::to_string(server.port())] = "127.0.0.1";
  auto mismatch = run(other_name, "other.example");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("certificate is not issued for 'other.example'"),
            std::string::npos)
      << mismatch.error().message;

  // The other way round: http:// to this TLS server, which drops the plain request unanswered.
  {
    const std::string host_port = "127.0.0.1:" + std::to_string(server.port());
    ClientPool pool(io.get_executor(), trusting);
    // fetch keeps a reference to the origin until it completes, so it lives in this scope.
    const auto origin = *parse_url("http://" + host_port);
    auto future = asio::co_spawn(
        io, pool.fetch(origin, Request{bhttp::verb::get, "/", 11}, kHangBound), asio::use_future);
    io.restart();
    io.run();
    auto plain = future.get();
    ASSERT_FALSE(plain.ok());
    EXPECT_NE(plain.error().message.find("use https://" + host_port), std::string::npos)
        << plain.error().message;
  }

  server.shutdown(std::chrono::milliseconds(500));
  server.join();
}

}  // namespace
}  // namespace sluice::http
