#include "tokenizer/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::tokenizer {
namespace {

TEST(Base64, AppendsWhatEachGroupEncodesWithAndWithoutPadding) {
  std::string out = "x";
  ASSERT_TRUE(decode_base64("YWJj", out));      // no padding
  ASSERT_TRUE(decode_base64("aGVsbG8=", out));  // one '='
  ASSERT_TRUE(decode_base64("aGk=", out));
  ASSERT_TRUE(decode_base64("IQ==", out));  // two '='
  ASSERT_TRUE(decode_base64("", out));
  EXPECT_EQ(out, "xabchellohi!");
  std::string bytes;
  ASSERT_TRUE(decode_base64("AP8=", bytes));
  EXPECT_EQ(bytes, std::string("\x00\xff", 2));
}

TEST(Base64, RefusesMalformedInputAndLeavesTheOutputAsItWas) {
  for (const char* bad : {"abc", "a===", "ab=c", "YW=j", "aGk=YWJj", "YW*j"}) {
    std::string out = "kept";
    EXPECT_FALSE(decode_base64(bad, out)) << bad;
    EXPECT_EQ(out, "kept") << bad;
  }
}

}  // namespace
}  // namespace sluice::tokenizer
