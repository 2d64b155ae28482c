#include "gateway/policies/prompt_log/redactor.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice::gateway {
namespace {

RedactionSettings rules(std::vector<std::string> patterns, std::vector<std::string> fields = {}) {
  RedactionSettings s;
  s.patterns = std::move(patterns);
  s.json_fields = std::move(fields);
  return s;
}

TEST(Redactor, ReplacesEveryMatchOfEveryPattern) {
  Redactor redactor(rules({R"(sk-[A-Za-z0-9]{8,})", R"(\b\d{3}-\d{2}-\d{4}\b)"}));
  std::string text = "key sk-abcdEFGH1234 and sk-zzzzzzzzzz, ssn 123-45-6789, not 12-34";
  EXPECT_EQ(redactor.redact_text(text), 3u);
  EXPECT_EQ(text, "key [REDACTED] and [REDACTED], ssn [REDACTED], not 12-34");
}

TEST(Redactor, ReplacementIsLiteral) {
  RedactionSettings s = rules({"(secret)"});
  s.replacement = "$1 <gone>";
  Redactor redactor(s);
  std::string text = "a secret b";
  EXPECT_EQ(redactor.redact_text(text), 1u);
  EXPECT_EQ(text, "a $1 <gone> b");
}

TEST(Redactor, NoMatchLeavesTextAlone) {
  Redactor redactor(rules({"password=\\S+"}));
  std::string text = "nothing to see";
  EXPECT_EQ(redactor.redact_text(text), 0u);
  EXPECT_EQ(text, "nothing to see");
}

TEST(Redactor, ResultLongerThanInputGrowsTheBuffer) {
  RedactionSettings s = rules({"x"});
  s.replacement = "a-much-longer-replacement";
  Redactor redactor(s);
  std::string text(200, 'x');
  EXPECT_EQ(redactor.redact_text(text), 200u);
  EXPECT_EQ(text.size(), 200u * s.replacement.size());
}

TEST(Redactor, InvalidUtf8IsStillSearched) {
  Redactor redactor(rules({"sk-[a-z]+"}));
  std::string text = "\xff\xfe broken sk-secret \xc3";
  EXPECT_EQ(redactor.redact_text(text), 1u);
  EXPECT_NE(text.find("[REDACTED]"), std::string::npos);
  EXPECT_EQ(text.find("sk-secret"), std::string::npos);
}

TEST(Redactor, JsonFieldsWithWildcards) {
  Redactor redactor(rules({}, {"messages.*.content", "user", "metadata.email", "missing.path"}));
  std::string body = R"({"model":"gpt-4o","user":"alice@example.com",)"
                     R"("metadata":{"email":"a@b.c","team":"blue"},)"
                     R"("messages":[{"role":"system","content":"be nice"},)"
                     R"({"role":"user","content":[{"type":"text","text":"my secret"}]}]})";
  EXPECT_EQ(redactor.redact_prompt(body), 4u);
  auto doc = boost::json::parse(body).as_object();
  EXPECT_EQ(doc.at("user"), "[REDACTED]");
  EXPECT_EQ(doc.at("metadata").at("email"), "[REDACTED]");
  EXPECT_EQ(doc.at("metadata").at("team"), "blue");
  EXPECT_EQ(doc.at("model"), "gpt-4o");
  auto& messages = doc.at("messages").as_array();
  EXPECT_EQ(messages[0].at("role"), "system");
  EXPECT_EQ(messages[0].at("content"), "[REDACTED]");
  EXPECT_EQ(messages[1].at("content"), "[REDACTED]");
  EXPECT_EQ(body.find("my secret"), std::string::npos);
}

TEST(Redactor, JsonFieldByArrayIndex) {
  Redactor redactor(rules({}, {"messages.1.content"}));
  std::string body = R"({"messages":[{"content":"keep"},{"content":"drop"}]})";
  EXPECT_EQ(redactor.redact_prompt(body), 1u);
  EXPECT_EQ(body, R"({"messages":[{"content":"keep"},{"content":"[REDACTED]"}]})");
}

TEST(Redactor, BodyWithoutMatchingFieldKeepsItsBytes) {
  Redactor redactor(rules({}, {"messages.*.content"}));
  std::string body = "{ \"input\" : \"spaced out\" }";
  EXPECT_EQ(redactor.redact_prompt(body), 0u);
  EXPECT_EQ(body, "{ \"input\" : \"spaced out\" }");
  std::string not_json = "plain text";
  EXPECT_EQ(redactor.redact_prompt(not_json), 0u);
  EXPECT_EQ(not_json, "plain text");
}

TEST(Redactor, PatternsApplyAfterJsonFields) {
  Redactor redactor(rules({"sk-[a-z]+"}, {"user"}));
  std::string body = R"({"user":"u1","messages":[{"content":"use sk-abc please"}]})";
  EXPECT_EQ(redactor.redact_prompt(body), 2u);
  EXPECT_EQ(body, R"({"user":"[REDACTED]","messages":[{"content":"use [REDACTED] please"}]})");
}

TEST(Redactor, BadPatternsAndPathsAreReported) {
  EXPECT_TRUE(pattern_error("(unclosed"));
  EXPECT_FALSE(pattern_error(R"(\d+)"));
  EXPECT_TRUE(json_field_error("messages..content"));
  EXPECT_FALSE(json_field_error("messages.*.content"));
  EXPECT_THROW(Redactor(rules({"[z-a]"})), std::invalid_argument);
}

}  // namespace
}  // namespace sluice::gateway
