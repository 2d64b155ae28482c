#include "gateway/policies/cache/request_key.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice::gateway::cache {
namespace {

std::string normalised(std::string_view body, KeyFields fields = {}) {
  return normalised_body(boost::json::parse(body).as_object(), fields);
}

TEST(NormalisedBody, KeyOrderAndWhitespaceDoNotMatter) {
  auto a = normalised(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],
                          "temperature":0})");
  auto b = normalised(R"({ "temperature" : 0, "messages" : [ {"content":"hi", "role":"user"} ],
                          "model" : "gpt-4o" })");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, R"({"messages":[{"content":"hi","role":"user"}],"model":"gpt-4o","temperature":0})");
}

TEST(NormalisedBody, StreamOptionsAndUserAreLeftOut) {
  auto plain = normalised(R"({"messages":[],"temperature":0})");
  EXPECT_EQ(plain, normalised(R"({"messages":[],"temperature":0,"stream":true,
                                  "stream_options":{"include_usage":true},"user":"u-1"})"));
}

TEST(NormalisedBody, NumbersAreWrittenOneWay) {
  EXPECT_EQ(normalised(R"({"temperature":0})"), normalised(R"({"temperature":0.0})"));
  EXPECT_EQ(normalised(R"({"max_tokens":100})"), normalised(R"({"max_tokens":1e2})"));
  EXPECT_NE(normalised(R"({"temperature":0.5})"), normalised(R"({"temperature":0.25})"));
  // Large integers stay exact: two seeds that differ in their last digit are two requests.
  EXPECT_NE(normalised(R"({"seed":9007199254740993})"), normalised(R"({"seed":9007199254740992})"));
}

TEST(NormalisedBody, ArrayOrderAndContentMatter) {
  EXPECT_NE(normalised(R"({"messages":[{"content":"a"},{"content":"b"}]})"),
            normalised(R"({"messages":[{"content":"b"},{"content":"a"}]})"));
  EXPECT_NE(normalised(R"({"messages":[{"content":"hi"}]})"),
            normalised(R"({"messages":[{"content":"hi "}]})"));
}

TEST(NormalisedBody, ConfiguredFields) {
  KeyFields ignore{{"metadata"}, {}};
  EXPECT_EQ(normalised(R"({"messages":[],"metadata":{"a":1}})", ignore),
            normalised(R"({"messages":[],"metadata":{"a":2}})", ignore));
  KeyFields match{{}, {"messages"}};
  EXPECT_EQ(normalised(R"({"messages":[1],"max_tokens":5})", match),
            normalised(R"({"messages":[1],"max_tokens":9})", match));
  EXPECT_NE(normalised(R"({"messages":[1]})", match), normalised(R"({"messages":[2]})", match));
}

TEST(RequestKey, EveryPartCounts) {
  KeyParts base{"route", "gpt-4o", "chat/completions", "app-a", "{}"};
  auto key = request_key(base);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key, request_key(base));
  auto other_partition = base;
  other_partition.partition = "app-b";
  EXPECT_NE(key, request_key(other_partition));
  auto other_deployment = base;
  other_deployment.deployment = "gpt-4o-mini";
  EXPECT_NE(key, request_key(other_deployment));
  auto other_route = base;
  other_route.route = "other";
  EXPECT_NE(key, request_key(other_route));
  // Parts are length-prefixed: moving a character from one part to the next changes the key.
  KeyParts shifted{"route", "gpt-4o", "chat/completions", "app-", "a{}"};
  EXPECT_NE(request_key(KeyParts{"route", "gpt-4o", "chat/completions", "app-a", "{}"}),
            request_key(shifted));
}

}  // namespace
}  // namespace sluice::gateway::cache
