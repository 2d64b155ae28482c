#include "gateway/policies/identity/jwt.hpp"

#include <gtest/gtest.h>

#include "gateway/policies/identity/tests/test_keys.hpp"

namespace sluice::gateway::identity {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::b64url;
using testing::TestKey;

constexpr std::int64_t kNow = 1'704'067'200;
constexpr std::string_view kTenant = "00000000-0000-4000-8000-000000000001";
const std::vector<JwsAlgorithm> kRsOnly{JwsAlgorithm::kRS256};

const TestKey& key() {
  return testing::shared_rsa("rsa-1");
}

std::chrono::system_clock::time_point at(std::int64_t seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

ClaimRules entra_rules() {
  ClaimRules rules;
  rules.issuers = {"https://sts.windows.net/{tid}/",
                   "https://login.microsoftonline.com/{tid}/v2.0"};
  rules.audiences = {"https://cognitiveservices.azure.com", "api://sluice"};
  rules.clock_skew = 300s;
  return rules;
}

std::optional<RefusalReason> parse_reason(const std::string& token,
                                          const std::vector<JwsAlgorithm>& allowed = kRsOnly) {
  Jwt jwt;
  auto refusal = parse_jwt(token, allowed, 16 * 1024, jwt);
  if (!refusal) return std::nullopt;
  return refusal->reason;
}

std::optional<RefusalReason> claims_reason(const json::object& claims, std::int64_t now = kNow,
                                           ClaimRules rules = entra_rules()) {
  Jwt jwt;
  auto token = testing::token(key(), claims);
  if (auto refusal = parse_jwt(token, kRsOnly, 16 * 1024, jwt)) return refusal->reason;
  auto refusal = check_claims(jwt.claims, rules, at(now));
  if (!refusal) return std::nullopt;
  return refusal->reason;
}

TEST(ParseJwt, ReadsAnEntraV1Token) {
  auto claims = testing::v1_claims(kNow, kTenant, "app-1");
  claims["roles"] = json::array{"Inference.User", "Batch.Submit"};
  claims["scp"] = "a b";
  std::string token = testing::token(key(), claims);
  Jwt jwt;
  ASSERT_FALSE(parse_jwt(token, kRsOnly, 16 * 1024, jwt));
  EXPECT_EQ(jwt.algorithm, JwsAlgorithm::kRS256);
  EXPECT_EQ(jwt.kid, "rsa-1");
  EXPECT_EQ(jwt.signing_input, token.substr(0, token.rfind('.')));
  EXPECT_EQ(jwt.claims.iss, "https://sts.windows.net/" + std::string(kTenant) + "/");
  EXPECT_EQ(jwt.claims.aud, std::vector<std::string>{"https://cognitiveservices.azure.com"});
  EXPECT_EQ(jwt.claims.exp, kNow + 3600);
  EXPECT_EQ(jwt.claims.nbf, kNow - 300);
  EXPECT_EQ(jwt.claims.app_id(), "app-1");
  EXPECT_EQ(jwt.claims.roles, (std::vector<std::string>{"Inference.User", "Batch.Submit"}));
  EXPECT_EQ(jwt.claims.strings.at("oid"), "9a1c2f3e-0000-4000-8000-00000000000a");
  EXPECT_EQ(jwt.claims.strings.at("roles"), "Inference.User Batch.Submit");
  EXPECT_EQ(jwt.claims.strings.at("scp"), "a b");
  EXPECT_FALSE(check_claims(jwt.claims, entra_rules(), at(kNow)));
}

TEST(ParseJwt, V2TokensNameTheAppInAzp) {
  auto claims = testing::v2_claims(kNow, kTenant, "app-2");
  claims["appid"] = "not-this-one";  // v2 says azp is the app
  Jwt jwt;
  ASSERT_FALSE(parse_jwt(testing::token(key(), claims), kRsOnly, 16 * 1024, jwt));
  EXPECT_EQ(jwt.claims.app_id(), "app-2");
  EXPECT_FALSE(check_claims(jwt.claims, entra_rules(), at(kNow)));
}

TEST(ParseJwt, RefusesAlgNoneHmacAndUnconfiguredAlgorithms) {
  auto claims = testing::v1_claims(kNow, kTenant, "app");
  EXPECT_EQ(parse_reason(testing::unsigned_token({{"alg", "none"}}, claims)),
            RefusalReason::kAlgorithmNotAllowed);
  EXPECT_EQ(parse_reason(testing::unsigned_token({{"alg", "None"}}, claims) + "c2ln"),
            RefusalReason::kAlgorithmNotAllowed);
  EXPECT_EQ(parse_reason(testing::hs256_token(key().public_pem(),
                                              {{"alg", "HS256"}, {"kid", "rsa-1"}}, claims)),
            RefusalReason::kAlgorithmNotAllowed);
  auto es = TestKey::ec_p256("ec-1");
  EXPECT_EQ(parse_reason(testing::token(es, claims)), RefusalReason::kAlgorithmNotAllowed);
  EXPECT_EQ(parse_reason(testing::token(es, claims), {JwsAlgorithm::kES256}), std::nullopt);
}

TEST(ParseJwt, RefusesMalformedTokens) {
  auto claims = testing::v1_claims(kNow, kTenant, "app");
  std::string good = testing::token(key(), claims);
  auto dot1 = good.find('.');
  auto dot2 = good.find('.', dot1 + 1);
  for (const std::string& bad : {
           std::string(""),
           std::string("abc"),
           std::string("a.b"),
           good + ".x",
           good.substr(0, dot2),                                 // no signature part
           "." + good.substr(dot1 + 1),                          // no header
           good.substr(0, dot1) + ".." + good.substr(dot2 + 1),  // no payload
           good.substr(0, dot2 + 1),                             // empty signature
           good.substr(0, dot1) + "=" + good.substr(dot1),       // padding
           "e30." + good.substr(dot1 + 1),                       // header {} (no alg)
           b64url("[1]") + good.substr(dot1),                    // header not an object
           b64url("{\"alg\":RS256}") + good.substr(dot1),        // not JSON
           b64url(R"({"alg":"RS256","alg":"none"})") + good.substr(dot1),
           b64url(R"({"alg":"RS256","crit":["exp"]})") + good.substr(dot1),
           b64url(R"({"alg":"RS256","kid":7})") + good.substr(dot1),
       }) {
    EXPECT_EQ(parse_reason(bad), RefusalReason::kMalformedToken) << bad.substr(0, 60);
  }
  json::object no_exp = claims;
  no_exp.erase("exp");
  EXPECT_EQ(parse_reason(testing::token(key(), no_exp)), RefusalReason::kMalformedToken);
  for (const char* name : {"exp", "nbf"}) {
    json::object bad = claims;
    bad[name] = "soon";
    EXPECT_EQ(parse_reason(testing::token(key(), bad)), RefusalReason::kMalformedToken) << name;
  }
  for (const char* name : {"iss", "tid", "appid", "azp", "ver"}) {
    json::object bad = claims;
    bad[name] = 42;
    EXPECT_EQ(parse_reason(testing::token(key(), bad)), RefusalReason::kMalformedToken) << name;
  }
  json::object bad_roles = claims;
  bad_roles["roles"] = "Inference.User";
  EXPECT_EQ(parse_reason(testing::token(key(), bad_roles)), RefusalReason::kMalformedToken);
  json::object bad_aud = claims;
  bad_aud["aud"] = json::array{"a", 1};
  EXPECT_EQ(parse_reason(testing::token(key(), bad_aud)), RefusalReason::kMalformedToken);
  // A duplicated claim in the payload.
  std::string dup = good.substr(0, dot1) + "." + b64url(R"({"exp":1,"exp":9999999999,"aud":"x"})") +
                    good.substr(dot2);
  EXPECT_EQ(parse_reason(dup), RefusalReason::kMalformedToken);
}

TEST(ParseJwt, RefusesOversizeTokens) {
  auto claims = testing::v1_claims(kNow, kTenant, "app");
  claims["padding"] = std::string(20'000, 'x');
  EXPECT_EQ(parse_reason(testing::token(key(), claims)), RefusalReason::kTokenTooLarge);
}

TEST(CheckClaims, ExpiryAndNotBeforeHonourTheSkew) {
  auto claims = testing::v1_claims(kNow, kTenant, "app");  // nbf now-300, exp now+3600
  EXPECT_EQ(claims_reason(claims, kNow + 3600 + 299), std::nullopt);
  EXPECT_EQ(claims_reason(claims, kNow + 3600 + 300), RefusalReason::kExpired);
  claims["nbf"] = kNow + 600;
  EXPECT_EQ(claims_reason(claims, kNow), RefusalReason::kNotYetValid);
  EXPECT_EQ(claims_reason(claims, kNow + 300), std::nullopt);
  claims["nbf"] = 1.7e9;  // NumericDate may be fractional
  claims["exp"] = static_cast<double>(kNow) + 10.5;
  EXPECT_EQ(claims_reason(claims, kNow), std::nullopt);
}

TEST(CheckClaims, IssuerMustMatchWithTheTokensTenant) {
  auto claims = testing::v1_claims(kNow, kTenant, "app");
  claims["iss"] = "https://sts.windows.net/11111111-1111-4111-8111-111111111111/";
  EXPECT_EQ(claims_reason(claims), RefusalReason::kWrongIssuer);
  claims["iss"] = "https://evil.example/" + std::string(kTenant) + "/";
  EXPECT_EQ(claims_reason(claims), RefusalReason::kWrongIssuer);
  claims.erase("tid");
  claims["iss"] = "https://sts.windows.net//";
  EXPECT_EQ(claims_reason(claims), RefusalReason::kWrongIssuer);
}

TEST(CheckClaims, TenantsRestrictTid) {
  auto rules = entra_rules();
  rules.tenants = {"00000000-0000-4000-8000-000000000002"};
  EXPECT_EQ(claims_reason(testing::v1_claims(kNow, kTenant, "app"), kNow, rules),
            RefusalReason::kWrongTenant);
  rules.tenants.push_back(std::string(kTenant));
  EXPECT_EQ(claims_reason(testing::v1_claims(kNow, kTenant, "app"), kNow, rules), std::nullopt);
}

TEST(CheckClaims, AudienceMustBeOneOfTheConfigured) {
  auto claims = testing::v2_claims(kNow, kTenant, "app");
  claims["aud"] = "https://management.azure.com";
  EXPECT_EQ(claims_reason(claims), RefusalReason::kWrongAudience);
  claims["aud"] = "https://cognitiveservices.azure.com/";  // trailing slash, as v1 may send
  EXPECT_EQ(claims_reason(claims), std::nullopt);
  claims["aud"] = json::array{"https://other", "api://sluice"};
  EXPECT_EQ(claims_reason(claims), std::nullopt);
  claims["aud"] = json::array{};
  EXPECT_EQ(claims_reason(claims), RefusalReason::kWrongAudience);
}

TEST(CheckClaims, AnAppIdIsRequired) {
  auto claims = testing::v2_claims(kNow, kTenant, "app");
  claims.erase("azp");
  claims["appid"] = "v1-name-in-a-v2-token";
  EXPECT_EQ(claims_reason(claims), RefusalReason::kMissingAppId);
}

}  // namespace
}  // namespace sluice::gateway::identity
