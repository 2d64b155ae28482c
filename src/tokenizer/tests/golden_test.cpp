// Every vector in golden_cases.jsonl (made with npm tiktoken 1.0.22) and in adversarial_cases.jsonl
// (our own hard cases, ids also from npm tiktoken 1.0.22; see tools/make_adversarial_cases.mjs).
#include <gtest/gtest.h>

#include "sluice/tokenizer/encoding.hpp"
#include "tokenizer/tests/test_data.hpp"

namespace sluice::tokenizer {
namespace {

std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text.substr(0, 80)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return text.size() > 80 ? out + "..." : out;
}

void check_file(const std::string& file_name, std::size_t expected_cases) {
  const auto cases = testing::load_cases(file_name);
  ASSERT_EQ(cases.size(), expected_cases) << file_name;
  for (const auto& c : cases) {
    auto encoding = get_encoding(c.encoding);
    ASSERT_TRUE(encoding) << c.encoding;
    const Encoding& enc = **encoding;
    if (c.allow_all_special) {
      auto ids = enc.encode(c.text, SpecialTokenSet::all());
      ASSERT_TRUE(ids) << ids.error().message;
      EXPECT_EQ(*ids, c.ids) << c.encoding << " \"" << printable(c.text) << "\" " << c.note;
    } else {
      EXPECT_EQ(enc.encode_ordinary(c.text), c.ids)
          << c.encoding << " \"" << printable(c.text) << "\" " << c.note;
      EXPECT_EQ(enc.count(c.text), c.ids.size()) << c.encoding << " \"" << printable(c.text);
    }
    auto decoded = enc.decode(c.ids);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, c.text);
  }
}

TEST(Golden, AllGoldenCasesMatchTiktoken) {
  check_file("golden_cases.jsonl", 152);
}

TEST(Golden, AdversarialCasesMatchTiktoken) {
  check_file("adversarial_cases.jsonl", 354);
}

}  // namespace
}  // namespace sluice::tokenizer
