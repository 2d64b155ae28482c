#include "gateway/policies/identity/presented_credential.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace sluice::gateway::identity {
namespace {

using Kind = PresentedCredential::Kind;

constexpr std::string_view kJwt =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.eyJhcHBpZCI6ImEifQ.c2lnbmF0dXJlLWJ5dGVz";

http::Request request_with(const std::vector<std::pair<std::string, std::string>>& headers) {
  http::Request request{http::bhttp::verb::post, "/openai/v1/chat/completions", 11};
  for (const auto& [name, value] : headers) request.set(name, value);
  return request;
}

PresentedCredential find(const std::vector<std::pair<std::string, std::string>>& headers,
                         CredentialSources sources, http::Request& keep) {
  keep = request_with(headers);
  return find_credential(keep, sources);
}

constexpr CredentialSources kKeysAndJwt{.api_keys = true, .jwt = true};
constexpr CredentialSources kKeysOnly{.api_keys = true, .jwt = false};
constexpr CredentialSources kJwtOnly{.api_keys = false, .jwt = true};

TEST(PresentedCredential, AKeyIsTakenFromEitherPlaceSoBothSdkClassesPass) {
  http::Request r;
  // AzureOpenAI({apiKey}) sends api-key; OpenAI({apiKey}) sends Authorization: Bearer.
  auto azure = find({{"api-key", "team-key-1"}}, kKeysAndJwt, r);
  EXPECT_EQ(azure.kind, Kind::kApiKey);
  EXPECT_EQ(azure.value, "team-key-1");
  auto openai = find({{"Authorization", "Bearer team-key-1"}}, kKeysAndJwt, r);
  EXPECT_EQ(openai.kind, Kind::kApiKey);
  EXPECT_EQ(openai.value, "team-key-1");
  EXPECT_EQ(find({{"Authorization", "Bearer sk-proj-abc.def"}}, kKeysOnly, r).kind, Kind::kApiKey);
}

TEST(PresentedCredential, AJwtShapedBearerGoesToJwtValidationWhenJwtIsConfigured) {
  http::Request r;
  auto token = find({{"Authorization", "Bearer " + std::string(kJwt)}}, kKeysAndJwt, r);
  EXPECT_EQ(token.kind, Kind::kBearerToken);
  EXPECT_EQ(token.value, kJwt);
  // Without a jwt section the same value can only be a (wrong) key.
  EXPECT_EQ(find({{"Authorization", "Bearer " + std::string(kJwt)}}, kKeysOnly, r).kind,
            Kind::kApiKey);
  // Without api keys every bearer is a token, to be refused as malformed if it is not one.
  EXPECT_EQ(find({{"Authorization", "Bearer not-a-jwt"}}, kJwtOnly, r).kind, Kind::kBearerToken);
}

TEST(PresentedCredential, TheKeyHeaderWinsOverAuthorization) {
  http::Request r;
  auto both =
      find({{"api-key", "k"}, {"Authorization", "Bearer " + std::string(kJwt)}}, kKeysAndJwt, r);
  EXPECT_EQ(both.kind, Kind::kApiKey);
  EXPECT_EQ(both.value, "k");
  // No api_keys configured: an api-key header is not a credential at all.
  EXPECT_EQ(find({{"api-key", "k"}}, kJwtOnly, r).kind, Kind::kNone);
}

TEST(PresentedCredential, AnExplicitHeaderSettingKeepsWorking) {
  http::Request r;
  CredentialSources custom{.api_keys = true, .jwt = false, .key_header = "x-team-key"};
  EXPECT_EQ(find({{"X-Team-Key", "k"}}, custom, r).kind, Kind::kApiKey);
  EXPECT_EQ(find({{"api-key", "k"}}, custom, r).kind, Kind::kNone);
  EXPECT_EQ(find({{"Authorization", "Bearer k"}}, custom, r).kind, Kind::kApiKey);
  // `header: authorization`: keys only as bearer values, as before.
  CredentialSources authorization{.api_keys = true, .jwt = true, .key_header = "authorization"};
  EXPECT_EQ(find({{"api-key", "k"}}, authorization, r).kind, Kind::kNone);
  EXPECT_EQ(find({{"Authorization", "Bearer k"}}, authorization, r).kind, Kind::kApiKey);
  EXPECT_EQ(find({{"Authorization", "Bearer " + std::string(kJwt)}}, authorization, r).kind,
            Kind::kBearerToken);
}

TEST(PresentedCredential, UnusableAuthorizationHeadersSayWhy) {
  http::Request r;
  EXPECT_EQ(find({}, kKeysAndJwt, r).kind, Kind::kNone);
  EXPECT_EQ(find({{"Authorization", "Bearer "}}, kKeysAndJwt, r).kind, Kind::kEmptyBearer);
  EXPECT_EQ(find({{"Authorization", "Bearer"}}, kKeysAndJwt, r).kind, Kind::kEmptyBearer);
  EXPECT_EQ(find({{"Authorization", "bearer    "}}, kKeysAndJwt, r).kind, Kind::kEmptyBearer);
  EXPECT_EQ(find({{"Authorization", "Basic dXNlcjpwYXNz"}}, kKeysAndJwt, r).kind,
            Kind::kOtherScheme);
  EXPECT_EQ(find({{"Authorization", "Bearerx abc"}}, kKeysAndJwt, r).kind, Kind::kOtherScheme);
  // The scheme is case-insensitive; surrounding spaces are not part of the credential.
  auto spaced = find({{"Authorization", "BEARER  key-1 "}}, kKeysOnly, r);
  EXPECT_EQ(spaced.kind, Kind::kApiKey);
  EXPECT_EQ(spaced.value, "key-1");
}

TEST(PresentedCredential, JwtShape) {
  EXPECT_TRUE(looks_like_jwt(kJwt));
  EXPECT_TRUE(looks_like_jwt("aGVhZA.cGF5bG9hZA."));  // alg none: empty signature
  EXPECT_FALSE(looks_like_jwt("abc"));
  EXPECT_FALSE(looks_like_jwt("a.b"));
  EXPECT_FALSE(looks_like_jwt("a.b.c.d"));
  EXPECT_FALSE(looks_like_jwt(".b.c"));
  EXPECT_FALSE(looks_like_jwt("a..c"));
  EXPECT_FALSE(looks_like_jwt("a+b.c/d.e="));  // base64 with padding, not base64url
  EXPECT_FALSE(looks_like_jwt("key with.two.dots"));
  EXPECT_FALSE(looks_like_jwt(""));
}

// The block scan must judge every byte value at every position of a long token as the
// definition does: one byte swapped into an otherwise valid token, at each of the positions
// that fall in a 16-byte block, in a block's tail and in the scalar remainder.
TEST(PresentedCredential, JwtShapeJudgesEveryByteAnywhere) {
  std::string token(40, 'a');
  token += '.';
  token += std::string(37, 'Z');
  token += '.';
  token += std::string(21, '9');
  ASSERT_TRUE(looks_like_jwt(token));
  auto base64url = [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  };
  for (std::size_t at = 0; at < token.size(); ++at) {
    if (token[at] == '.') continue;
    for (int value = 0; value < 256; ++value) {
      std::string changed = token;
      changed[at] = static_cast<char>(value);
      // A third dot is never a JWT either.
      ASSERT_EQ(looks_like_jwt(changed), base64url(static_cast<unsigned char>(value)))
          << "byte " << value << " at " << at;
    }
  }
}

}  // namespace
}  // namespace sluice::gateway::identity
