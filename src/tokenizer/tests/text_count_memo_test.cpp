// The text count memo gives exactly Encoding::count() for every text, whether it remembered the
// text or not, and keeps no more than its bounds allow.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sluice/tokenizer/chat_tokens.hpp"
#include "sluice/tokenizer/encoding.hpp"
#include "sluice/tokenizer/text_count_memo.hpp"

namespace sluice::tokenizer {
namespace {

TEST(TextCountMemo, ATextCountedAgainComesFromTheMemoWithTheSameCount) {
  TextCountMemo memo;
  const Encoding& o200k = o200k_base();
  const std::string system_prompt =
      "You are a helpful assistant for Contoso's travel desk. Answer in two sentences or fewer, "
      "name the fare class, and never promise a refund.";
  const std::size_t expected = o200k.count(system_prompt);
  EXPECT_EQ(memo.count(o200k, system_prompt), expected);
  EXPECT_EQ(memo.hits(), 0u);
  EXPECT_EQ(memo.count(o200k, system_prompt), expected);
  EXPECT_EQ(memo.hits(), 1u);
  EXPECT_EQ(memo.kept_bytes(), system_prompt.size());
}

TEST(TextCountMemo, AnotherEncodingOrOtherBytesOfTheSameLengthAreCountedAnew) {
  TextCountMemo memo;
  const Encoding& o200k = o200k_base();
  const Encoding& cl100k = cl100k_base();
  const std::string text = "東京から大阪までの新幹線の料金を教えてください。";
  ASSERT_NE(o200k.count(text), cl100k.count(text));  // else this test could not fail
  EXPECT_EQ(memo.count(o200k, text), o200k.count(text));
  EXPECT_EQ(memo.count(cl100k, text), cl100k.count(text));
  const std::string joined = "aaaaaaaaaaaaaaaa";
  const std::string split = "aaaaaaa aaaaaaaa";
  ASSERT_EQ(joined.size(), split.size());
  ASSERT_NE(o200k.count(joined), o200k.count(split));
  EXPECT_EQ(memo.count(o200k, joined), o200k.count(joined));
  EXPECT_EQ(memo.count(o200k, split), o200k.count(split));
  EXPECT_EQ(memo.hits(), 0u);
}

TEST(TextCountMemo, ShortTextsAreCountedWithoutBeingKept) {
  TextCountMemo memo;
  const Encoding& o200k = o200k_base();
  for (const std::string text : {"user", "assistant", "get_weather", "fifteen bytes.."}) {
    ASSERT_LT(text.size(), TextCountMemo::kMinTextBytes);
    EXPECT_EQ(memo.count(o200k, text), o200k.count(text));
    EXPECT_EQ(memo.count(o200k, text), o200k.count(text));
  }
  EXPECT_EQ(memo.kept_bytes(), 0u);
  EXPECT_EQ(memo.hits(), 0u);
}

TEST(TextCountMemo, TextsThatShareSlotsKeepTheirOwnCounts) {
  // More texts than slots, three rounds: every count exact, whichever text holds a slot.
  TextCountMemo memo;
  const Encoding& o200k = o200k_base();
  std::vector<std::string> texts;
  for (int i = 0; i < 3 * static_cast<int>(TextCountMemo::kSlots); ++i) {
    texts.push_back("message " + std::to_string(i) +
                    std::string(static_cast<std::size_t>(i % 7), '!') + " about order #" +
                    std::to_string(i * 7919));
  }
  for (int round = 0; round < 3; ++round) {
    for (const auto& text : texts) ASSERT_EQ(memo.count(o200k, text), o200k.count(text)) << text;
  }
  EXPECT_GT(memo.hits(), 0u);  // some texts kept their slots between rounds
  EXPECT_LE(memo.kept_bytes(), TextCountMemo::kMaxKeptBytes);
}

TEST(TextCountMemo, LargeTextsAreCountedButKeptOnlyWithinTheBounds) {
  TextCountMemo memo;
  const Encoding& o200k = o200k_base();
  const std::string too_large(TextCountMemo::kMaxTextBytes + 1, 'x');
  EXPECT_EQ(memo.count(o200k, too_large), o200k.count(too_large));
  EXPECT_EQ(memo.kept_bytes(), 0u);
  // Twenty texts of 200 KiB would be 4 MiB: the memo keeps what fits under its cap.
  for (int i = 0; i < 20; ++i) {
    const std::string text = "document " + std::to_string(i) + ": " +
                             std::string(200 * 1024, static_cast<char>('a' + i % 26));
    ASSERT_EQ(memo.count(o200k, text), o200k.count(text));
    ASSERT_LE(memo.kept_bytes(), TextCountMemo::kMaxKeptBytes);
  }
  EXPECT_GT(memo.kept_bytes(), TextCountMemo::kMaxKeptBytes / 2);
}

TEST(TextCountMemo, ALargeTextReplacedByShortOnesGivesItsRoomBack) {
  // Rounds of large texts, each round then pushed out of every slot by short ones: what the memo
  // holds stays under its cap, as it would not if a slot kept the largest buffer it ever had.
  TextCountMemo memo;
  const Encoding& o200k = o200k_base();
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 10; ++i) {
      const std::string text = "round " + std::to_string(round) + " text " + std::to_string(i) +
                               std::string(150 * 1024, 'q');
      ASSERT_EQ(memo.count(o200k, text), o200k.count(text));
      ASSERT_LE(memo.kept_bytes(), TextCountMemo::kMaxKeptBytes);
    }
    for (int i = 0; i < 8 * static_cast<int>(TextCountMemo::kSlots); ++i) {
      const std::string text = "a short message, number " + std::to_string(round * 10000 + i);
      ASSERT_EQ(memo.count(o200k, text), o200k.count(text));
    }
    EXPECT_LT(memo.kept_bytes(), 64u * 1024) << "round " << round;
  }
}

TEST(TextCountMemo, ChatPromptsCountTheirRepeatedTextsThroughTheThreadsMemo) {
  const std::string body =
      R"({"model":"gpt-4o","messages":[{"role":"system","content":"You answer questions about )"
      R"(invoices, briefly."},{"role":"user","content":"What is due on invoice 4471?"}]})";
  ChatCountOptions options;
  auto first = count_chat_prompt_tokens(body, options);
  ASSERT_TRUE(first.ok());
  const std::uint64_t hits_before = TextCountMemo::for_this_thread().hits();
  auto second = count_chat_prompt_tokens(body, options);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->prompt_tokens, first->prompt_tokens);
  // The two contents, seen on the first count (the roles are too short to keep).
  EXPECT_EQ(TextCountMemo::for_this_thread().hits() - hits_before, 2u);
}

}  // namespace
}  // namespace sluice::tokenizer
