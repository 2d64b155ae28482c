#include <gtest/gtest.h>

#include <string>

#include "sluice/gateway/operation.hpp"

namespace sluice::gateway {
namespace {

TEST(RequestTarget, AzureDeploymentPaths) {
  auto t =
      parse_request_target("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(t.style, ApiStyle::kAzure);
  EXPECT_EQ(t.deployment, "gpt-4o");
  EXPECT_EQ(t.operation, Operation::kChatCompletions);
  EXPECT_EQ(t.api_version, "2024-10-21");
  auto e =
      parse_request_target("/openai/deployments/my%20emb/embeddings?x=1&api-version=2024-02-01");
  EXPECT_EQ(e.deployment, "my emb");
  EXPECT_EQ(e.operation, Operation::kEmbeddings);
  EXPECT_EQ(e.api_version, "2024-02-01");
  auto c = parse_request_target("/openai/deployments/davinci/completions/");
  EXPECT_EQ(c.operation, Operation::kCompletions);
  EXPECT_EQ(c.api_version, "");
}

TEST(RequestTarget, ATargetParsedAgainGivesTheSameResultAndAnotherItsOwn) {
  // A thread keeps the last target it parsed: the same bytes again, then targets that differ in
  // one byte (deployment, API version, operation), then the first again, each exactly as parsed.
  const std::string first = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
  for (int round = 0; round < 2; ++round) {
    auto a = parse_request_target(first);
    auto b = parse_request_target(first);
    for (const auto* t : {&a, &b}) {
      EXPECT_EQ(t->style, ApiStyle::kAzure);
      EXPECT_EQ(t->deployment, "gpt-4o");
      EXPECT_EQ(t->operation, Operation::kChatCompletions);
      EXPECT_EQ(t->operation_path, "chat/completions");
      EXPECT_EQ(t->api_version, "2024-10-21");
      EXPECT_EQ(t->query, "api-version=2024-10-21");
    }
    auto deployment =
        parse_request_target("/openai/deployments/gpt-4a/chat/completions?api-version=2024-10-21");
    EXPECT_EQ(deployment.deployment, "gpt-4a");
    auto version =
        parse_request_target("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-22");
    EXPECT_EQ(version.api_version, "2024-10-22");
    EXPECT_EQ(version.deployment, "gpt-4o");
    auto operation =
        parse_request_target("/openai/deployments/gpt-4o/chat/completionz?api-version=2024-10-21");
    EXPECT_EQ(operation.operation, Operation::kOther);
    EXPECT_EQ(operation.operation_path, "chat/completionz");
  }
  // Longer than what is kept: parsed every time, the same way.
  const std::string long_query(2000, 'x');
  const std::string long_target = "/openai/v1/embeddings?api-version=1&pad=" + long_query;
  for (int i = 0; i < 2; ++i) {
    auto t = parse_request_target(long_target);
    EXPECT_EQ(t.style, ApiStyle::kOpenAiV1);
    EXPECT_EQ(t.operation, Operation::kEmbeddings);
    EXPECT_EQ(t.api_version, "1");
  }
}

TEST(RequestTarget, OpenAiV1Paths) {
  for (auto path : {"/v1/chat/completions", "/openai/v1/chat/completions"}) {
    auto t = parse_request_target(path);
    EXPECT_EQ(t.style, ApiStyle::kOpenAiV1) << path;
    EXPECT_EQ(t.operation, Operation::kChatCompletions) << path;
    EXPECT_TRUE(t.deployment.empty());
  }
  EXPECT_EQ(parse_request_target("/v1/models").operation, Operation::kOther);
}

TEST(RequestTarget, UnknownPathsAreNotMangled) {
  EXPECT_EQ(parse_request_target("/").style, ApiStyle::kUnknown);
  EXPECT_EQ(parse_request_target("/openai/deployments/").style, ApiStyle::kUnknown);
  EXPECT_EQ(parse_request_target("/openai/deployments/x").style, ApiStyle::kUnknown);
  EXPECT_EQ(parse_request_target("/healthz?x").style, ApiStyle::kUnknown);
}

TEST(RequestTarget, QueryParameterDecoding) {
  EXPECT_EQ(query_parameter("a=1&api-version=2024%2D10%2D21&b", "api-version"), "2024-10-21");
  EXPECT_EQ(query_parameter("a=1&b", "b"), "");
  EXPECT_EQ(query_parameter("a=%zz", "a"), "%zz");
  // Plain runs between escapes, escapes at either end, '+' as a space, an escape cut short.
  EXPECT_EQ(query_parameter("q=a+b%2Bc+", "q"), "a b+c ");
  EXPECT_EQ(query_parameter("q=%41bc%5A", "q"), "AbcZ");
  EXPECT_EQ(query_parameter("q=ab%4", "q"), "ab%4");
  EXPECT_EQ(query_parameter("q=plain", "q"), "plain");
}

}  // namespace
}  // namespace sluice::gateway
