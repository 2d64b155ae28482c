#include "sim/embeddings.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "sim/base64.hpp"

namespace sluice::sim {
namespace {

TEST(Embeddings, DeterministicUnitVectorsOfTheAskedSize) {
  auto a = embed_text("The quick brown fox jumps over the lazy dog", 1536, 42);
  auto b = embed_text("The quick brown fox jumps over the lazy dog", 1536, 42);
  ASSERT_EQ(a.size(), 1536u);
  EXPECT_EQ(a, b);
  double norm = 0;
  for (float x : a) norm += static_cast<double>(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_EQ(embed_text("abc", 256, 1).size(), 256u);
  EXPECT_NE(embed_text("abc", 64, 1), embed_text("abc", 64, 2));
}

TEST(Embeddings, SimilarTextsAreCloseAndUnrelatedTextsAreNot) {
  auto base = embed_text("The quick brown fox jumps over the lazy dog", 1536, 42);
  auto similar = embed_text("the quick brown foxes jumped over a lazy dog!", 1536, 42);
  auto unrelated = embed_text("Quarterly revenue grew in the European market segment", 1536, 42);
  const double close = cosine_similarity(base, similar);
  const double far = cosine_similarity(base, unrelated);
  EXPECT_GT(close, 0.6);
  EXPECT_LT(far, 0.25);
  EXPECT_GT(close, far + 0.4);
  EXPECT_NEAR(cosine_similarity(base, base), 1.0, 1e-6);
}

TEST(Embeddings, ParaphrasesAreCloseUnrelatedQuestionsAreFar) {
  auto embed = [](std::string_view text) { return embed_text(text, 1536, 42); };
  const auto question = embed("What is the capital of France?");
  // Stop words and punctuation do not count: the same question asked another way is the same.
  EXPECT_NEAR(cosine_similarity(question, embed("what's the capital of france")), 1.0, 1e-6);
  EXPECT_GT(cosine_similarity(question, embed("Tell me the capital city of France")), 0.7);
  EXPECT_GT(cosine_similarity(question, embed("Which city is the capital of France?")), 0.8);
  // A different question on the same theme is in between; an unrelated one is near zero.
  const double other_country =
      cosine_similarity(question, embed("What is the capital of Germany?"));
  EXPECT_LT(other_country, 0.6);
  EXPECT_GT(other_country, 0.2);
  EXPECT_LT(std::abs(cosine_similarity(question, embed("How do I bake sourdough bread at home?"))),
            0.15);
}

TEST(Embeddings, DimensionsAreHonouredAndEveryTextIsAUnitVector) {
  for (int dims : {1, 8, 256, 3072}) {
    for (std::string_view text : {"What is the capital of France?", "what is it", "", "!!!"}) {
      auto v = embed_text(text, dims, 7);
      ASSERT_EQ(v.size(), static_cast<std::size_t>(dims));
      double norm = 0;
      for (float x : v) norm += static_cast<double>(x) * x;
      EXPECT_NEAR(norm, 1.0, 1e-5) << text << " " << dims;
    }
  }
  // A question of stop words only keeps them rather than collapsing onto the empty text.
  EXPECT_LT(cosine_similarity(embed_text("what is it", 256, 7), embed_text("", 256, 7)), 0.9);
}

TEST(Embeddings, Base64IsLittleEndianFloat32) {
  std::vector<float> v = {1.0f, -0.5f, 0.25f};
  auto bytes = base64_decode(embedding_base64(v));
  ASSERT_TRUE(bytes);
  ASSERT_EQ(bytes->size(), 12u);
  std::vector<float> back(3);
  std::memcpy(back.data(), bytes->data(), 12);
  EXPECT_EQ(back, v);
  EXPECT_EQ(embedding_base64({1.0f}), "AACAPw==");
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64_decode("-_8"), std::string("\xfb\xff"));
  EXPECT_EQ(base64_decode("aGVsbG8="), std::string("hello"));
  EXPECT_FALSE(base64_decode("a").has_value());
  EXPECT_FALSE(base64_decode("a*bc").has_value());
}

}  // namespace
}  // namespace sluice::sim
