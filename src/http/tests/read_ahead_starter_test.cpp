// ReadAheadStarter on a loopback connection: an exchange over before its delay makes no read; one
// that outlasts it gets its read, and a hang-up then fires the exchange's cancellation; the
// exchanges waiting keep their order when one leaves early, a burst larger than one turn's starts
// is started whole, and one destroyed while waiting leaves the list by itself. Nothing here
// measures a duration: a wait ends when its event comes, and only a broken starter would reach
// the bound on it.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "core/tests/eventually.hpp"
#include "http/read_ahead.hpp"
#include "http/read_ahead_starter.hpp"

namespace sluice::http {
namespace {

using namespace std::chrono_literals;
// Bounds a wait only a broken starter reaches (a loop that never gets the event it waits for).
using core::testing::kHangBound;

// A connected pair of sockets on one event loop: `server` is the side a session reads.
struct Connection {
  explicit Connection(asio::io_context& io) : server(io), client(io) {
    TcpAcceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
  TcpSocket server;
  TcpSocket client;
  beast::flat_buffer buffer;
};

// One connection's read-ahead and a starter, on a loop the test runs by hand.
class ReadAheadStarterTest : public ::testing::Test {
 protected:
  // Runs the loop a handler at a time until `done()`.
  template <class Done>
  void run_until(Done done) {
    while (!done()) ASSERT_EQ(io.run_one_for(kHangBound), 1u) << "the loop ran out of work";
  }
  // An exchange begins and its read-ahead waits in the starter.
  void begin(ReadAhead& read_ahead) {
    read_ahead.begin_exchange();
    starter.start_later(read_ahead, ReadAheadStarter::Clock::now());
  }

  asio::io_context io;
  Connection connection{io};
  ReadAhead read_ahead{connection.server, connection.buffer};
  ReadAheadStarter starter{io.get_executor(), 1ms};
};

TEST_F(ReadAheadStarterTest, AnExchangeOverBeforeTheDelayMakesNoRead) {
  begin(read_ahead);
  read_ahead.stop_watching();  // the exchange ended at once
  io.run_for(kHangBound);      // the starter's timer fires and finds nobody waiting

  EXPECT_FALSE(read_ahead.pending());
  EXPECT_FALSE(read_ahead.is_linked());
}

TEST_F(ReadAheadStarterTest, AnExchangeThatOutlastsTheDelayIsWatchedForAHangUp) {
  // What the exchange waits on (an upstream, say), cancelled by the client's hang-up.
  SteadyTimer upstream(io, std::chrono::hours(1));
  std::optional<error_code> upstream_result;
  begin(read_ahead);
  upstream.async_wait(asio::bind_cancellation_slot(read_ahead.slot(),
                                                   [&](error_code ec) { upstream_result = ec; }));

  run_until([&] { return read_ahead.pending(); });  // the starter starts the read
  EXPECT_FALSE(read_ahead.is_linked());
  connection.client.close();
  run_until([&] { return upstream_result.has_value(); });

  EXPECT_EQ(*upstream_result, asio::error::operation_aborted);
  EXPECT_TRUE(read_ahead.gone());
  EXPECT_FALSE(read_ahead.pending());
}

TEST_F(ReadAheadStarterTest, TheReadStartedLateTakesTheNextRequest) {
  begin(read_ahead);
  run_until([&] { return read_ahead.pending(); });
  read_ahead.stop_watching();  // the exchange ends; its read stays pending for the next request
  asio::write(connection.client, asio::buffer(std::string_view("GET / HTTP/1.1\r\n\r\n")));
  run_until([&] { return !read_ahead.pending(); });

  EXPECT_FALSE(read_ahead.gone());
  EXPECT_EQ(beast::buffers_to_string(connection.buffer.data()), "GET / HTTP/1.1\r\n\r\n");
}

TEST_F(ReadAheadStarterTest, ExchangesStillWaitingAreStartedWhenAnEarlierOneLeaves) {
  Connection second(io);
  ReadAhead second_read(second.server, second.buffer);
  begin(read_ahead);
  begin(second_read);
  read_ahead.stop_watching();  // the oldest leaves; the timer was set for it

  run_until([&] { return second_read.pending(); });
  EXPECT_FALSE(read_ahead.pending());

  second.server.cancel();  // the pending read ends when its socket does
  run_until([&] { return !second_read.pending(); });
}

// More exchanges due together than the starter starts in one go (a burst of new streams): every
// one is started, the rest in later turns of the loop.
TEST_F(ReadAheadStarterTest, ABurstLargerThanOneTurnIsStartedWhole) {
  constexpr int kExchanges = 150;
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<std::unique_ptr<ReadAhead>> reads;
  for (int i = 0; i < kExchanges; ++i) {
    auto& c = *connections.emplace_back(std::make_unique<Connection>(io));
    begin(*reads.emplace_back(std::make_unique<ReadAhead>(c.server, c.buffer)));
  }
  auto pending = [&] {
    return std::count_if(reads.begin(), reads.end(), [](auto& r) { return r->pending(); });
  };
  run_until([&] { return pending() == kExchanges; });

  for (auto& c : connections) c->server.cancel();
  run_until([&] { return pending() == 0; });
}

TEST_F(ReadAheadStarterTest, AReadAheadDestroyedWhileWaitingLeavesTheList) {
  {
    ReadAhead gone_with_its_session(connection.server, connection.buffer);
    begin(gone_with_its_session);
  }  // its session ended while it waited
  begin(read_ahead);
  run_until([&] { return read_ahead.pending(); });  // only the live one is started

  connection.server.cancel();
  run_until([&] { return !read_ahead.pending(); });
}

}  // namespace
}  // namespace sluice::http
