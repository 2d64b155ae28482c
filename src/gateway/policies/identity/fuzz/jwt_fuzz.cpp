// Fuzzes the JWT and JWKS parsing the identity policy runs on untrusted input. The first byte picks
// what the rest is:
//   't' a compact token          parse_jwt, then signature and claim checks with a fixed key
//   'k' a JWKS document          parse_jwks
//   's' "header JSON\npayload JSON", made into a token and signed with the fixed key, so the
//       claim parsing and checks behind a valid signature are reached too
//   anything else                base64url decoding
// Must never crash, hang or leak. Invariants: every refusal says why; canonical base64url
// round-trips exactly.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/policies/identity/base64url.hpp"
#include "gateway/policies/identity/jwk.hpp"
#include "gateway/policies/identity/jwt.hpp"

namespace {

using namespace sluice::gateway::identity;

struct Fixture {
  std::shared_ptr<EVP_PKEY> key{EVP_EC_gen("P-256"), EVP_PKEY_free};
  KeySet keys;
  ClaimRules rules;
  std::vector<JwsAlgorithm> algorithms{JwsAlgorithm::kRS256, JwsAlgorithm::kES256,
                                       JwsAlgorithm::kES384, JwsAlgorithm::kRS512};

  Fixture() {
    auto coordinate = [&](const char* name) {
      BIGNUM* bn = nullptr;
      EVP_PKEY_get_bn_param(key.get(), name, &bn);
      std::string out(32, '\0');
      BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), 32);
      BN_free(bn);
      return encode_base64url(out);
    };
    std::string jwks = R"({"keys":[{"kty":"EC","crv":"P-256","kid":"fuzz","x":")" +
                       coordinate(OSSL_PKEY_PARAM_EC_PUB_X) + R"(","y":")" +
                       coordinate(OSSL_PKEY_PARAM_EC_PUB_Y) + R"("}]})";
    auto parsed = parse_jwks(jwks);
    if (!parsed) __builtin_trap();
    keys = std::move(*parsed);
    rules.issuers = {"https://sts.windows.net/{tid}/"};
    rules.audiences = {"https://cognitiveservices.azure.com"};
  }

  // r||s ES256 signature of `data`.
  std::string sign(std::string_view data) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    std::string der;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1) {
      der.resize(len);
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
      der.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    std::string raw(64, '\0');
    if (sig) {
      BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
      BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
      ECDSA_SIG_free(sig);
    }
    return raw;
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void check_token(std::string_view token) {
  const Fixture& f = fixture();
  Jwt jwt;
  if (auto refusal = parse_jwt(token, f.algorithms, 16 * 1024, jwt)) {
    if (refusal->detail.empty()) __builtin_trap();
    return;
  }
  const PublicKey* key = jwt.kid ? f.keys.find(*jwt.kid) : &f.keys.keys.front();
  if (key && verify_signature(*key, jwt.algorithm, jwt.signing_input, jwt.signature)) {
    auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'704'067'200));
    if (auto refusal = check_claims(jwt.claims, f.rules, now); refusal && refusal->detail.empty()) {
      __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 't':
      check_token(input);
      break;
    case 'k': {
      std::vector<std::string> skipped;
      auto set = parse_jwks(input, &skipped);
      if (set && set->keys.empty()) __builtin_trap();
      if (!set && set.error().message.empty()) __builtin_trap();
      break;
    }
    case 's': {
      auto newline = input.find('\n');
      if (newline == std::string_view::npos) break;
      std::string signing_input = encode_base64url(input.substr(0, newline)) + "." +
                                  encode_base64url(input.substr(newline + 1));
      check_token(signing_input + "." + encode_base64url(fixture().sign(signing_input)));
      break;
    }
    default:
      if (auto decoded = decode_base64url(input)) {
        if (encode_base64url(*decoded) != input) __builtin_trap();
      }
      break;
  }
  return 0;
}
