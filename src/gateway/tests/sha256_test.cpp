#include "gateway/sha256.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <string>
#include <thread>
#include <vector>

namespace sluice::gateway {
namespace {

std::string hex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : raw) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 15]);
  }
  return out;
}

TEST(Sha256, MatchesTheStandardVectors) {  // FIPS 180-2 examples
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

// The context is reused per thread: each call starts afresh, whatever the one before hashed,
// and threads do not share state.
TEST(Sha256, EachCallAndEachThreadIsIndependent) {
  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>(i);
  unsigned char expected[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(big.data()), big.size(), expected);
  const std::string want(reinterpret_cast<const char*>(expected), sizeof expected);
  std::vector<std::thread> threads;
  std::vector<int> matches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (sha256(big) == want && hex(sha256("abc")).starts_with("ba7816bf")) ++matches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(matches, std::vector<int>(4, 20));
}

}  // namespace
}  // namespace sluice::gateway
