// Encoding API behaviour: round trips, special tokens as tiktoken treats them, errors, threads.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "sluice/tokenizer/encoding.hpp"
#include "sluice/tokenizer/utf8.hpp"

namespace sluice::tokenizer {
namespace {

const Encoding& encoding_named(std::string_view name) {
  return **get_encoding(name);
}

std::vector<const Encoding*> all_encodings() {
  return {&cl100k_base(), &o200k_base(), &o200k_harmony()};
}

TEST(Encoding, NamesAndVocabularySizes) {
  EXPECT_EQ(cl100k_base().name(), "cl100k_base");
  EXPECT_EQ(cl100k_base().n_vocab(), 100277u);
  EXPECT_EQ(o200k_base().n_vocab(), 200019u);
  EXPECT_EQ(o200k_harmony().n_vocab(), 201088u);
  EXPECT_EQ(&encoding_named("o200k_base"), &o200k_base());  // one instance per process
}

TEST(Encoding, UnknownEncodingListsValidNames) {
  auto e = get_encoding("p50k_base");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(e.error().message.find("cl100k_base, o200k_base, o200k_harmony"), std::string::npos);
}

TEST(Encoding, DecodeOfEncodeIsIdentityForAnyBytes) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 300);
  const std::vector<std::string> samples = {
      "",
      "hello world",
      "  \n\r\n\t x  ",
      "👨‍👩‍👧‍👦 日本語 مرحبا e\u0301",
      std::string(5000, ' '),
      "a\xff\xfe"
      "b\xc3",
      "\xed\xa0\x80",
      "<|endoftext|>"};
  for (const Encoding* enc : all_encodings()) {
    for (const auto& text : samples) {
      const auto ids = enc->encode_ordinary(text);
      EXPECT_EQ(*enc->decode(ids), text);
      EXPECT_EQ(enc->count(text), ids.size());
    }
    for (int i = 0; i < 500; ++i) {  // random bytes, mostly invalid UTF-8
      std::string text(static_cast<std::size_t>(length(rng)), '\0');
      for (auto& c : text) c = static_cast<char>(byte(rng));
      const auto ids = enc->encode_ordinary(text);
      ASSERT_EQ(*enc->decode(ids), text);
      ASSERT_EQ(enc->count(text), ids.size());
    }
  }
}

TEST(Encoding, EncodeOrdinaryAppends) {
  std::vector<Rank> out = {42};
  cl100k_base().encode_ordinary("hello world", out);
  EXPECT_EQ(out, (std::vector<Rank>{42, 15339, 1917}));
}

TEST(Encoding, DisallowedSpecialTokenIsAnErrorByDefault) {
  auto ids = cl100k_base().encode("say <|endoftext|> now");
  ASSERT_FALSE(ids);
  EXPECT_EQ(ids.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(ids.error().message.find("<|endoftext|> at byte 4"), std::string::npos);
  // Text that only looks like a special token is fine.
  EXPECT_TRUE(cl100k_base().encode("<|endoftext|  > <|nope|>"));
  // A special token of another encoding is not special here.
  EXPECT_TRUE(o200k_base().encode("<|fim_prefix|>"));
}

TEST(Encoding, AllowedSpecialTokensBecomeTheirIds) {
  const Encoding& enc = cl100k_base();
  auto ids = enc.encode("a<|endoftext|>b", SpecialTokenSet::all());
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<Rank>{64, 100257, 65}));
  EXPECT_EQ(*enc.decode(*ids), "a<|endoftext|>b");
  EXPECT_EQ(*enc.count("a<|endoftext|>b", SpecialTokenSet::all()), 3u);
}

TEST(Encoding, SpecialTokenSetsFollowTiktoken) {
  const Encoding& enc = cl100k_base();
  const std::string text = "<|fim_prefix|>x<|endoftext|>";
  // Allowing one: the other is still disallowed ("all" means all not allowed).
  auto ids = enc.encode(text, SpecialTokenSet::of({"<|fim_prefix|>"}));
  ASSERT_FALSE(ids);
  EXPECT_NE(ids.error().message.find("<|endoftext|>"), std::string::npos);
  // Nothing disallowed: the allowed one is special, the other is text.
  ids = enc.encode(text, SpecialTokenSet::of({"<|fim_prefix|>"}), SpecialTokenSet::none());
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->front(), 100258u);
  EXPECT_EQ(ids->size(), 1 + enc.encode_ordinary("x<|endoftext|>").size());
  // An explicit disallowed set wins over allowed, as in tiktoken.
  EXPECT_FALSE(enc.encode(text, SpecialTokenSet::all(), SpecialTokenSet::of({"<|endoftext|>"})));
  // Ordinary encoding never produces special ids.
  for (const Rank id : enc.encode_ordinary(text)) EXPECT_LT(id, 100256u);
}

TEST(Encoding, SegmentsBetweenSpecialTokensEndAtTheToken) {
  // tiktoken pre-tokenizes "hello  " on its own, so its trailing spaces are "end of text".
  const Encoding& enc = cl100k_base();
  auto ids = enc.encode("hello  <|endoftext|>", SpecialTokenSet::all());
  ASSERT_TRUE(ids);
  std::vector<Rank> expected = enc.encode_ordinary("hello  ");
  expected.push_back(100257);
  EXPECT_EQ(*ids, expected);
}

TEST(Encoding, HarmonySpecialTokens) {
  const Encoding& enc = o200k_harmony();
  EXPECT_EQ(enc.special_token_id("<|start|>"), 200006u);
  EXPECT_EQ(enc.special_token_id("<|reserved_201087|>"), 201087u);
  EXPECT_EQ(enc.special_token_id("<|reserved_201088|>"), std::nullopt);
  // 200018 has two names; decoding prefers <|endofprompt|>, which o200k_base also uses.
  EXPECT_EQ(enc.special_token_id("<|reserved_200018|>"), 200018u);
  EXPECT_EQ(*enc.token_bytes(200018), "<|endofprompt|>");
  auto ids = enc.encode("<|start|>user<|message|>hi<|end|>", SpecialTokenSet::all());
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->front(), 200006u);
  EXPECT_EQ(ids->back(), 200007u);
  EXPECT_EQ(o200k_base().special_token_id("<|start|>"), std::nullopt);
}

TEST(Encoding, DecodeRejectsUnknownIds) {
  const std::vector<Rank> ids = {15339, 100256};  // 100256 is a hole in cl100k_base
  auto text = cl100k_base().decode(ids);
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message.find("token id 100256 at index 1"), std::string::npos);
  EXPECT_FALSE(cl100k_base().decode(std::vector<Rank>{100277}));
  EXPECT_TRUE(cl100k_base().decode(std::vector<Rank>{100276}));
}

TEST(Encoding, ThreadsGetTheSameResults) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "Thread " + std::to_string(i) + " says héllo, 世界! ";
  text += std::string(3000, 'z');  // a long piece: the tree merge uses per-thread scratch
  const auto expected = o200k_base().encode_ordinary(text);
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      bool same = true;
      for (int i = 0; i < 20; ++i) same = same && o200k_base().encode_ordinary(text) == expected;
      ok[t] = same && o200k_base().count(text) == expected.size();
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_TRUE(ok[t]) << "thread " << t;
}

TEST(Utf8, FindsTheFirstInvalidByte) {
  EXPECT_EQ(find_invalid_utf8(""), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("héllo 👍 世界"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("ab\xff"), 2u);
  EXPECT_EQ(find_invalid_utf8("é\xc3"), 2u);             // truncated
  EXPECT_EQ(find_invalid_utf8("x\xc0\xaf"), 1u);         // overlong
  EXPECT_EQ(find_invalid_utf8("\xed\xa0\x80"), 0u);      // surrogate
  EXPECT_EQ(find_invalid_utf8("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("ok\x80"), 2u);            // stray continuation
}

}  // namespace
}  // namespace sluice::tokenizer
