#include "sluice/core/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace sluice::core {
namespace {

Result<int> parse_port(std::string_view text) {
  if (text.empty()) return Error{ErrorCode::kInvalidArgument, "empty port"};
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Error{ErrorCode::kInvalidArgument, "not a number"};
    port = port * 10 + (c - '0');
  }
  return port;
}

TEST(Result, HoldsValue) {
  auto port = parse_port("8080");
  ASSERT_TRUE(port.ok());
  EXPECT_TRUE(static_cast<bool>(port));
  EXPECT_EQ(*port, 8080);
  EXPECT_EQ(port.value(), 8080);
  EXPECT_EQ(port.value_or(1), 8080);
}

TEST(Result, HoldsError) {
  auto port = parse_port("80a");
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(port.error().message, "not a number");
  EXPECT_EQ(port.value_or(1), 1);
}

TEST(Result, MoveOnlyValue) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(7);
  ASSERT_TRUE(result.ok());
  std::unique_ptr<int> owned = std::move(result).value();
  EXPECT_EQ(*owned, 7);
}

TEST(Result, ArrowReachesMembers) {
  Result<std::string> text = std::string("hello");
  EXPECT_EQ(text->size(), 5u);
}

TEST(Result, VoidSuccessAndFailure) {
  Result<void> fine;
  EXPECT_TRUE(fine.ok());
  Result<void> failed = Error{ErrorCode::kUnavailable, "backend down"};
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
}

TEST(Result, CodeNames) {
  EXPECT_EQ(to_string(ErrorCode::kResourceExhausted), "resource_exhausted");
  EXPECT_EQ(to_string(ErrorCode::kDeadlineExceeded), "deadline_exceeded");
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  auto port = parse_port("");
  EXPECT_DEATH((void)port.value(), "empty port");
}

TEST(ResultDeathTest, ErrorOfValueAborts) {
  auto port = parse_port("1");
  EXPECT_DEATH((void)port.error(), "holds a value");
}

}  // namespace
}  // namespace sluice::core
