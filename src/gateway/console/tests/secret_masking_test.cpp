#include "gateway/console/secret_masking.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "sluice/core/config.hpp"

namespace sluice::gateway::console {
namespace {

TEST(SecretMasking, KeysNamedLikeSecretsAreSecrets) {
  for (const char* key : {"key", "api_key", "password", "client_secret", "token", "sha256",
                          "Authorization", "connection_string", "redis_password", "admin_key"}) {
    EXPECT_TRUE(is_secret_key(key)) << key;
  }
  for (const char* key : {"name", "url", "api_keys", "token_url", "header", "counter_key",
                          "tokens_per_minute", "max_token_size", "id"}) {
    EXPECT_FALSE(is_secret_key(key)) << key;
  }
}

TEST(SecretMasking, PasswordsInsideValuesAreMasked) {
  EXPECT_EQ(mask_embedded_secrets("postgresql://sluice:hunter2@db:5432/usage"),
            "postgresql://sluice:********@db:5432/usage");
  EXPECT_EQ(mask_embedded_secrets("http://user:p%40ss@proxy:3128"),
            "http://user:********@proxy:3128");
  EXPECT_EQ(mask_embedded_secrets("host=db user=x password=hunter2 dbname=u"),
            "host=db user=x password=******** dbname=u");
  EXPECT_EQ(mask_embedded_secrets("Bearer eyJabc.def"), "Bearer ********");
  EXPECT_EQ(mask_embedded_secrets("http://db:5432/usage"), "http://db:5432/usage");
  EXPECT_EQ(mask_embedded_secrets("redis://:only-pass@r:6379"), "redis://:********@r:6379");
}

TEST(SecretMasking, MaskedConfigHidesEverySecretOfAGatewayConfig) {
  setenv("SLUICE_MASKING_TEST_KEY", "env-secret-value", 1);
  auto root = core::load_config_string(R"(
listeners: [{port: 8080}]
backends:
  - name: east
    url: https://east.example
    auth: {type: api_key, api_key: "literal-secret-value"}
  - name: west
    url: https://west.example
    auth: {type: oauth2, token_url: "https://login.example/token", client_id: app,
           client_secret: "client-secret-value"}
proxy: "http://proxyuser:proxy-secret-value@proxy:3128"
policies:
  identity:
    api_keys: {keys: [{id: a, key: "${env:SLUICE_MASKING_TEST_KEY}", app_id: app-a},
                      {id: b, sha256: "00ff", app_id: app-b}]}
  usage: {journal: /tmp/j, store: "postgresql://u:store-secret-value@db/usage"}
  token_limit: {counter_key: app}
)",
                                       "masking.yaml");
  auto text = boost::json::serialize(masked_config(root));
  for (const char* secret : {"literal-secret-value", "client-secret-value", "proxy-secret-value",
                             "env-secret-value", "00ff", "store-secret-value"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;
  }
  // What is not secret stays readable.
  for (const char* visible : {"https://east.example", "https://login.example/token", "app-a",
                              "\"counter_key\":\"app\"", "proxyuser"}) {
    EXPECT_NE(text.find(visible), std::string::npos) << visible << " not in " << text;
  }
}

}  // namespace
}  // namespace sluice::gateway::console
