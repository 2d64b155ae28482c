#pragma once
// RS256 JSON Web Tokens as Entra ID issues them: an RSA key pair (generated at startup or loaded
// from PEM), compact JWS signing with EVP_DigestSign, verification with EVP_DigestVerify, and the
// public key as a JWKS entry (n, e in base64url, kid).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace sluice::sim {

class RsaKey {
 public:
  // Throw std::runtime_error with OpenSSL's reason (startup only).
  static RsaKey generate(int bits = 2048);
  static RsaKey from_pem_file(const std::string& path);

  // Raw RS256 signature of `data`; empty on failure. Any thread.
  std::string sign(std::string_view data) const;
  bool verify(std::string_view data, std::string_view signature) const;

  const std::string& kid() const { return kid_; }
  const std::string& n_base64url() const { return n_; }
  const std::string& e_base64url() const { return e_; }
  // {"kty":"RSA","use":"sig","kid":...,"x5t":...,"n":...,"e":...}
  std::string jwk_json() const;

 private:
  explicit RsaKey(std::shared_ptr<EVP_PKEY> key);
  std::shared_ptr<EVP_PKEY> key_;
  std::string kid_;
  std::string n_;
  std::string e_;
};

// base64url(header).base64url(payload).base64url(signature), header {"typ":"JWT","alg":"RS256",
// "kid":...,"x5t":...}. Empty on signing failure.
std::string make_jwt(const RsaKey& key, std::string_view payload_json);

struct JwtClaims {
  std::string aud;
  std::string iss;
  std::string appid;  // v1 tokens
  std::string azp;    // v2 tokens
  std::string tid;
  std::string oid;
  std::string ver;
  std::vector<std::string> roles;
  std::int64_t iat = 0;
  std::int64_t nbf = 0;
  std::int64_t exp = 0;
  // The calling application: appid (v1) or azp (v2).
  const std::string& client_id() const { return appid.empty() ? azp : appid; }
};

enum class JwtError {
  kNone,
  kMalformed,
  kBadAlgorithm,
  kUnknownKey,
  kBadSignature,
  kExpired,
  kNotYetValid,
  kBadAudience,
  kBadIssuer
};

struct JwtCheck {
  JwtError error = JwtError::kNone;
  std::string detail;  // for logs, never sent to clients
  JwtClaims claims;
  bool ok() const { return error == JwtError::kNone; }
};

// Verifies signature, alg, kid, exp/nbf (with `skew_seconds`), audience (exact, or with a trailing
// slash) and issuer (one of `issuers`). Never throws.
JwtCheck verify_jwt(const RsaKey& key, std::string_view token, std::string_view audience,
                    const std::vector<std::string>& issuers, std::int64_t now_seconds,
                    std::int64_t skew_seconds = 300);

}  // namespace sluice::sim
