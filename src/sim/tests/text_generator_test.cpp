#include "sim/text_generator.hpp"

#include <gtest/gtest.h>

#include <variant>

#include "sim/request.hpp"
#include "sim/token_count.hpp"

namespace sluice::sim {
namespace {

class TextGeneratorTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TextGeneratorTest, EveryLengthIsExactForTheTokenizer) {
  auto counter = token_count_for_model(GetParam());
  TextGenerator gen(counter);
  EXPECT_GE(gen.vocabulary_size(), 100u);
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    for (std::size_t n = 1; n <= 300; n += (n < 40 ? 1 : 37)) {
      for (bool end : {false, true}) {
        auto pieces = gen.generate(n, seed, end);
        ASSERT_EQ(pieces.size(), n);
        const std::string text = TextGenerator::join(pieces);
        ASSERT_EQ(counter->count(text), n) << "seed " << seed << " text: " << text;
        for (const auto& p : pieces) ASSERT_EQ(counter->count(p), 1u) << p;
        if (end && n > 1) {
          EXPECT_EQ(text.back(), '.');
        }
      }
    }
  }
}

TEST_P(TextGeneratorTest, DeterministicForSeedAndDifferentAcrossSeeds) {
  TextGenerator gen(token_count_for_model(GetParam()));
  EXPECT_EQ(gen.generate(50, 7, true), gen.generate(50, 7, true));
  EXPECT_NE(gen.generate(50, 7, true), gen.generate(50, 8, true));
  const std::string text = TextGenerator::join(gen.generate(30, 3, true));
  EXPECT_TRUE(text[0] >= 'A' && text[0] <= 'Z') << text;
  EXPECT_EQ(text.find(",,"), std::string::npos);
  EXPECT_EQ(text.find(",."), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Encodings, TextGeneratorTest,
                         ::testing::Values("gpt-4o", "gpt-4", "text-embedding-3-small"));

TEST(TokenCount, ChatPromptFollowsThePublishedRule) {
  auto counter = token_count_for_model("gpt-4o");
  const std::string body = R"({"messages":[{"role":"system","content":"You are terse."},)"
                           R"({"role":"user","name":"ann","content":"Say hello."}]})";
  const std::size_t expected =
      3 + (3 + counter->count("system") + counter->count("You are terse.")) +
      (3 + counter->count("user") + counter->count("ann") + 1 + counter->count("Say hello."));
  EXPECT_EQ(counter->chat_prompt(body), expected);
  EXPECT_FALSE(counter->chat_prompt("{").has_value());
  // The same body as inspect_request parses it: the simulator counts from that document.
  auto inspected = inspect_request(Operation::kChatCompletions, body);
  ASSERT_TRUE(std::holds_alternative<InspectedRequest>(inspected));
  EXPECT_EQ(counter->chat_prompt(std::get<InspectedRequest>(inspected).document), expected);
  EXPECT_THROW(token_count_for_model("no-such-model"), std::runtime_error);
}

}  // namespace
}  // namespace sluice::sim
