#include "gateway/policies/cache/semantic_question.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice::gateway::cache {
namespace {

std::optional<SemanticQuestion> question_of(std::string_view body, KeyFields fields = {}) {
  return semantic_question(boost::json::parse(body).as_object(), fields);
}

TEST(SemanticQuestion, IsTheLastUserMessage) {
  auto q = question_of(R"({"messages":[{"role":"system","content":"Be brief."},
      {"role":"user","content":"What is the capital of France?"}],"temperature":0})");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->text, "What is the capital of France?");
  auto parts = question_of(R"({"messages":[{"role":"user","content":[
      {"type":"text","text":"Capital of"},{"type":"text","text":"France?"}]}]})");
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->text, "Capital of\nFrance?");
}

TEST(SemanticQuestion, TheContextHoldsTheHistoryAndTheOtherFieldsButNotTheQuestion) {
  auto a = question_of(R"({"messages":[{"role":"user","content":"Hi"},
      {"role":"assistant","content":"Hello!"},{"role":"user","content":"Capital of France?"}],
      "temperature":0})");
  auto b = question_of(R"({"temperature":0, "messages":[{"role":"user","content":"Hi"},
      {"role":"assistant","content":"Hello!"},{"role":"user","content":"France's capital?"}],
      "stream":true})");
  auto other_history = question_of(R"({"messages":[{"role":"user","content":"Hey"},
      {"role":"assistant","content":"Hello!"},{"role":"user","content":"Capital of France?"}],
      "temperature":0})");
  auto other_fields = question_of(R"({"messages":[{"role":"user","content":"Hi"},
      {"role":"assistant","content":"Hello!"},{"role":"user","content":"Capital of France?"}],
      "temperature":0, "max_tokens": 5})");
  ASSERT_TRUE(a && b && other_history && other_fields);
  EXPECT_EQ(a->context, b->context);  // the question's words and `stream` are not in it
  EXPECT_NE(a->context, other_history->context);
  EXPECT_NE(a->context, other_fields->context);
  // A history made of the same text cut differently is a different history.
  auto cut = question_of(R"({"messages":[{"role":"user","content":"Hi"},
      {"role":"assistant","content":"Hello!"},{"role":"user","content":"Capital of France?"}],
      "temperature":0, "ignored": 1})",
                         KeyFields{{"ignored"}, {}});
  EXPECT_EQ(cut->context, a->context);
}

TEST(SemanticQuestion, NoQuestionMeansNoSemanticLookup) {
  for (std::string_view body : {
           R"({})",
           R"({"messages":[]})",
           R"({"messages":"hi"})",
           R"({"messages":[{"role":"user","content":"Q"},{"role":"assistant","content":"A"}]})",
           R"({"messages":[{"role":"user","content":"   "}]})",
           R"({"messages":[{"role":"user"}]})",
           R"({"messages":[{"role":"user","content":42}]})",
           R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})",
           R"({"messages":[1]})",
       }) {
    EXPECT_FALSE(question_of(body)) << body;
  }
}

}  // namespace
}  // namespace sluice::gateway::cache
