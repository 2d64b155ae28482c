// The identity and access policies on whole requests: credentials in, identity or an Azure-shaped
// refusal out. Keys come from a JWKS file or a JWKS served over HTTP by the test itself; time is a
// FakeClock, so expiry and refresh rate limits are exact.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

#include "gateway/policies/identity/identity_policy.hpp"
#include "gateway/policies/identity/tests/fake_exchange.hpp"
#include "gateway/policies/identity/tests/test_keys.hpp"
#include "sluice/core/config.hpp"
#include "sluice/core/fake_clock.hpp"
#include "sluice/core/logging.hpp"
#include "sluice/http/server.hpp"

namespace sluice::gateway::identity {
namespace {

namespace asio = http::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::FakeExchange;
using testing::TestKey;

constexpr std::string_view kTenant = "00000000-0000-4000-8000-000000000001";
constexpr std::string_view kApp = "11111111-1111-4111-8111-111111111111";

const TestKey& rsa1() {
  return testing::shared_rsa("rsa-1");
}
const TestKey& rsa2() {
  return testing::shared_rsa("rsa-2");
}
const TestKey& ec1() {
  return testing::shared_ec("ec-1");
}

// A JWKS endpoint whose document and health the test changes.
class JwksServer {
 public:
  JwksServer() {
    http::ServerSettings settings;
    settings.port = 0;
    server_ =
        std::make_unique<http::Server>(settings, [this](http::Exchange& ex) -> http::Task<void> {
          std::string body;
          bool up;
          {
            std::lock_guard lock(mutex_);
            body = document_;
            up = up_;
            ++fetches_;
          }
          http::Response response{up ? http::Status::ok : http::Status::internal_server_error, 11};
          response.set(http::Field::content_type, "application/json");
          response.body() = up ? body : "oops";
          response.prepare_payload();
          co_await ex.send(std::move(response));
        });
    server_->start();
  }
  ~JwksServer() {
    server_->shutdown(0ms);
    server_->join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/keys";
  }
  void serve(const std::vector<const TestKey*>& keys) {
    std::lock_guard lock(mutex_);
    document_ = testing::jwks_of(keys);
  }
  void set_up(bool up) {
    std::lock_guard lock(mutex_);
    up_ = up;
  }
  int fetches() {
    std::lock_guard lock(mutex_);
    return fetches_;
  }

 private:
  std::unique_ptr<http::Server> server_;
  std::mutex mutex_;
  std::string document_;
  bool up_ = true;
  int fetches_ = 0;
};

std::uint64_t refusals(RefusalReason reason) {
  return identity_stats().refusals[static_cast<std::size_t>(reason)].load();
}

class IdentityPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    jwks_file_ = std::filesystem::temp_directory_path() /
                 ("sluice-identity-policy-" + std::to_string(::getpid()) + ".json");
    write_jwks({&rsa1(), &ec1()});
  }
  void TearDown() override { std::filesystem::remove(jwks_file_); }

  void write_jwks(const std::vector<const TestKey*>& keys) {
    std::ofstream(jwks_file_) << testing::jwks_of(keys);
  }

  // Builds a policy from YAML under `policies:` (`name` is identity or access).
  PolicyPtr make(const std::string& section_yaml, const std::string& name = "identity") {
    PolicyRegistry registry;
    add_identity_policies(registry);
    PolicyServices services;
    services.clock = &clock_;
    auto root =
        core::load_config_string("policies:\n  " + name + ":\n" + section_yaml, "test.yaml");
    auto policy = (*registry.find(name))(root.section("policies").section(name), services);
    root.finish();
    return policy;
  }

  std::string jwt_section(const std::string& jwks_source, const std::string& extra = "") {
    return "    jwt:\n"
           "      issuers: [\"https://sts.windows.net/{tid}/\", "
           "\"https://login.microsoftonline.com/{tid}/v2.0\"]\n"
           "      audiences: [https://cognitiveservices.azure.com, \"api://sluice\"]\n"
           "      algorithms: [RS256, ES256]\n"
           "      jwks_refresh_min_interval: 30s\n" +
           jwks_source + extra;
  }
  std::string file_source() { return "      jwks_file: " + jwks_file_.string() + "\n"; }
  PolicyPtr jwt_policy(const std::string& more = "") {
    return make(jwt_section(file_source()) + more);
  }

  struct Outcome {
    std::optional<http::Response> response;
    Identity identity;
    std::string error_code;
    unsigned status() const { return response ? response->result_int() : 200; }
    std::string code() const {
      if (!response) return "";
      return json::value_to<std::string>(json::parse(response->body()).at("error").at("code"));
    }
    std::string message() const {
      if (!response) return "";
      return json::value_to<std::string>(json::parse(response->body()).at("error").at("message"));
    }
  };

  // Runs `policies` in order on a request with `headers`, like the proxy's access phase.
  Outcome run(const std::vector<PolicyPtr>& policies,
              const std::vector<std::pair<std::string, std::string>>& headers,
              http::Request* upstream = nullptr) {
    http::Request request{http::bhttp::verb::post,
                          "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", 11};
    for (const auto& [name, value] : headers) request.set(name, value);
    FakeExchange exchange(io_, std::move(request));
    RequestContext context(exchange, "req-1");
    context.client_ip = exchange.client_address();
    Outcome outcome;
    asio::co_spawn(
        io_,
        [&]() -> http::Task<void> {
          for (const auto& policy : policies) {
            outcome.response = co_await policy->on_request(context);
            if (outcome.response) break;
          }
        },
        asio::detached);
    io_.restart();
    io_.run();
    if (upstream) {
      http::ExtraFields extra;
      for (const auto& policy : policies) policy->on_upstream(context, *upstream, extra);
    }
    outcome.identity = context.identity();
    outcome.error_code = context.error_code;
    return outcome;
  }
  Outcome bearer(const PolicyPtr& policy, const std::string& token) {
    return run({policy}, {{"Authorization", "Bearer " + token}});
  }

  std::int64_t now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.system_now().time_since_epoch())
        .count();
  }
  json::object v1() const { return testing::v1_claims(now(), kTenant, kApp); }
  json::object v2() const { return testing::v2_claims(now(), kTenant, kApp); }

  core::FakeClock clock_;
  asio::io_context io_;
  std::filesystem::path jwks_file_;
};

TEST_F(IdentityPolicyTest, AcceptsV1AndV2TokensAndResolvesTheApp) {
  auto policy =
      jwt_policy("    apps:\n      \"" + std::string(kApp) + "\": {display_name: chat-frontend}\n");
  auto claims = v1();
  claims["roles"] = json::array{"Inference.User"};
  auto outcome = bearer(policy, testing::token(rsa1(), claims));
  ASSERT_EQ(outcome.status(), 200u) << outcome.message();
  EXPECT_EQ(outcome.identity.kind, IdentityKind::kJwt);
  EXPECT_EQ(outcome.identity.app_id, kApp);
  EXPECT_EQ(outcome.identity.display_name, "chat-frontend");
  EXPECT_EQ(outcome.identity.tenant, kTenant);
  EXPECT_EQ(outcome.identity.roles, std::vector<std::string>{"Inference.User"});
  EXPECT_EQ(outcome.identity.claims.at("idtyp"), "app");
  EXPECT_TRUE(outcome.identity.key_id.empty());

  auto v2_outcome = bearer(policy, testing::token(rsa1(), v2()));
  ASSERT_EQ(v2_outcome.status(), 200u) << v2_outcome.message();
  EXPECT_EQ(v2_outcome.identity.app_id, kApp);

  auto es = bearer(policy, testing::token(ec1(), v2()));
  EXPECT_EQ(es.status(), 200u) << es.message();
}

TEST_F(IdentityPolicyTest, RepeatedTokensAreServedFromTheCache) {
  auto policy = jwt_policy();
  auto token = testing::token(rsa1(), v1());
  auto hits = identity_stats().jwt_cache_hits.load();
  ASSERT_EQ(bearer(policy, token).status(), 200u);
  EXPECT_EQ(identity_stats().jwt_cache_hits.load(), hits);
  for (int i = 0; i < 3; ++i) {
    auto again = bearer(policy, token);
    ASSERT_EQ(again.status(), 200u);
    EXPECT_EQ(again.identity.app_id, kApp);
  }
  EXPECT_EQ(identity_stats().jwt_cache_hits.load(), hits + 3);
  // With the cache off, nothing is served from it.
  auto uncached = make(jwt_section(file_source(), "      cache_size: 0\n"));
  ASSERT_EQ(bearer(uncached, token).status(), 200u);
  ASSERT_EQ(bearer(uncached, token).status(), 200u);
  EXPECT_EQ(identity_stats().jwt_cache_hits.load(), hits + 3);
}

TEST_F(IdentityPolicyTest, ExpiredTokensAreRefusedEvenWhenCached) {
  auto policy = jwt_policy();
  auto token = testing::token(rsa1(), v1());  // exp = now + 1h, skew 5m
  ASSERT_EQ(bearer(policy, token).status(), 200u);
  clock_.advance(3600s + 299s);
  ASSERT_EQ(bearer(policy, token).status(), 200u);
  auto before = refusals(RefusalReason::kExpired);
  clock_.advance(1s);
  auto outcome = bearer(policy, token);
  EXPECT_EQ(outcome.status(), 401u);
  EXPECT_EQ(outcome.error_code, "expired");
  EXPECT_EQ(refusals(RefusalReason::kExpired), before + 1);
  EXPECT_EQ(outcome.response->at(http::Field::www_authenticate), "Bearer error=\"invalid_token\"");
  EXPECT_EQ(outcome.code(), "401");
  EXPECT_EQ(outcome.message(),
            "Unauthorized. Access token is missing, invalid, audience is incorrect "
            "(https://cognitiveservices.azure.com), or have expired.");
}

TEST_F(IdentityPolicyTest, RefusesTokensThatAreNotYetValidOrForSomeoneElse) {
  auto policy = jwt_policy();
  auto early = v1();
  early["nbf"] = now() + 600;
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), early)).error_code, "not_yet_valid");
  auto audience = v1();
  audience["aud"] = "https://management.azure.com";
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), audience)).error_code, "wrong_audience");
  auto issuer = v2();
  issuer["iss"] = "https://login.microsoftonline.com/" + std::string(kTenant) + "/v2.1";
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), issuer)).error_code, "wrong_issuer");
  auto no_app = v2();
  no_app.erase("azp");
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), no_app)).error_code, "missing_app_id");
}

TEST_F(IdentityPolicyTest, RefusesATamperedPayloadEvenAfterTheOriginalWasCached) {
  auto policy = jwt_policy();
  auto token = testing::token(rsa1(), v1());
  ASSERT_EQ(bearer(policy, token).status(), 200u);
  auto claims = v1();
  claims["roles"] = json::array{"Admin"};
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  std::string forged = token.substr(0, first) + "." + testing::b64url(json::serialize(claims)) +
                       token.substr(second);
  auto outcome = bearer(policy, forged);
  EXPECT_EQ(outcome.status(), 401u);
  EXPECT_EQ(outcome.error_code, "bad_signature");
  // A flipped signature byte, too.
  std::string flipped = token;
  flipped[second + 5] = flipped[second + 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(bearer(policy, flipped).error_code, "bad_signature");

  // A forgery of the cached token's exact length with its signature: the cache hashes only a
  // token's tail, so this one lands in the same bucket and must still miss.
  auto reader = v1();
  reader["roles"] = json::array{"Reader"};
  auto signed_token = testing::token(rsa1(), reader);
  ASSERT_EQ(bearer(policy, signed_token).status(), 200u);
  auto writer = reader;
  writer["roles"] = json::array{"Writer"};
  auto dot = signed_token.find('.');
  auto signature = signed_token.find('.', dot + 1);
  std::string same_length = signed_token.substr(0, dot) + "." +
                            testing::b64url(json::serialize(writer)) +
                            signed_token.substr(signature);
  ASSERT_EQ(same_length.size(), signed_token.size());
  EXPECT_EQ(bearer(policy, same_length).error_code, "bad_signature");
}

TEST_F(IdentityPolicyTest, RefusesAlgNoneAndHmacWithThePublicKey) {
  auto policy = jwt_policy();
  json::object none_header{{"alg", "none"}, {"typ", "JWT"}};
  EXPECT_EQ(bearer(policy, testing::unsigned_token(none_header, v1())).error_code,
            "algorithm_not_allowed");
  json::object hs_header{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "rsa-1"}};
  for (const std::string& secret : {rsa1().public_pem(), json::serialize(rsa1().jwk()),
                                    std::string(rsa1().jwk().at("n").as_string().c_str())}) {
    auto outcome = bearer(policy, testing::hs256_token(secret, hs_header, v1()));
    EXPECT_EQ(outcome.status(), 401u);
    EXPECT_EQ(outcome.error_code, "algorithm_not_allowed");
  }
  // An RSA token whose header claims ES256 does not verify with the RSA key.
  json::object lying{{"alg", "ES256"}, {"kid", "rsa-1"}};
  EXPECT_EQ(bearer(policy, testing::sign_token(rsa1(), lying, v1())).error_code,
            "algorithm_not_allowed");
}

TEST_F(IdentityPolicyTest, UnknownOrMissingKid) {
  auto policy = jwt_policy();
  auto outcome = bearer(policy, testing::token(rsa2(), v1()));
  EXPECT_EQ(outcome.error_code, "unknown_kid");
  json::object no_kid{{"alg", "RS256"}, {"typ", "JWT"}};
  EXPECT_EQ(bearer(policy, testing::sign_token(rsa1(), no_kid, v1())).error_code, "kid_missing");
  // With a single key in the set, a token without kid is checked against it.
  write_jwks({&rsa1()});
  auto single = jwt_policy();
  EXPECT_EQ(bearer(single, testing::sign_token(rsa1(), no_kid, v1())).status(), 200u);
}

TEST_F(IdentityPolicyTest, AJwksFileIsReReadForANewKidAtMostOncePerInterval) {
  auto policy = jwt_policy();
  auto token = testing::token(rsa2(), v1());
  EXPECT_EQ(bearer(policy, token).error_code, "unknown_kid");  // re-read now: still absent
  write_jwks({&rsa1(), &rsa2()});
  EXPECT_EQ(bearer(policy, token).error_code, "unknown_kid");  // within the interval
  clock_.advance(30s);
  EXPECT_EQ(bearer(policy, token).status(), 200u);
}

TEST_F(IdentityPolicyTest, MissingOrUnusableCredentials) {
  auto policy = jwt_policy();
  auto before = refusals(RefusalReason::kMissingCredentials);
  auto none = run({policy}, {});
  EXPECT_EQ(none.status(), 401u);
  EXPECT_EQ(none.code(), "401");
  EXPECT_NE(none.message().find("missing subscription key"), std::string::npos);
  EXPECT_EQ(none.response->at(http::Field::www_authenticate), "Bearer");
  EXPECT_EQ(run({policy}, {{"Authorization", "Basic dXNlcjpwYXNz"}}).error_code,
            "missing_credentials");
  EXPECT_EQ(run({policy}, {{"Authorization", "Bearer "}}).error_code, "missing_credentials");
  EXPECT_EQ(refusals(RefusalReason::kMissingCredentials), before + 3);
  EXPECT_EQ(bearer(policy, "not-a-jwt").error_code, "malformed_token");
  EXPECT_EQ(bearer(policy, std::string(20'000, 'a') + ".b.c").error_code, "token_too_large");
  // The scheme is case-insensitive.
  EXPECT_EQ(run({policy}, {{"Authorization", "bearer " + testing::token(rsa1(), v1())}}).status(),
            200u);
}

TEST_F(IdentityPolicyTest, AnonymousCallersPassWhenAllowed) {
  auto policy = make("    api_keys: {keys: [{id: k, key: some-key}]}\n    allow_anonymous: true\n");
  auto outcome = run({policy}, {});
  EXPECT_EQ(outcome.status(), 200u);
  EXPECT_EQ(outcome.identity.kind, IdentityKind::kAnonymous);
  // A route's access policy can still insist on credentials.
  EXPECT_EQ(run({policy, make("    {}\n", "access")}, {}).status(), 401u);
}

TEST_F(IdentityPolicyTest, ApiKeysResolveToTheirAppAndBadKeysAreRefused) {
  auto policy = make(
      "    api_keys:\n"
      "      keys:\n"
      "        - {id: team-a-key, key: team-a-secret-0001, app_id: team-a, display_name: Team A,"
      " roles: [Inference.User]}\n"
      "        - {id: team-b-key, sha256: " +
      std::string("2d4e1b2f9d3b3ac5c2cd4e3a5d1fdb5a5e7de2df1b1b6a0b2c1f3ba4d2e1a0f9") + "}\n");
  auto good = run({policy}, {{"api-key", "team-a-secret-0001"}});
  ASSERT_EQ(good.status(), 200u);
  EXPECT_EQ(good.identity.kind, IdentityKind::kApiKey);
  EXPECT_EQ(good.identity.app_id, "team-a");
  EXPECT_EQ(good.identity.display_name, "Team A");
  EXPECT_EQ(good.identity.key_id, "team-a-key");
  EXPECT_EQ(good.identity.roles, std::vector<std::string>{"Inference.User"});

  auto before = refusals(RefusalReason::kInvalidApiKey);
  auto bad = run({policy}, {{"api-key", "team-a-secret-0002"}});
  EXPECT_EQ(bad.status(), 401u);
  EXPECT_EQ(bad.error_code, "invalid_api_key");
  EXPECT_EQ(bad.code(), "401");
  EXPECT_EQ(bad.message().rfind("Access denied due to invalid subscription key", 0), 0u);
  EXPECT_EQ(refusals(RefusalReason::kInvalidApiKey), before + 1);
  // Keys are looked up by hash only: the digest itself is not a key.
  EXPECT_EQ(run({policy},
                {{"api-key", "2d4e1b2f9d3b3ac5c2cd4e3a5d1fdb5a5e7de2df1b1b6a0b2c1f3ba4d2e1a0f9"}})
                .error_code,
            "invalid_api_key");
}

TEST_F(IdentityPolicyTest, KeysInAuthorizationAndACustomHeader) {
  auto policy =
      make(jwt_section(file_source()) +
           "    api_keys: {header: authorization, keys: [{id: k1, key: openai-style-key}]}\n");
  auto key = run({policy}, {{"Authorization", "Bearer openai-style-key"}});
  EXPECT_EQ(key.status(), 200u);
  EXPECT_EQ(key.identity.key_id, "k1");
  EXPECT_EQ(run({policy}, {{"Authorization", "Bearer wrong-key"}}).error_code, "invalid_api_key");
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), v1())).identity.kind, IdentityKind::kJwt);

  auto custom =
      make("    api_keys: {header: X-Team-Key, keys: [{id: k1, key: custom-header-key}]}\n");
  http::Request upstream{http::bhttp::verb::post, "/", 11};
  upstream.set("x-team-key", "custom-header-key");
  auto outcome = run({custom}, {{"X-Team-Key", "custom-header-key"}}, &upstream);
  EXPECT_EQ(outcome.status(), 200u);
  EXPECT_EQ(upstream.find("x-team-key"), upstream.end()) << "the client's key must not go upstream";
  // What a backend's own auth put in the request stays.
  http::Request to_backend{http::bhttp::verb::post, "/", 11};
  to_backend.set("api-key", "backend-key");
  to_backend.set("x-team-key", "backend-team-key");
  auto default_header = make("    api_keys: {keys: [{id: k1, key: default-header-key}]}\n");
  ASSERT_EQ(run({default_header}, {{"api-key", "default-header-key"}}, &to_backend).status(), 200u);
  ASSERT_EQ(run({custom}, {{"X-Team-Key", "custom-header-key"}}, &to_backend).status(), 200u);
  EXPECT_EQ(to_backend.at("api-key"), "backend-key");
  EXPECT_EQ(to_backend.at("x-team-key"), "backend-team-key");
}

TEST_F(IdentityPolicyTest, OneSectionServesAzureOpenAIAndOpenAIClientsWithTheSameKey) {
  // The default key header, plus Entra tokens: what AzureOpenAI, OpenAI and token clients send.
  auto policy = make(jwt_section(file_source()) +
                     "    api_keys: {keys: [{id: k1, key: shared-team-key, app_id: team-a}]}\n");
  auto azure = run({policy}, {{"api-key", "shared-team-key"}});
  ASSERT_EQ(azure.status(), 200u);
  EXPECT_EQ(azure.identity.key_id, "k1");
  auto openai = run({policy}, {{"Authorization", "Bearer shared-team-key"}});
  ASSERT_EQ(openai.status(), 200u);
  EXPECT_EQ(openai.identity.kind, IdentityKind::kApiKey);
  EXPECT_EQ(openai.identity.key_id, "k1");

  auto wrong = run({policy}, {{"Authorization", "Bearer another-team-key"}});
  EXPECT_EQ(wrong.status(), 401u);
  EXPECT_EQ(wrong.error_code, "invalid_api_key");
  EXPECT_EQ(wrong.message().rfind("Access denied due to invalid subscription key", 0), 0u);

  // A JWT in Authorization is still validated as a JWT, never looked up as a key.
  auto token = bearer(policy, testing::token(rsa1(), v1()));
  ASSERT_EQ(token.status(), 200u);
  EXPECT_EQ(token.identity.kind, IdentityKind::kJwt);
  auto expired_claims = v1();
  expired_claims["exp"] = now() - 3600;
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), expired_claims)).error_code, "expired");
  EXPECT_EQ(bearer(policy, testing::token(rsa2(), v1())).error_code, "unknown_kid");

  // Without a jwt section a JWT-shaped bearer can only be a key, and is not one.
  auto keys_only = make("    api_keys: {keys: [{id: k1, key: shared-team-key}]}\n");
  EXPECT_EQ(run({keys_only}, {{"Authorization", "Bearer shared-team-key"}}).status(), 200u);
  EXPECT_EQ(bearer(keys_only, testing::token(rsa1(), v1())).error_code, "invalid_api_key");
}

TEST_F(IdentityPolicyTest, AccessPolicyBlocksKeysAndRequiresRoles) {
  auto identity =
      make(jwt_section(file_source()) +
           "    api_keys: {keys: [{id: k1, key: team-key-000001, roles: [Inference.User]}]}\n");
  auto no_keys = make("    {allow_api_keys: false}\n", "access");
  auto blocked = run({identity, no_keys}, {{"api-key", "team-key-000001"}});
  EXPECT_EQ(blocked.status(), 403u);
  EXPECT_EQ(blocked.code(), "AuthenticationTypeDisabled");
  EXPECT_EQ(blocked.error_code, "api_key_not_allowed");
  EXPECT_EQ(run({identity, no_keys}, {{"api-key", "invalid"}}).status(), 401u);
  EXPECT_EQ(run({identity, no_keys}, {{"Authorization", "Bearer " + testing::token(rsa1(), v1())}})
                .status(),
            200u);

  auto batch = make("    {required_roles: [Batch.Submit]}\n", "access");
  auto claims = v1();
  claims["roles"] = json::array{"Inference.User"};
  auto missing =
      run({identity, batch}, {{"Authorization", "Bearer " + testing::token(rsa1(), claims)}});
  EXPECT_EQ(missing.status(), 403u);
  EXPECT_EQ(missing.code(), "PermissionDenied");
  EXPECT_EQ(missing.error_code, "missing_role");
  claims["roles"] = json::array{"Inference.User", "Batch.Submit"};
  EXPECT_EQ(run({identity, batch}, {{"Authorization", "Bearer " + testing::token(rsa1(), claims)}})
                .status(),
            200u);
  // Roles of API keys count the same way.
  EXPECT_EQ(run({identity, batch}, {{"api-key", "team-key-000001"}}).error_code, "missing_role");
  auto any =
      make("    {required_roles: [Batch.Submit, Inference.User], required_roles_match: any}\n",
           "access");
  EXPECT_EQ(run({identity, any}, {{"api-key", "team-key-000001"}}).status(), 200u);
}

TEST_F(IdentityPolicyTest, RequiredClaimsMatchValuesOrWords) {
  auto policy = jwt_policy("    required_claims: {idtyp: app, scp: [Chat.Read, Chat.Write]}\n");
  auto claims = v1();
  claims["scp"] = "Files.Read Chat.Write";
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), claims)).status(), 200u);
  claims["scp"] = "Files.Read";
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), claims)).error_code, "missing_claim");
  claims.erase("scp");
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), claims)).status(), 403u);
}

TEST_F(IdentityPolicyTest, JwksUrlRotationOutageAndRevocation) {
  JwksServer server;
  server.serve({&rsa1()});
  auto policy = make(jwt_section("      jwks_url: " + server.url() + "\n"));
  auto token1 = testing::token(rsa1(), v1());
  auto token2 = testing::token(rsa2(), v1());

  ASSERT_EQ(bearer(policy, token1).status(), 200u);  // first use fetches the keys
  EXPECT_EQ(server.fetches(), 1);
  EXPECT_EQ(bearer(policy, token2).error_code, "unknown_kid");  // rate-limited: no refetch yet
  EXPECT_EQ(server.fetches(), 1);

  // Rotation: the provider publishes rsa-2; the next unknown kid after the interval refetches.
  server.serve({&rsa1(), &rsa2()});
  clock_.advance(30s);
  auto rotated = bearer(policy, token2);
  EXPECT_EQ(rotated.status(), 200u) << rotated.error_code;
  EXPECT_EQ(server.fetches(), 2);
  EXPECT_EQ(bearer(policy, token1).status(), 200u);  // still cached and still valid

  // Outage: the last good keys stay in service.
  server.set_up(false);
  clock_.advance(30s);
  auto fetch_failures = identity_stats().jwks_fetch_failures.load();
  EXPECT_EQ(bearer(policy, testing::token(TestKey::rsa("rsa-3"), v1())).error_code, "unknown_kid");
  EXPECT_EQ(server.fetches(), 3);
  EXPECT_EQ(identity_stats().jwks_fetch_failures.load(), fetch_failures + 1);
  EXPECT_EQ(bearer(policy, token2).status(), 200u);
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), v2())).status(),
            200u);  // verified with stale keys

  // Revocation: once rsa-1 leaves the JWKS, its cached tokens stop passing.
  server.set_up(true);
  server.serve({&rsa2()});
  clock_.advance(30s);
  EXPECT_EQ(bearer(policy, testing::token(TestKey::rsa("rsa-4"), v1())).error_code, "unknown_kid");
  EXPECT_EQ(server.fetches(), 4);
  EXPECT_EQ(bearer(policy, token1).error_code, "unknown_kid");
  EXPECT_EQ(bearer(policy, token2).status(), 200u);
}

TEST_F(IdentityPolicyTest, NoKeysAtAllIsAServiceProblemNotAClientOne) {
  JwksServer server;
  server.set_up(false);
  auto policy = make(jwt_section("      jwks_url: " + server.url() + "\n"));
  auto outcome = bearer(policy, testing::token(rsa1(), v1()));
  EXPECT_EQ(outcome.status(), 503u);
  EXPECT_EQ(outcome.error_code, "keys_unavailable");
  EXPECT_EQ(outcome.response->at(http::Field::retry_after), "1");
  // While there are no keys, retries come sooner than the refresh interval.
  server.set_up(true);
  server.serve({&rsa1()});
  clock_.advance(1s);
  EXPECT_EQ(bearer(policy, testing::token(rsa1(), v1())).status(), 200u);
}

TEST_F(IdentityPolicyTest, RefusalsAreLoggedWithTheReasonButNeverTheCredential) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  ASSERT_TRUE(core::init_logging({}, sink));
  auto policy = make(jwt_section(file_source()) +
                     "    api_keys: {keys: [{id: k1, key: the-real-key-123}]}\n");
  auto claims = v1();
  claims["exp"] = now() - 3600;
  auto token = testing::token(rsa1(), claims);
  EXPECT_EQ(bearer(policy, token).error_code, "expired");
  EXPECT_EQ(run({policy}, {{"api-key", "a-wrong-key-456"}}).error_code, "invalid_api_key");
  EXPECT_EQ(run({policy}, {{"Authorization", "Bearer a-wrong-key-789"}}).error_code,
            "invalid_api_key");
  EXPECT_EQ(run({policy}, {{"Authorization", "Bearer "}}).error_code, "missing_credentials");
  core::init_logging({});
  std::string log = captured.str();
  EXPECT_NE(log.find("expired"), std::string::npos) << log;
  EXPECT_NE(log.find("invalid_api_key"), std::string::npos) << log;
  EXPECT_NE(log.find("req-1"), std::string::npos) << log;
  EXPECT_EQ(log.find(token.substr(token.rfind('.') + 1)), std::string::npos) << log;
  EXPECT_EQ(log.find(token.substr(0, 20)), std::string::npos) << log;
  EXPECT_EQ(log.find("a-wrong-key-456"), std::string::npos) << log;
  EXPECT_EQ(log.find("a-wrong-key-789"), std::string::npos) << log;
  EXPECT_NE(log.find("an empty Bearer token"), std::string::npos) << log;
  EXPECT_EQ(log.find("scheme other than Bearer"), std::string::npos) << log;
}

TEST(IdentityRefusals, ReportsEveryReasonByStableName) {
  auto counts = identity_refusals_by_reason();
  ASSERT_EQ(counts.size(), kRefusalReasonCount);
  EXPECT_EQ(counts.front().first, "missing_credentials");
  EXPECT_EQ(counts.back().first, "missing_claim");
  for (const auto& [name, count] : counts) EXPECT_NE(name, "unknown");
}

}  // namespace
}  // namespace sluice::gateway::identity
