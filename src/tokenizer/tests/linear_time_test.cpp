// tiktoken's merge is quadratic in the piece length, and one run of a single letter is one piece.
// sluice's must stay near-linear: 4 MiB may take about 4x (log factor aside) as long as 1 MiB.
// The bound is generous (8x) to absorb noise on a shared machine; absolute times are not asserted.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "sluice/tokenizer/encoding.hpp"

namespace sluice::tokenizer {
namespace {

double seconds_to_count(const Encoding& enc, const std::string& text) {
  double best = 1e9;
  for (int i = 0; i < 3; ++i) {  // best of three filters out scheduling hiccups
    const auto start = std::chrono::steady_clock::now();
    const std::size_t n = enc.count(text);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    EXPECT_GT(n, 0u);
    best = std::min(best, took.count());
  }
  return best;
}

void check_linear(const Encoding& enc, char letter) {
  const std::string one(1 << 20, letter);
  const std::string four(4 << 20, letter);
  (void)enc.count(one);  // warm up: tables, scratch buffers
  const double t1 = seconds_to_count(enc, one);
  const double t4 = seconds_to_count(enc, four);
  EXPECT_LT(t4, 8 * t1) << enc.name() << ": 1 MiB " << t1 << " s, 4 MiB " << t4 << " s";
  // Same tokens either way.
  EXPECT_EQ(enc.encode_ordinary(one).size(), enc.count(one));
}

TEST(LinearTime, LongRunOfOneLetterCl100k) {
  check_linear(cl100k_base(), 'a');
}
TEST(LinearTime, LongRunOfOneLetterO200k) {
  check_linear(o200k_base(), 'x');
}
TEST(LinearTime, LongRunOfSpacesO200k) {
  check_linear(o200k_base(), ' ');
}

}  // namespace
}  // namespace sluice::tokenizer
