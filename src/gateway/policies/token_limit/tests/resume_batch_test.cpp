#include "gateway/policies/token_limit/resume_batch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace sluice::gateway::token_limit {
namespace {

namespace asio = http::asio;

// Resumptions for two workers gathered on another thread: each worker gets one handler that runs
// its resumptions in the order they were added.
TEST(ResumeBatchTest, PostsOncePerExecutorInTheOrderAdded) {
  asio::io_context first;
  asio::io_context second;
  std::string order;
  std::thread pool_thread([&] {
    auto& batch = ResumeBatch::of_this_thread();
    batch.add(first.get_executor(), [&] { order += "a1 "; });
    batch.add(second.get_executor(), [&] { order += "b1 "; });
    batch.add(first.get_executor(), [&] { order += "a2 "; });
    batch.add(first.get_executor(), [&] { order += "a3 "; });
    batch.flush();
    batch.flush();  // nothing left: posts nothing
  });
  pool_thread.join();
  EXPECT_EQ(first.run(), 1u);  // handlers run: one for the three resumptions
  EXPECT_EQ(order, "a1 a2 a3 ");
  EXPECT_EQ(second.run(), 1u);
  EXPECT_EQ(order, "a1 a2 a3 b1 ");
}

}  // namespace
}  // namespace sluice::gateway::token_limit
