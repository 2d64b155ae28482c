#include "gateway/policies/identity/jwk.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <simdjson.h>

#include "gateway/policies/identity/base64url.hpp"

namespace sluice::gateway::identity {

namespace {

using core::Error;
using core::ErrorCode;

// OpenSSL objects freed on every path without exceptions.
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

// Builds a public key of `type_name` ("RSA", "EC") from the parameters `push` adds.
template <class Push>
std::shared_ptr<EVP_PKEY> key_from_params(const char* type_name, Push push) {
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> builder(OSSL_PARAM_BLD_new());
  if (!builder || !push(builder.get())) return nullptr;
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(builder.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> context(
      EVP_PKEY_CTX_new_from_name(nullptr, type_name, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free);
}

std::shared_ptr<EVP_PKEY> rsa_key(const std::string& n, const std::string& e) {
  std::unique_ptr<BIGNUM, BnFree> bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                                                 static_cast<int>(n.size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                                                 static_cast<int>(e.size()), nullptr));
  if (!bn_n || !bn_e) return nullptr;
  return key_from_params("RSA", [&](OSSL_PARAM_BLD* b) {
    return OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn_n.get()) == 1 &&
           OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, bn_e.get()) == 1;
  });
}

std::shared_ptr<EVP_PKEY> ec_key(const char* group, const std::string& x, const std::string& y) {
  std::string point;
  point.reserve(1 + x.size() + y.size());
  point.push_back('\x04');  // uncompressed point
  point += x;
  point += y;
  auto key = key_from_params("EC", [&](OSSL_PARAM_BLD* b) {
    return OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
           OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                            point.size()) == 1;
  });
  if (!key) return nullptr;
  // The import decodes the point; the public check also rejects points off the curve, so an
  // invalid-curve key never reaches verification.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return key;
}

std::size_t coordinate_size(KeyType type) {
  return type == KeyType::kEcP384 ? 48 : 32;
}

// A string member of a JWK; empty when absent. Sets *bad when present but not a string.
std::string_view member(simdjson::dom::object object, std::string_view name, bool* bad) {
  auto value = object[name];
  if (value.error() == simdjson::NO_SUCH_FIELD) return {};
  std::string_view text;
  if (value.get(text) != simdjson::SUCCESS) {
    *bad = true;
    return {};
  }
  return text;
}

// Reads one JWK; nullopt (with `why`) when it is not a key this gateway can verify with.
std::optional<PublicKey> read_jwk(simdjson::dom::object object, std::string& why,
                                  std::string& fingerprint) {
  bool bad = false;
  std::string_view kty = member(object, "kty", &bad);
  std::string_view kid = member(object, "kid", &bad);
  std::string_view use = member(object, "use", &bad);
  std::string_view alg = member(object, "alg", &bad);
  if (bad) {
    why = "a member of the key is not a string";
    return std::nullopt;
  }
  if (!use.empty() && use != "sig") {
    why = "use is '" + std::string(use.substr(0, 16)) + "', not 'sig'";
    return std::nullopt;
  }
  if (!alg.empty() && !parse_algorithm(alg)) {
    why = "alg '" + std::string(alg.substr(0, 16)) + "' is not supported";
    return std::nullopt;
  }
  PublicKey key;
  key.kid = std::string(kid);
  key.alg = std::string(alg);
  if (kty == "RSA") {
    auto n = decode_base64url(member(object, "n", &bad));
    auto e = decode_base64url(member(object, "e", &bad));
    if (bad || !n || !e || n->empty() || e->empty()) {
      why = "RSA key without valid base64url n and e";
      return std::nullopt;
    }
    key.type = KeyType::kRsa;
    key.key = rsa_key(*n, *e);
    if (!key.key) {
      why = "OpenSSL refused the RSA key";
      return std::nullopt;
    }
    if (EVP_PKEY_get_bits(key.key.get()) < 2048) {
      why = "RSA modulus is shorter than 2048 bits";
      return std::nullopt;
    }
    fingerprint += "RSA|" + key.kid + "|" + key.alg + "|" + *n + "|" + *e + "\n";
    return key;
  }
  if (kty == "EC") {
    std::string_view crv = member(object, "crv", &bad);
    const char* group = nullptr;
    if (crv == "P-256") {
      key.type = KeyType::kEcP256;
      group = "prime256v1";
    } else if (crv == "P-384") {
      key.type = KeyType::kEcP384;
      group = "secp384r1";
    } else {
      why = "EC curve '" + std::string(crv.substr(0, 16)) + "' is not supported";
      return std::nullopt;
    }
    auto x = decode_base64url(member(object, "x", &bad));
    auto y = decode_base64url(member(object, "y", &bad));
    std::size_t size = coordinate_size(key.type);
    if (bad || !x || !y || x->size() != size || y->size() != size) {
      why = "EC key without valid base64url x and y of the curve's size";
      return std::nullopt;
    }
    key.key = ec_key(group, *x, *y);
    if (!key.key) {
      why = "EC point is not on the curve";
      return std::nullopt;
    }
    fingerprint +=
        "EC|" + key.kid + "|" + key.alg + "|" + std::string(crv) + "|" + *x + "|" + *y + "\n";
    return key;
  }
  why = kty.empty() ? std::string("no kty")
                    : "kty '" + std::string(kty.substr(0, 16)) + "' is not supported";
  return std::nullopt;
}

const EVP_MD* digest_of(JwsAlgorithm algorithm) {
  switch (algorithm) {
    case JwsAlgorithm::kRS256:
    case JwsAlgorithm::kES256:
      return EVP_sha256();
    case JwsAlgorithm::kRS384:
    case JwsAlgorithm::kES384:
      return EVP_sha384();
    case JwsAlgorithm::kRS512:
      return EVP_sha512();
  }
  return nullptr;
}

// JWS carries ECDSA signatures as fixed-size r||s; OpenSSL wants DER.
std::optional<std::string> ecdsa_der(std::string_view raw, std::size_t coordinate) {
  if (raw.size() != 2 * coordinate) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(coordinate), nullptr);
  BIGNUM* s = BN_bin2bn(bytes + coordinate, static_cast<int>(coordinate), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) return std::nullopt;
  return der;
}

}  // namespace

std::optional<JwsAlgorithm> parse_algorithm(std::string_view name) noexcept {
  if (name == "RS256") return JwsAlgorithm::kRS256;
  if (name == "RS384") return JwsAlgorithm::kRS384;
  if (name == "RS512") return JwsAlgorithm::kRS512;
  if (name == "ES256") return JwsAlgorithm::kES256;
  if (name == "ES384") return JwsAlgorithm::kES384;
  return std::nullopt;
}

std::string_view to_string(JwsAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case JwsAlgorithm::kRS256:
      return "RS256";
    case JwsAlgorithm::kRS384:
      return "RS384";
    case JwsAlgorithm::kRS512:
      return "RS512";
    case JwsAlgorithm::kES256:
      return "ES256";
    case JwsAlgorithm::kES384:
      return "ES384";
  }
  return "?";
}

bool PublicKey::accepts(JwsAlgorithm algorithm) const noexcept {
  if (!alg.empty() && alg != to_string(algorithm)) return false;
  switch (algorithm) {
    case JwsAlgorithm::kRS256:
    case JwsAlgorithm::kRS384:
    case JwsAlgorithm::kRS512:
      return type == KeyType::kRsa;
    case JwsAlgorithm::kES256:
      return type == KeyType::kEcP256;
    case JwsAlgorithm::kES384:
      return type == KeyType::kEcP384;
  }
  return false;
}

const PublicKey* KeySet::find(std::string_view kid) const noexcept {
  for (const auto& key : keys) {
    if (key.kid == kid) return &key;
  }
  return nullptr;
}

core::Result<KeySet> parse_jwks(std::string_view json, std::vector<std::string>* skipped) {
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(json.data(), json.size()).get(document) != simdjson::SUCCESS) {
    return Error{ErrorCode::kInvalidArgument, "the JWKS is not valid JSON"};
  }
  simdjson::dom::array keys;
  if (document["keys"].get(keys) != simdjson::SUCCESS) {
    return Error{ErrorCode::kInvalidArgument, "the JWKS has no \"keys\" array"};
  }
  KeySet set;
  std::size_t index = 0;
  for (auto element : keys) {
    std::string why;
    simdjson::dom::object object;
    std::optional<PublicKey> key;
    if (element.get(object) != simdjson::SUCCESS) {
      why = "not a JSON object";
    } else {
      key = read_jwk(object, why, set.fingerprint);
    }
    if (key) {
      set.keys.push_back(std::move(*key));
    } else if (skipped) {
      skipped->push_back("key " + std::to_string(index) + ": " + why);
    }
    ++index;
  }
  if (set.keys.empty()) {
    return Error{ErrorCode::kInvalidArgument, "the JWKS holds no usable signing key"};
  }
  return set;
}

bool verify_signature(const PublicKey& key, JwsAlgorithm algorithm, std::string_view signing_input,
                      std::string_view signature) noexcept {
  if (!key.key || !key.accepts(algorithm)) return false;
  std::string der;
  if (key.type != KeyType::kRsa) {
    auto converted = ecdsa_der(signature, coordinate_size(key.type));
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> context(EVP_MD_CTX_new());
  bool ok =
      context &&
      EVP_DigestVerifyInit(context.get(), nullptr, digest_of(algorithm), nullptr, key.key.get()) ==
          1 &&
      EVP_DigestVerify(
          context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace sluice::gateway::identity
