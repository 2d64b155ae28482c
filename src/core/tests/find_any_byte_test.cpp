#include "sluice/core/find_any_byte.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sluice::core {
namespace {

// The block scan must agree with find_first_of for every set size, start offset and position of
// the first hit, in the blocks and in the scalar tail.
TEST(FindAnyByte, AgreesWithFindFirstOf) {
  std::mt19937 random(7);
  const std::string sets[] = {"\n", "\r\n", ",\"\n", ",\"\n\r", "\x80\xff"};
  for (const std::string& set : sets) {
    for (std::size_t length = 0; length < 70; ++length) {
      for (int trial = 0; trial < 20; ++trial) {
        std::string text(length, 'x');
        // A few bytes from the set and a few high bytes, anywhere.
        for (int k = 0; k < 2 && length > 0; ++k) {
          text[random() % length] = set[random() % set.size()];
          text[random() % length] = static_cast<char>(0x80 + random() % 0x80);
        }
        if (trial % 3 == 0) text.assign(length, 'y');  // no hit at all
        for (std::size_t from : {std::size_t{0}, length / 3, length, length + 5}) {
          ASSERT_EQ(find_any_byte(text, set, from), std::string_view(text).find_first_of(set, from))
              << "set " << set.size() << " length " << length << " from " << from;
        }
      }
    }
  }
}

TEST(FindAnyByte, LargerSetsFallBackToFindFirstOf) {
  EXPECT_EQ(find_any_byte("abcdef", "fedcb"), 1u);
  EXPECT_EQ(find_any_byte("abc", ""), std::string_view::npos);
}

}  // namespace
}  // namespace sluice::core
