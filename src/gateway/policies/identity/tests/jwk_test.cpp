#include "gateway/policies/identity/jwk.hpp"

#include <gtest/gtest.h>

#include "gateway/policies/identity/tests/test_keys.hpp"

namespace sluice::gateway::identity {
namespace {

namespace json = boost::json;
using testing::TestKey;

const TestKey& rsa_key() {
  return testing::shared_rsa("rsa-1");
}
const TestKey& ec_key() {
  return testing::shared_ec("ec-1");
}

TEST(Jwks, ParsesRsaAndEcKeys) {
  std::vector<std::string> skipped;
  auto set = parse_jwks(testing::jwks_of({&rsa_key(), &ec_key()}), &skipped);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_TRUE(skipped.empty());
  ASSERT_EQ(set->keys.size(), 2u);
  const PublicKey* rsa = set->find("rsa-1");
  const PublicKey* ec = set->find("ec-1");
  ASSERT_TRUE(rsa && ec);
  EXPECT_TRUE(rsa->accepts(JwsAlgorithm::kRS256));
  EXPECT_FALSE(rsa->accepts(JwsAlgorithm::kES256));
  EXPECT_TRUE(ec->accepts(JwsAlgorithm::kES256));
  EXPECT_FALSE(ec->accepts(JwsAlgorithm::kRS256));
  EXPECT_EQ(set->find("nope"), nullptr);
}

TEST(Jwks, SkipsKeysItCannotVerifyWith) {
  json::array keys;
  keys.push_back(rsa_key().jwk());
  auto enc = rsa_key().jwk();
  enc["use"] = "enc";
  enc["kid"] = "enc";
  keys.push_back(enc);
  keys.push_back(json::object{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}});
  auto small = TestKey::rsa("small", 1024).jwk();
  keys.push_back(small);
  auto off_curve = ec_key().jwk();
  std::string y = off_curve["y"].as_string().c_str();
  y[3] = y[3] == 'A' ? 'B' : 'A';
  off_curve["y"] = y;
  off_curve["kid"] = "off-curve";
  keys.push_back(off_curve);
  keys.push_back(json::object{{"kty", "EC"}, {"crv", "P-521"}, {"kid", "p521"}});
  keys.push_back(json::object{{"kty", "RSA"}, {"n", "a+b/"}, {"e", "AQAB"}});
  keys.push_back(json::value("not an object"));
  auto wrong_alg = rsa_key().jwk();
  wrong_alg["alg"] = "HS256";
  keys.push_back(wrong_alg);
  std::vector<std::string> skipped;
  auto set = parse_jwks(json::serialize(json::object{{"keys", keys}}), &skipped);
  ASSERT_TRUE(set);
  ASSERT_EQ(set->keys.size(), 1u);
  EXPECT_EQ(set->keys[0].kid, "rsa-1");
  EXPECT_EQ(skipped.size(), keys.size() - 1);
}

TEST(Jwks, RefusesDocumentsWithoutUsableKeys) {
  EXPECT_FALSE(parse_jwks("not json"));
  EXPECT_FALSE(parse_jwks("{}"));
  EXPECT_FALSE(parse_jwks(R"({"keys":{}})"));
  EXPECT_FALSE(parse_jwks(R"({"keys":[]})"));
  EXPECT_FALSE(parse_jwks(R"({"keys":[{"kty":"oct","k":"AAAA"}]})"));
}

TEST(Jwks, FingerprintChangesOnlyWithKeyMaterial) {
  auto a = parse_jwks(testing::jwks_of({&rsa_key()}));
  auto b = parse_jwks(testing::jwks_of({&rsa_key()}));
  auto c = parse_jwks(testing::jwks_of({&rsa_key(), &ec_key()}));
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->fingerprint, b->fingerprint);
  EXPECT_NE(a->fingerprint, c->fingerprint);
}

TEST(Signature, VerifiesRs256AndEs256AndRefusesTampering) {
  auto set = parse_jwks(testing::jwks_of({&rsa_key(), &ec_key()}));
  ASSERT_TRUE(set);
  for (const TestKey* key : {&rsa_key(), &ec_key()}) {
    auto algorithm = *parse_algorithm(key->alg());
    const PublicKey* pub = set->find(key->kid());
    std::string data = "header.payload";
    std::string sig = key->sign(data);
    EXPECT_TRUE(verify_signature(*pub, algorithm, data, sig)) << key->kid();
    EXPECT_FALSE(verify_signature(*pub, algorithm, "header.payloaD", sig));
    std::string flipped = sig;
    flipped[flipped.size() / 2] ^= 1;
    EXPECT_FALSE(verify_signature(*pub, algorithm, data, flipped));
    EXPECT_FALSE(verify_signature(*pub, algorithm, data, sig.substr(1)));
    EXPECT_FALSE(verify_signature(*pub, algorithm, data, ""));
  }
  // A key never verifies an algorithm of another family.
  std::string sig = rsa_key().sign("x");
  EXPECT_FALSE(verify_signature(*set->find("rsa-1"), JwsAlgorithm::kES256, "x", sig));
}

TEST(Algorithms, NamesOnlyAsymmetricAlgorithms) {
  EXPECT_EQ(parse_algorithm("RS256"), JwsAlgorithm::kRS256);
  EXPECT_EQ(parse_algorithm("ES256"), JwsAlgorithm::kES256);
  for (auto name : {"none", "None", "HS256", "HS512", "PS256", "rs256", ""}) {
    EXPECT_FALSE(parse_algorithm(name)) << name;
  }
}

}  // namespace
}  // namespace sluice::gateway::identity
