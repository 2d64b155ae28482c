#pragma once
// Keys and tokens for the identity tests, minted with OpenSSL directly (independently of the code
// under test): RSA and EC P-256 key pairs, their JWKs, and compact JWS tokens of every shape,
// including the malicious ones (alg none, HS256 keyed with the public key).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

typedef struct evp_pkey_st EVP_PKEY;

namespace sluice::gateway::identity::testing {

class TestKey {
 public:
  static TestKey rsa(std::string kid, int bits = 2048);
  static TestKey ec_p256(std::string kid);

  const std::string& kid() const { return kid_; }
  std::string_view alg() const { return rsa_ ? "RS256" : "ES256"; }
  // The public JWK as a JSON object.
  boost::json::object jwk() const;
  // Raw JWS signature of `data` (PKCS#1 v1.5 / r||s).
  std::string sign(std::string_view data) const;
  // SubjectPublicKeyInfo PEM: what an alg-confusion attacker uses as the HMAC secret.
  std::string public_pem() const;

 private:
  TestKey(std::shared_ptr<EVP_PKEY> key, std::string kid, bool rsa)
      : key_(std::move(key)), kid_(std::move(kid)), rsa_(rsa) {}
  std::shared_ptr<EVP_PKEY> key_;
  std::string kid_;
  bool rsa_;
};

// Keys generated once per test binary and shared by name (RSA generation is slow).
const TestKey& shared_rsa(const std::string& kid);
const TestKey& shared_ec(const std::string& kid);

// {"keys":[jwk...]}
std::string jwks_of(const std::vector<const TestKey*>& keys);

// base64url(header).base64url(payload).base64url(signature) with `key`.
std::string sign_token(const TestKey& key, const boost::json::object& header,
                       const boost::json::object& payload);
// The usual header {"typ":"JWT","alg":<key's>,"kid":<key's>} and a signature.
std::string token(const TestKey& key, const boost::json::object& payload);
// HS256 with `secret` as the HMAC key.
std::string hs256_token(std::string_view secret, const boost::json::object& header,
                        const boost::json::object& payload);
// "header.payload." with no signature.
std::string unsigned_token(const boost::json::object& header, const boost::json::object& payload);

// Entra-shaped claims for a client-credentials token valid from `now` for an hour.
boost::json::object v1_claims(std::int64_t now, std::string_view tenant, std::string_view app_id);
boost::json::object v2_claims(std::int64_t now, std::string_view tenant, std::string_view app_id);

std::string b64url(std::string_view bytes);

}  // namespace sluice::gateway::identity::testing
