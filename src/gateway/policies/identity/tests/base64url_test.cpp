#include "gateway/policies/identity/base64url.hpp"

#include <gtest/gtest.h>

namespace sluice::gateway::identity {
namespace {

TEST(Base64Url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    auto encoded = encode_base64url(bytes);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    auto decoded = decode_base64url(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(i * 37 + 250));
  }
}

TEST(Base64Url, DecodesTheUrlAlphabet) {
  EXPECT_EQ(decode_base64url("-_8"), std::string("\xfb\xff", 2));
  EXPECT_EQ(decode_base64url("eyJhbGciOiJSUzI1NiJ9"), std::string(R"({"alg":"RS256"})"));
}

TEST(Base64Url, RefusesPaddingStandardAlphabetAndJunk) {
  EXPECT_FALSE(decode_base64url("YQ=="));
  EXPECT_FALSE(decode_base64url("+/8"));
  EXPECT_FALSE(decode_base64url("ab cd"));
  EXPECT_FALSE(decode_base64url(std::string_view("ab\0c", 4)));
}

TEST(Base64Url, RefusesImpossibleLengthsAndNonCanonicalBits) {
  EXPECT_FALSE(decode_base64url("A"));
  EXPECT_FALSE(decode_base64url("AAAAA"));
  EXPECT_TRUE(decode_base64url("QQ"));    // "A"
  EXPECT_FALSE(decode_base64url("QR"));   // same byte with stray low bits
  EXPECT_TRUE(decode_base64url("QUI"));   // "AB"
  EXPECT_FALSE(decode_base64url("QUJ"));  // stray low bits
}

}  // namespace
}  // namespace sluice::gateway::identity
