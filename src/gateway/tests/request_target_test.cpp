#include <gtest/gtest.h>

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
