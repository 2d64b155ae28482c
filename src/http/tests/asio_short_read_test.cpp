// sluice's copy of Asio's stream receive operation (sluice/http/asio_short_read.hpp): a read short
// of its buffer reports the socket drained, so the reactor waits for epoll before the next read
// instead of trying a recv() that fails. Asio's own copy answers `done` to a short read, which
// fails the first two tests: they also fail if this file compiled Asio's header and not sluice's.
#include "sluice/http/asio.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
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

}  // namespace
}  // namespace sluice::http
