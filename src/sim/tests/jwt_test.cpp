#include "sim/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json.hpp>

#include "sim/base64.hpp"

namespace sluice::sim {
namespace {

const RsaKey& test_key() {
  static const RsaKey key = RsaKey::generate(2048);
  return key;
}

// Verifies with a public key rebuilt from the JWK's n and e only, as a relying party would.
bool verify_with_jwk(const std::string& jwk_json, const std::string& token) {
  auto jwk = boost::json::parse(jwk_json).as_object();
  auto n = base64_decode(jwk.at("n").as_string());
  auto e = base64_decode(jwk.at("e").as_string());
  if (!n || !e) return false;
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_fromdata_init(pctx);
  EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  const std::size_t d2 = token.rfind('.');
  auto sig = base64_decode(token.substr(d2 + 1));
  const std::string input = token.substr(0, d2);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok =
      pkey && sig && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
      EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(pctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return ok;
}

std::string payload(std::int64_t now,
                    const std::string& aud = "https://cognitiveservices.azure.com",
                    const std::string& iss = "https://sts.windows.net/t/") {
  boost::json::object o;
  o["aud"] = aud;
  o["iss"] = iss;
  o["iat"] = now - 300;
  o["nbf"] = now - 300;
  o["exp"] = now + 3600;
  o["appid"] = "client-1";
  o["tid"] = "t";
  o["roles"] = boost::json::array{"Reader"};
  o["ver"] = "1.0";
  return boost::json::serialize(o);
}

TEST(Jwt, CompactRs256WithKidInTheHeader) {
  const std::string token = make_jwt(test_key(), payload(1'700'000'000));
  ASSERT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  auto header = boost::json::parse(*base64_decode(token.substr(0, token.find('.')))).as_object();
  EXPECT_EQ(header.at("alg").as_string(), "RS256");
  EXPECT_EQ(header.at("typ").as_string(), "JWT");
  EXPECT_EQ(header.at("kid").as_string(), test_key().kid());
  EXPECT_EQ(token.find('='), std::string::npos);  // base64url without padding
  EXPECT_EQ(base64_decode(token.substr(token.rfind('.') + 1))->size(), 256u);
}

TEST(Jwt, SignatureVerifiesWithThePublishedJwk) {
  const std::string token = make_jwt(test_key(), payload(1'700'000'000));
  auto jwk = boost::json::parse(test_key().jwk_json()).as_object();
  EXPECT_EQ(jwk.at("kty").as_string(), "RSA");
  EXPECT_EQ(jwk.at("e").as_string(), "AQAB");
  EXPECT_EQ(jwk.at("kid").as_string(), test_key().kid());
  EXPECT_TRUE(verify_with_jwk(test_key().jwk_json(), token));
  std::string tampered = token;
  tampered[token.find('.') + 5] ^= 1;
  EXPECT_FALSE(verify_with_jwk(test_key().jwk_json(), tampered));
  // Another key's JWK does not verify it.
  EXPECT_FALSE(verify_with_jwk(RsaKey::generate(2048).jwk_json(), token));
}

TEST(Jwt, VerifyChecksSignatureTimeAudienceIssuer) {
  const std::int64_t now = 1'700'000'000;
  const std::vector<std::string> issuers = {"https://sts.windows.net/t/"};
  const std::string aud = "https://cognitiveservices.azure.com";
  auto good = verify_jwt(test_key(), make_jwt(test_key(), payload(now)), aud, issuers, now);
  ASSERT_TRUE(good.ok()) << good.detail;
  EXPECT_EQ(good.claims.client_id(), "client-1");
  EXPECT_EQ(good.claims.roles, std::vector<std::string>{"Reader"});

  EXPECT_EQ(
      verify_jwt(test_key(), make_jwt(test_key(), payload(now)), aud, issuers, now + 3600 + 301)
          .error,
      JwtError::kExpired);
  EXPECT_EQ(
      verify_jwt(test_key(), make_jwt(test_key(), payload(now)), aud, issuers, now - 1000).error,
      JwtError::kNotYetValid);
  EXPECT_EQ(
      verify_jwt(test_key(), make_jwt(test_key(), payload(now, "api://other")), aud, issuers, now)
          .error,
      JwtError::kBadAudience);
  EXPECT_EQ(verify_jwt(test_key(), make_jwt(test_key(), payload(now, aud, "https://evil/")), aud,
                       issuers, now)
                .error,
            JwtError::kBadIssuer);
  RsaKey other = RsaKey::generate(2048);
  EXPECT_EQ(verify_jwt(test_key(), make_jwt(other, payload(now)), aud, issuers, now).error,
            JwtError::kUnknownKey);
  std::string token = make_jwt(test_key(), payload(now));
  token[token.size() - 3] = token[token.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify_jwt(test_key(), token, aud, issuers, now).error, JwtError::kBadSignature);
  EXPECT_EQ(verify_jwt(test_key(), "a.b", aud, issuers, now).error, JwtError::kMalformed);
  EXPECT_EQ(verify_jwt(test_key(), "!!.??.**", aud, issuers, now).error, JwtError::kMalformed);
}

}  // namespace
}  // namespace sluice::sim
