// The hand-written splitters against the pat_str regexes run by PCRE2 (JIT, UTF + UCP), on random
// strings drawn from characters of every class the patterns distinguish.
//
// PCRE2 10.42 knows Unicode 14.0 and takes \s as the separators plus \t\n\v\f\r, while tiktoken's
// Rust regex knows Unicode 16.0 and takes \s as White_Space. The alphabet below avoids both gaps
// (characters added after 14.0, and U+0085 NEL); the e2e test covers them against tiktoken itself.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tokenizer/pretokenizer.hpp"

namespace sluice::tokenizer {
namespace {

using Pieces = std::vector<std::string>;

constexpr const char* kCl100kPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kO200kPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

class Pcre2Splitter {
 public:
  explicit Pcre2Splitter(const char* pattern) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (code_ == nullptr) throw std::runtime_error("pcre2_compile failed");
    pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);
    match_ = pcre2_match_data_create_from_pattern(code_, nullptr);
  }
  ~Pcre2Splitter() {
    pcre2_match_data_free(match_);
    pcre2_code_free(code_);
  }

  // Pieces as Rust's find_iter gives them; characters no alternative matches are skipped.
  Pieces split(const std::string& text) const {
    Pieces out;
    PCRE2_SIZE start = 0;
    while (start < text.size()) {
      const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                                 start, 0, match_, nullptr);
      if (rc < 0) break;
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match_);
      out.push_back(text.substr(ovector[0], ovector[1] - ovector[0]));
      start = ovector[1] > ovector[0] ? ovector[1] : ovector[1] + 1;
    }
    return out;
  }

 private:
  pcre2_code* code_ = nullptr;
  pcre2_match_data* match_ = nullptr;
};

template <Pattern kPattern>
Pieces split(const std::string& text) {
  Pieces out;
  const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
  pretokenizer::for_each_piece<kPattern>(p, p + text.size(), [&](auto b, auto e) {
    out.emplace_back(reinterpret_cast<const char*>(b), static_cast<std::size_t>(e - b));
  });
  return out;
}

// Characters of every class the two patterns tell apart, plus the bytes they treat specially.
const std::vector<std::string> kAlphabet = {
    "a",      "b",      "z",      "s",      "S",      "t",      "T",      "r",
    "e",      "E",      "v",      "m",      "l",      "L",      "d",      "D",
    "A",      "Z",      "'",      "'",      " ",      " ",      " ",      "\t",
    "\n",     "\n",     "\r",     "\v",     "\f",     "1",      "0",      "9",
    ".",      ",",      "!",      "/",      "/",      "-",      "(",      "\"",
    "<",      "|",      ">",      "_",      "é",      "É",      "ß",      "ſ",
    "ǅ",      "ʰ",      "ª",      "日",     "本",     "ア",     "한",     "ا",
    "ह",      "Ω",      "ж",      "\u0301", "\u0308", "\u0903", "\u093F", "\u20DD",  // Mn, Mc, Me
    "٣",      "Ⅻ",      "½",      "²",      "①",                                     // Nd, Nl, No
    "\u00A0", "\u3000", "\u2003", "\u2028", "\u2029", "\u1680",  // Z* white space
    "—",      "“",      "’",      "€",      "\u00AD", "\u200B", "\u200D", "\uFEFF",
    "\uFE0F", "👍",      "🏽",
};

std::string random_text(std::mt19937& rng, std::size_t max_chars) {
  std::uniform_int_distribution<std::size_t> length(1, max_chars);
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string text;
  for (std::size_t n = length(rng); n > 0; --n) text += kAlphabet[pick(rng)];
  return text;
}

template <Pattern kPattern>
void check_against_pcre2(const char* pattern, std::uint32_t seed) {
  const Pcre2Splitter reference(pattern);
  std::mt19937 rng(seed);
  for (int i = 0; i < 30000; ++i) {
    const std::string text = random_text(rng, i < 20000 ? 12 : 40);
    ASSERT_EQ(split<kPattern>(text), reference.split(text)) << "text: " << text;
  }
}

TEST(Pretokenizer, Cl100kMatchesPcre2OnRandomText) {
  check_against_pcre2<Pattern::kCl100k>(kCl100kPattern, 1);
}

TEST(Pretokenizer, O200kMatchesPcre2OnRandomText) {
  check_against_pcre2<Pattern::kO200k>(kO200kPattern, 2);
}

TEST(Pretokenizer, Cl100kSplits) {
  EXPECT_EQ(split<Pattern::kCl100k>("Hello world"), (Pieces{"Hello", " world"}));
  // \s+(?!\S) leaves the last space to the next word.
  EXPECT_EQ(split<Pattern::kCl100k>("a   b"), (Pieces{"a", "  ", " b"}));
  // \s*[\r\n]+ stops at the run's last newline; the rest is \s+ at the end of text.
  EXPECT_EQ(split<Pattern::kCl100k>("x\n  "), (Pieces{"x", "\n", "  "}));
  EXPECT_EQ(split<Pattern::kCl100k>("x \n\n y"), (Pieces{"x", " \n\n", " y"}));
  EXPECT_EQ(split<Pattern::kCl100k>("I'm WE'LL"), (Pieces{"I", "'m", " WE", "'LL"}));
  EXPECT_EQ(split<Pattern::kCl100k>("12345"), (Pieces{"123", "45"}));
  EXPECT_EQ(split<Pattern::kCl100k>(" !!\n\nx"), (Pieces{" !!\n\n", "x"}));
  EXPECT_EQ(split<Pattern::kCl100k>("'sup"), (Pieces{"'s", "up"}));
  // NEL is White_Space, so \s+(?!\S) applies; the BOM is not, so it is punctuation.
  EXPECT_EQ(split<Pattern::kCl100k>("a\u0085\u0085b"), (Pieces{"a", "\u0085", "\u0085b"}));
  EXPECT_EQ(split<Pattern::kCl100k>("a\uFEFF\uFEFFb"), (Pieces{"a", "\uFEFF\uFEFF", "b"}));
}

TEST(Pretokenizer, O200kSplits) {
  EXPECT_EQ(split<Pattern::kO200k>("helloWorld"), (Pieces{"hello", "World"}));
  EXPECT_EQ(split<Pattern::kO200k>("HTTPServer"), (Pieces{"HTTPServer"}));
  EXPECT_EQ(split<Pattern::kO200k>("HELLO's"), (Pieces{"HELLO's"}));
  EXPECT_EQ(split<Pattern::kO200k>("a//b//\n"), (Pieces{"a", "//", "b", "//\n"}));
  EXPECT_EQ(split<Pattern::kO200k>("</div>\n"), (Pieces{"</", "div", ">\n"}));
  // A mark alone: the prefix path fails, so U*W+ matches the mark itself.
  EXPECT_EQ(split<Pattern::kO200k>("\u0301!"), (Pieces{"\u0301", "!"}));
  EXPECT_EQ(split<Pattern::kO200k>("1234"), (Pieces{"123", "4"}));
}

TEST(Pretokenizer, InvalidUtf8BytesArePunctuation) {
  EXPECT_EQ(split<Pattern::kCl100k>("a\xff\xfe b"), (Pieces{"a", "\xff\xfe", " b"}));
  EXPECT_EQ(split<Pattern::kO200k>("\xc3"), (Pieces{"\xc3"}));  // truncated sequence
  // An encoded surrogate is three invalid bytes, not a character.
  EXPECT_EQ(split<Pattern::kO200k>("x\xed\xa0\x80y"), (Pieces{"x", "\xed\xa0\x80", "y"}));
}

}  // namespace
}  // namespace sluice::tokenizer
