#include "sim/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <boost/json.hpp>
#include <cstdio>
#include <stdexcept>

#include "sim/base64.hpp"

namespace sluice::sim {

namespace json = boost::json;

namespace {
std::string openssl_error(const char* what) {
  unsigned long code = ERR_get_error();
  char buf[256] = {0};
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  return std::string(what) + (code ? std::string(": ") + buf : std::string());
}

std::string bn_bytes(const BIGNUM* bn) {
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}
}  // namespace

RsaKey::RsaKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
      EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    BN_free(n);
    BN_free(e);
    throw std::runtime_error(openssl_error("RSA key has no modulus/exponent"));
  }
  std::string nb = bn_bytes(n);
  n_ = base64url_encode(nb);
  e_ = base64url_encode(bn_bytes(e));
  BN_free(n);
  BN_free(e);
  // Stable key id derived from the public key, like a certificate thumbprint.
  kid_ = base64url_encode(sha256(nb).substr(0, 20));
}

RsaKey RsaKey::generate(int bits) {
  EVP_PKEY* raw = EVP_RSA_gen(static_cast<unsigned>(bits));
  if (raw == nullptr) throw std::runtime_error(openssl_error("generating an RSA key failed"));
  return RsaKey(std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free));
}

RsaKey RsaKey::from_pem_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open signing key file " + path);
  EVP_PKEY* raw = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (raw == nullptr) {
    throw std::runtime_error(openssl_error(("cannot read a PEM private key from " + path).c_str()));
  }
  if (EVP_PKEY_get_base_id(raw) != EVP_PKEY_RSA) {
    EVP_PKEY_free(raw);
    throw std::runtime_error("signing key " + path + " is not an RSA key");
  }
  return RsaKey(std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free));
}

std::string RsaKey::sign(std::string_view data) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return {};
  std::string sig;
  std::size_t len = 0;
  if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) == 1) {
    sig.resize(len);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1) {
      sig.resize(len);
    } else {
      sig.clear();
    }
  }
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return sig;
}

bool RsaKey::verify(std::string_view data, std::string_view signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

std::string RsaKey::jwk_json() const {
  json::object o;
  o["kty"] = "RSA";
  o["use"] = "sig";
  o["kid"] = kid_;
  o["x5t"] = kid_;
  o["n"] = n_;
  o["e"] = e_;
  return json::serialize(o);
}

std::string make_jwt(const RsaKey& key, std::string_view payload_json) {
  json::object header;
  header["typ"] = "JWT";
  header["alg"] = "RS256";
  header["x5t"] = key.kid();
  header["kid"] = key.kid();
  std::string signing_input =
      base64url_encode(json::serialize(header)) + "." + base64url_encode(payload_json);
  std::string sig = key.sign(signing_input);
  if (sig.empty()) return {};
  return signing_input + "." + base64url_encode(sig);
}

namespace {
std::string str_claim(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end()) return {};
  if (const json::string* s = it->value().if_string()) return std::string(*s);
  return {};
}
std::int64_t int_claim(const json::object& o, std::string_view name, bool& present) {
  auto it = o.find(name);
  present = false;
  if (it == o.end()) return 0;
  if (const std::int64_t* i = it->value().if_int64()) {
    present = true;
    return *i;
  }
  if (const std::uint64_t* u = it->value().if_uint64()) {
    present = true;
    return static_cast<std::int64_t>(*u);
  }
  if (const double* d = it->value().if_double()) {
    present = true;
    return static_cast<std::int64_t>(*d);
  }
  return 0;
}
JwtCheck fail(JwtError e, std::string detail) {
  JwtCheck c;
  c.error = e;
  c.detail = std::move(detail);
  return c;
}
}  // namespace

JwtCheck verify_jwt(const RsaKey& key, std::string_view token, std::string_view audience,
                    const std::vector<std::string>& issuers, std::int64_t now_seconds,
                    std::int64_t skew_seconds) {
  const std::size_t d1 = token.find('.');
  const std::size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d1 == std::string_view::npos || d2 == std::string_view::npos ||
      token.find('.', d2 + 1) != std::string_view::npos) {
    return fail(JwtError::kMalformed, "not a compact JWS");
  }
  auto header_raw = base64_decode(token.substr(0, d1));
  auto payload_raw = base64_decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = base64_decode(token.substr(d2 + 1));
  if (!header_raw || !payload_raw || !sig) return fail(JwtError::kMalformed, "bad base64url");

  boost::system::error_code ec;
  json::value header = json::parse(*header_raw, ec);
  if (ec || !header.is_object()) return fail(JwtError::kMalformed, "header is not JSON");
  const json::object& h = header.get_object();
  if (str_claim(h, "alg") != "RS256") return fail(JwtError::kBadAlgorithm, "alg is not RS256");
  if (str_claim(h, "kid") != key.kid()) return fail(JwtError::kUnknownKey, "unknown kid");
  if (!key.verify(token.substr(0, d2), *sig)) {
    return fail(JwtError::kBadSignature, "signature does not verify");
  }

  json::value payload = json::parse(*payload_raw, ec);
  if (ec || !payload.is_object()) return fail(JwtError::kMalformed, "payload is not JSON");
  const json::object& p = payload.get_object();
  JwtCheck c;
  c.claims.aud = str_claim(p, "aud");
  c.claims.iss = str_claim(p, "iss");
  c.claims.appid = str_claim(p, "appid");
  c.claims.azp = str_claim(p, "azp");
  c.claims.tid = str_claim(p, "tid");
  c.claims.oid = str_claim(p, "oid");
  c.claims.ver = str_claim(p, "ver");
  if (auto it = p.find("roles"); it != p.end()) {
    if (const json::array* a = it->value().if_array()) {
      for (const auto& r : *a) {
        if (const json::string* s = r.if_string()) c.claims.roles.emplace_back(*s);
      }
    }
  }
  bool has_exp = false;
  bool has_nbf = false;
  bool has_iat = false;
  c.claims.exp = int_claim(p, "exp", has_exp);
  c.claims.nbf = int_claim(p, "nbf", has_nbf);
  c.claims.iat = int_claim(p, "iat", has_iat);
  if (!has_exp || now_seconds > c.claims.exp + skew_seconds) {
    return fail(JwtError::kExpired, "token expired");
  }
  if (has_nbf && now_seconds + skew_seconds < c.claims.nbf) {
    return fail(JwtError::kNotYetValid, "token not yet valid");
  }
  std::string aud_slash = std::string(audience) + "/";
  if (c.claims.aud != audience && c.claims.aud != aud_slash) {
    return fail(JwtError::kBadAudience, "audience " + c.claims.aud);
  }
  bool issuer_ok = false;
  for (const auto& iss : issuers) issuer_ok = issuer_ok || iss == c.claims.iss;
  if (!issuer_ok) return fail(JwtError::kBadIssuer, "issuer " + c.claims.iss);
  return c;
}

}  // namespace sluice::sim
