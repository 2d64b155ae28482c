// sluice's copy of Asio's stream receive operation (sluice/http/asio_short_read.hpp): a read short
// of its buffer reports the socket drained, so the reactor waits for epoll before the next read
// instead of trying a recv() that fails. Asio's own copy answers `done` to a short read, which
// fails the first two tests: they also fail if this file compiled Asio's header and not sluice's.
// And sluice's copy of Asio's epoll reactor (src/http/asio_epoll_reactor.ipp), which acts on it:
// the io_context tests below read through it, and the first of them never ends (its run is
// bounded, so it fails) on a reactor that marks every short read drained.
#include "sluice/http/asio.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace sluice::http {
namespace {

namespace detail = boost::asio::detail;
using Status = detail::reactor_op::status;

// A connected pair of stream sockets, the first non-blocking as Asio's are.
class SocketPair : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    ASSERT_EQ(::fcntl(fds_[0], F_SETFL, ::fcntl(fds_[0], F_GETFL) | O_NONBLOCK), 0);
  }
  void TearDown() override {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  void send(std::string_view bytes) {
    ASSERT_EQ(::write(fds_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  void close_peer() {
    ::close(fds_[1]);
    fds_[1] = -1;
  }
  // One receive as the reactor performs it, into `buffers`.
  template <class Buffers>
  Status receive(const Buffers& buffers, std::size_t& received) {
    detail::reactive_socket_recv_op_base<Buffers> op(
        error_code(), fds_[0], detail::socket_ops::stream_oriented, buffers, 0, nullptr);
    const Status status = op.perform();
    received = op.bytes_transferred_;
    return status;
  }
  int fds_[2] = {-1, -1};
};

TEST_F(SocketPair, AReadShortOfItsBufferReportsTheSocketDrained) {
  std::array<char, 64> buffer{};
  send("data: {}\n\n");
  std::size_t received = 0;
  EXPECT_EQ(receive(asio::buffer(buffer), received), Status::done_and_exhausted);
  EXPECT_EQ(received, 10u);
}

TEST_F(SocketPair, AShortReadIntoSeveralBuffersReportsTheSocketDrained) {
  std::array<char, 16> first{};
  std::array<char, 16> second{};
  const std::array<asio::mutable_buffer, 2> buffers{asio::buffer(first), asio::buffer(second)};
  send("twenty bytes, no more");
  std::size_t received = 0;
  EXPECT_EQ(receive(buffers, received), Status::done_and_exhausted);
  EXPECT_EQ(received, 21u);
}

TEST_F(SocketPair, AReadThatFillsItsBufferMayHaveLeftMore) {
  std::array<char, 8> buffer{};
  send("more than eight bytes");
  std::size_t received = 0;
  EXPECT_EQ(receive(asio::buffer(buffer), received), Status::done);
  EXPECT_EQ(received, 8u);
  // What was left is read next, and that read is short.
  EXPECT_EQ(receive(asio::buffer(buffer), received), Status::done);
  EXPECT_EQ(receive(asio::buffer(buffer), received), Status::done_and_exhausted);
  EXPECT_EQ(received, 5u);
}

TEST_F(SocketPair, NothingToReadIsNotDoneAndTheEndOfTheStreamIsDrained) {
  std::array<char, 64> buffer{};
  std::size_t received = 0;
  EXPECT_EQ(receive(asio::buffer(buffer), received), Status::not_done);
  close_peer();
  EXPECT_EQ(receive(asio::buffer(buffer), received), Status::done_and_exhausted);
  EXPECT_EQ(received, 0u);
}

// Reads a stream socket through an io_context until the end of the stream or an error, as a
// server reads a client: each read starts when the previous one completes.
class StreamReader {
 public:
  explicit StreamReader(asio::local::stream_protocol::socket& socket) : socket_(socket) {}
  void start() {
    socket_.async_read_some(asio::buffer(buffer_), [this](error_code error, std::size_t size) {
      if (error) {
        ended_by_ = error;
        return;
      }
      received_.append(buffer_.data(), size);
      if (on_read_) on_read_();
      start();
    });
  }
  const std::string& received() const { return received_; }
  error_code ended_by() const { return ended_by_; }
  void on_read(std::function<void()> action) { on_read_ = std::move(action); }

 private:
  asio::local::stream_protocol::socket& socket_;
  std::array<char, 64> buffer_{};
  std::string received_;
  error_code ended_by_;
  std::function<void()> on_read_;
};

// Every run is bounded: a read that waits for an edge that never comes shows as a stream that
// did not end, not as a test that hangs.
constexpr auto kRunBound = std::chrono::seconds(10);

// A socket connected to its peer, both on one io_context, and a reader of the socket.
class AsioReactor : public ::testing::Test {
 protected:
  void SetUp() override { asio::local::connect_pair(socket, peer); }
  // Runs the io_context (bounded) and returns what the reader read, which ended at end of stream.
  std::string run_to_the_end() {
    io.run_for(kRunBound);
    EXPECT_EQ(reader.ended_by(), asio::error::eof);
    return reader.received();
  }
  asio::io_context io;
  asio::local::stream_protocol::socket socket{io};
  asio::local::stream_protocol::socket peer{io};
  StreamReader reader{socket};
};

TEST_F(AsioReactor, IsSluicesCopy) {
  EXPECT_TRUE(asio_reactor_watches_peer_fin());
}

TEST_F(AsioReactor, ThePeersLastDataAndItsEndInOneEventEndTheStream) {
  reader.start();  // nothing has come: the read waits for epoll
  // Both come before the reactor next asks epoll, so one event reports them: the read that it
  // starts returns the data short, and only the read after it can see the end.
  asio::write(peer, asio::buffer(std::string_view("last words")));
  peer.shutdown(asio::socket_base::shutdown_send);
  EXPECT_EQ(run_to_the_end(), "last words");
}

TEST_F(AsioReactor, DataAndTheEndThatComeAfterADrainedReadAreRead) {
  // Each piece goes out after the previous one was read short (the socket marked drained) and the
  // next read started: only a new epoll event can bring it in.
  const std::array<std::string_view, 3> pieces{"first ", "second ", "third"};
  std::size_t sent = 0;
  auto send_next = [&] {
    asio::post(io, [&] {
      if (sent < pieces.size()) {
        asio::write(peer, asio::buffer(pieces[sent++]));
      } else {
        peer.shutdown(asio::socket_base::shutdown_send);
      }
    });
  };
  reader.on_read(send_next);
  reader.start();
  send_next();
  EXPECT_EQ(run_to_the_end(), "first second third");
}

TEST_F(AsioReactor, MoreThanABufferIsReadInFullAcrossReads) {
  reader.start();
  const std::string body(1000, 'x');  // 64-byte reads: full ones, then a short one
  asio::write(peer, asio::buffer(body));
  asio::post(io, [&] { peer.shutdown(asio::socket_base::shutdown_send); });
  EXPECT_EQ(run_to_the_end(), body);
}

}  // namespace
}  // namespace sluice::http
