// The identity and access sections as `sluice gateway` reads them: good configs build policies,
// bad ones fail at load with file, line and key.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gateway/policies/identity/identity_policy.hpp"
#include "gateway/policies/identity/tests/test_keys.hpp"
#include "gateway/sha256.hpp"
#include "sluice/core/config.hpp"
#include "sluice/core/fake_clock.hpp"

namespace sluice::gateway::identity {
namespace {

// Reads the `policies:` entry `name` of `yaml` through the registry, as the gateway does.
PolicyPtr build(const std::string& yaml, const std::string& name = "identity") {
  PolicyRegistry registry;
  add_identity_policies(registry);
  static core::FakeClock clock;
  PolicyServices services;
  services.clock = &clock;
  auto root = core::load_config_string(yaml, "gateway.yaml");
  auto section = root.section("policies").section(name);
  auto policy = (*registry.find(name))(section, services);
  root.finish();
  return policy;
}

// The ConfigError's message (file:line:col: path: message), or "" when it loads.
std::string error_of(const std::string& yaml, const std::string& name = "identity") {
  try {
    build(yaml, name);
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kJwt = R"(policies:
  identity:
    jwt:
      issuers: ["https://sts.windows.net/{tid}/"]
      audiences: [https://cognitiveservices.azure.com]
      jwks_url: http://127.0.0.1:1/keys
)";

TEST(IdentitySettings, ReadsAFullSection) {
  auto policy = build(R"(policies:
  identity:
    jwt:
      issuers: ["https://sts.windows.net/{tid}/", "https://login.microsoftonline.com/{tid}/v2.0"]
      tenants: [00000000-0000-4000-8000-000000000001]
      audiences: [https://cognitiveservices.azure.com, "api://sluice"]
      jwks_url: http://127.0.0.1:1/keys
      algorithms: [RS256, ES256]
      clock_skew: 2m
      jwks_refresh_min_interval: 10s
      jwks_refresh_interval: 30m
      jwks_fetch_timeout: 2s
      max_token_size: 8KiB
      cache_size: 100
    api_keys:
      header: X-Api-Key
      keys:
        - {id: team-a, sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08, app_id: team-a-app, display_name: Team A, roles: [Inference.User]}
        - {id: team-b, key: another-secret}
    apps:
      11111111-1111-4111-8111-111111111111: {display_name: chat-frontend}
    required_roles: [Inference.User]
    required_roles_match: any
    required_claims: {idtyp: app, tid: [a, b]}
)");
  auto* identity = dynamic_cast<IdentityPolicy*>(policy.get());
  ASSERT_NE(identity, nullptr);
  const auto& s = identity->settings();
  ASSERT_TRUE(s.jwt);
  EXPECT_EQ(s.jwt->rules.issuers.size(), 2u);
  EXPECT_EQ(s.jwt->rules.clock_skew, std::chrono::minutes(2));
  EXPECT_EQ(s.jwt->algorithms,
            (std::vector<JwsAlgorithm>{JwsAlgorithm::kRS256, JwsAlgorithm::kES256}));
  EXPECT_EQ(s.jwt->max_token_size, 8192u);
  EXPECT_EQ(s.jwt->cache_size, 100u);
  EXPECT_EQ(s.jwt->jwks.refresh_min_interval, std::chrono::seconds(10));
  ASSERT_TRUE(s.api_keys);
  EXPECT_EQ(s.api_keys->header, "x-api-key");
  ASSERT_EQ(s.api_keys->keys.size(), 2u);
  EXPECT_EQ(s.api_keys->keys[0].sha256, sha256("test"));
  EXPECT_EQ(s.api_keys->keys[0].display_name, "Team A");
  EXPECT_EQ(s.api_keys->keys[1].sha256, sha256("another-secret"));
  EXPECT_EQ(s.api_keys->keys[1].app_id, "team-b");
  EXPECT_EQ(s.app_names.at("11111111-1111-4111-8111-111111111111"), "chat-frontend");
  EXPECT_TRUE(s.access.any_role);
  ASSERT_EQ(s.access.required_claims.size(), 2u);
  EXPECT_EQ(s.access.required_claims[1].second, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(identity->phase_order(), PhaseOrder::kIdentify);
}

// kJwt plus more keys of the jwt section. (Built with append: g++ 12 warns falsely on
// std::string + literal.)
std::string jwt_with(std::string_view more) {
  std::string yaml(kJwt);
  yaml.append(more);
  return yaml;
}

TEST(IdentitySettings, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of(jwt_with("      algorithms: [RS256, HS256]\n")).rfind("gateway.yaml:7:", 0),
            0u);
  EXPECT_NE(error_of(jwt_with("      algorithms: [RS256, HS256]\n")).find("HMAC"),
            std::string::npos);
  EXPECT_NE(error_of(jwt_with("      algorithms: [none]\n")).find("unsupported algorithm 'none'"),
            std::string::npos);
  auto typo = error_of(jwt_with("      clock_skw: 5m\n"));
  EXPECT_NE(typo.find("gateway.yaml:7"), std::string::npos) << typo;
  EXPECT_NE(typo.find("clock_skew"), std::string::npos) << typo;  // did you mean
  auto skew = error_of(jwt_with("      clock_skew: 2h\n"));
  EXPECT_NE(skew.find("policies.identity.jwt.clock_skew"), std::string::npos) << skew;
}

TEST(IdentitySettings, RefusesIncompleteOrContradictorySections) {
  struct Case {
    const char* yaml;
    const char* expected;
  } cases[] = {
      {"policies:\n  identity: {}\n", "needs `jwt`, `api_keys`"},
      {"policies:\n  identity:\n    jwt: {audiences: [a], jwks_url: http://x/k}\n", "issuers"},
      {"policies:\n  identity:\n    jwt: {issuers: [a], jwks_url: http://x/k}\n", "audiences"},
      {"policies:\n  identity:\n    jwt: {issuers: [a], audiences: []}\n", "list at least one"},
      {"policies:\n  identity:\n    jwt: {issuers: [a], audiences: [b]}\n",
       "exactly one of `jwks_url`"},
      {"policies:\n  identity:\n    jwt: {issuers: [a], audiences: [b], jwks_url: ftp://x/k}\n",
       "jwks_url"},
      {"policies:\n  identity:\n    jwt: {issuers: [a], audiences: [b], jwks_file: "
       "/nonexistent/jwks.json}\n",
       "jwks_file"},
      {"policies:\n  identity:\n    jwt: {issuers: [\"https://x/{tenant}/\"], audiences: [b], "
       "jwks_url: http://x/k}\n",
       "{tid}"},
      {"policies:\n  identity:\n    api_keys: {keys: [{id: a}]}\n", "exactly one of `sha256`"},
      {"policies:\n  identity:\n    api_keys: {keys: [{id: a, sha256: abc}]}\n", "64 hex digits"},
      {"policies:\n  identity:\n    api_keys: {keys: [{id: a, key: k1}, {id: a, key: k2}]}\n",
       "duplicate API key id"},
      {"policies:\n  identity:\n    api_keys: {keys: [{id: a, key: k1}, {id: b, key: k1}]}\n",
       "same key"},
      {"policies:\n  identity:\n    api_keys: {keys: []}\n", "at least one key"},
      {"policies:\n  identity:\n    api_keys: {keys: [{id: a, key: k}]}\n    required_roles_match: "
       "some\n",
       "required_roles_match"},
      {"policies:\n  identity:\n    jwt: {issuers: [a], audiences: [b], jwks_url: http://x/k}\n"
       "    allow_api_keys: true\n",
       "no `api_keys`"},
  };
  for (const auto& c : cases) {
    auto error = error_of(c.yaml);
    EXPECT_NE(error.find("gateway.yaml:"), std::string::npos) << c.yaml;
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.yaml << "\n→ " << error;
  }
}

TEST(IdentitySettings, ReadsAJwksFileAtLoad) {
  auto path = std::filesystem::temp_directory_path() / "sluice-identity-settings-jwks.json";
  auto key = testing::TestKey::rsa("file-key");
  std::ofstream(path) << testing::jwks_of({&key});
  EXPECT_EQ(error_of("policies:\n  identity:\n    jwt: {issuers: [a], audiences: [b], jwks_file: " +
                     path.string() + "}\n"),
            "");
  std::ofstream(path) << R"({"keys":[{"kty":"oct","k":"AAAA"}]})";
  auto error =
      error_of("policies:\n  identity:\n    jwt: {issuers: [a], audiences: [b], jwks_file: " +
               path.string() + "}\n");
  EXPECT_NE(error.find("no usable signing key"), std::string::npos) << error;
  std::filesystem::remove(path);
}

TEST(AccessSettings, ReadsRouteRules) {
  auto policy = build(
      "policies:\n  access: {allow_api_keys: false, required_roles: [Batch.Submit]}\n", "access");
  EXPECT_EQ(policy->phase_order(), PhaseOrder::kAuthorize);
  EXPECT_NE(
      error_of("policies:\n  access: {allow_api_key: false}\n", "access").find("allow_api_keys"),
      std::string::npos);
}

}  // namespace
}  // namespace sluice::gateway::identity
