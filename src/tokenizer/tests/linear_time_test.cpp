// tiktoken's merge is quadratic in the piece length, and one run of a single letter is one piece.
// sluice's long-piece encoder must do work linear in the input on any text. This test counts the
// encoder's steps (tokens placed and taken back), which do not depend on how busy the machine is;
// the wall-clock figures for the same inputs are in bench/tokenizer.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "sluice/tokenizer/encoding.hpp"
#include "tokenizer/backtracking_bpe.hpp"

namespace sluice::tokenizer {
namespace {

struct Work {
  std::size_t tokens;
  std::uint64_t steps;
};

Work count_with_steps(const Encoding& enc, const std::string& text) {
  const std::uint64_t before = BacktrackingBpe::thread_steps();
  const std::size_t tokens = enc.count(text);
  return {tokens, BacktrackingBpe::thread_steps() - before};
}

// `make(n)` builds an input of n bytes. Four times the input must cost at most 4.5 times the
// steps, and never more than two steps per byte (each position is left at most once).
template <class Make>
void check_linear(const Encoding& enc, Make make) {
  const std::string one = make(std::size_t{1} << 20);
  const std::string four = make(std::size_t{4} << 20);
  const Work w1 = count_with_steps(enc, one);
  const Work w4 = count_with_steps(enc, four);
  ASSERT_GT(w1.steps, 0u) << "the input never reached the long-piece encoder";
  EXPECT_LE(w4.steps * 2, w1.steps * 9)
      << enc.name() << ": " << w1.steps << " steps for 1 MiB, " << w4.steps << " for 4 MiB";
  EXPECT_LE(w4.steps, 2 * four.size());
  // The same tokens whether counted or listed.
  EXPECT_EQ(enc.encode_ordinary(one).size(), w1.tokens);
}

std::string run_of(std::string_view unit, std::size_t n) {
  std::string s;
  s.reserve(n + unit.size());
  while (s.size() < n) s += unit;
  return s;
}

// Random bytes that never start a UTF-8 character (0x80-0xBF, 0xF8-0xFF): the pre-tokenizer
// reads each as punctuation, so they make one long piece of many different pairs. (Random bytes
// of every value make short pieces only; bench/tokenizer times those.)
std::string random_high_bytes(std::size_t n) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (char& c : s) {
    const unsigned v = rng() % 72;
    c = static_cast<char>(v < 64 ? 0x80 + v : 0xF8 + (v - 64));
  }
  return s;
}

TEST(LinearTime, RunOfOneLetter) {
  for (const Encoding* enc : {&cl100k_base(), &o200k_base()}) {
    check_linear(*enc, [](std::size_t n) { return std::string(n, 'a'); });
  }
}
TEST(LinearTime, RunOfSpaces) {
  for (const Encoding* enc : {&cl100k_base(), &o200k_base()}) {
    check_linear(*enc, [](std::size_t n) { return std::string(n, ' '); });
  }
}
TEST(LinearTime, RunOfOneCjkCharacter) {
  for (const Encoding* enc : {&cl100k_base(), &o200k_base()}) {
    check_linear(*enc, [](std::size_t n) { return run_of("\xe6\x97\xa5", n); });
  }
}
TEST(LinearTime, RepeatedShortPattern) {
  for (const Encoding* enc : {&cl100k_base(), &o200k_base()}) {
    check_linear(*enc, [](std::size_t n) { return run_of("ab", n); });
    check_linear(*enc, [](std::size_t n) { return run_of("=-", n); });
  }
}
TEST(LinearTime, RandomHighBytes) {
  for (const Encoding* enc : {&cl100k_base(), &o200k_base()}) {
    check_linear(*enc, random_high_bytes);
  }
}

// Digits never reach the long-piece encoder (the pre-tokenizer cuts them into groups of three),
// so a run of them is linear by construction; its count is still exact.
TEST(LinearTime, RunOfDigitsIsCutIntoGroupsOfThree) {
  const std::string digits(3 << 20, '7');
  const Work w = count_with_steps(cl100k_base(), digits);
  EXPECT_EQ(w.tokens, std::size_t{1} << 20);
  EXPECT_EQ(w.steps, 0u);
}

}  // namespace
}  // namespace sluice::tokenizer
