#include "gateway/policies/tracing/encoded_attribute_cache.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::gateway {
namespace {

// The attribute each test key stands for: one naming every part of the key.
void write_key(telemetry::SpanEncoder& encoder, std::uint64_t number, std::string_view a,
               std::string_view b) {
  encoder.attribute("key", std::to_string(number) + "|" + std::string(a) + "|" + std::string(b));
}

// What the cache should hold for a key.
std::string expected_bytes(std::uint64_t number, std::string_view a, std::string_view b) {
  telemetry::SpanEncoder encoder(256);
  write_key(encoder, number, a, b);
  return std::move(encoder.take().bytes);
}

class EncodedAttributeCacheTest : public ::testing::Test {
 protected:
  // The cache's bytes for the key, and whether they were encoded now (a miss).
  std::pair<std::string, bool> get(std::uint64_t number, std::string_view a, std::string_view b) {
    bool encoded = false;
    auto bytes = cache_.get(number, {a, b}, [&](telemetry::SpanEncoder& encoder) {
      encoded = true;
      write_key(encoder, number, a, b);
    });
    return {std::string(bytes), encoded};
  }

  EncodedAttributeCache<2> cache_;
};

TEST_F(EncodedAttributeCacheTest, EachKeyGetsItsOwnBytesAndIsEncodedOnce) {
  EXPECT_EQ(get(1, "gpt-4o", "/a"), std::pair(expected_bytes(1, "gpt-4o", "/a"), true));
  EXPECT_EQ(get(1, "gpt-4o", "/a"), std::pair(expected_bytes(1, "gpt-4o", "/a"), false));
  // Same number and sizes (the same bucket), texts that differ in one byte, first or last.
  EXPECT_EQ(get(1, "gpt-35", "/a"), std::pair(expected_bytes(1, "gpt-35", "/a"), true));
  EXPECT_EQ(get(1, "gpt-4o", "/b"), std::pair(expected_bytes(1, "gpt-4o", "/b"), true));
  EXPECT_EQ(get(1, "hpt-4o", "/a"), std::pair(expected_bytes(1, "hpt-4o", "/a"), true));
  // Another number, and a text moved from one part to the other (same total, other sizes).
  EXPECT_EQ(get(2, "gpt-4o", "/a"), std::pair(expected_bytes(2, "gpt-4o", "/a"), true));
  EXPECT_EQ(get(1, "gpt-4o/", "a"), std::pair(expected_bytes(1, "gpt-4o/", "a"), true));
  // Texts of every size to 300 bytes (word compares, their tails, and sizes past a byte).
  for (std::size_t size = 0; size <= 300; ++size) {
    cache_ = {};  // each size on its own: 900 keys in all would make it start over
    std::string text(size, 'x');
    EXPECT_TRUE(get(7, text, "").second) << size;
    if (size > 0) {
      std::string other = text;
      other[size - 1] = 'y';
      EXPECT_EQ(get(7, other, ""), std::pair(expected_bytes(7, other, ""), true)) << size;
    }
    if (size > 1) {
      std::string other = text;
      other[0] = 'y';
      EXPECT_EQ(get(7, other, ""), std::pair(expected_bytes(7, other, ""), true)) << size;
    }
    EXPECT_EQ(get(7, text, ""), std::pair(expected_bytes(7, text, ""), false)) << size;
  }
}

// More keys than it keeps: it starts over, and every answer is still the key's own.
TEST_F(EncodedAttributeCacheTest, ManyMoreKeysThanItKeepsAllGetTheirOwnBytes) {
  for (int round = 0; round < 3; ++round) {
    for (std::uint64_t i = 0; i < 2'000; ++i) {
      const std::string deployment = "deployment-" + std::to_string(i % 700);
      EXPECT_EQ(get(i % 3, deployment, "/chat").first, expected_bytes(i % 3, deployment, "/chat"))
          << i;
    }
  }
}

}  // namespace
}  // namespace sluice::gateway
