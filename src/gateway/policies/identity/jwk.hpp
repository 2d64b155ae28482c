#pragma once
// Public keys from a JSON Web Key Set (RFC 7517) and JWS signature verification with them
// (RFC 7518: RS256/384/512, ES256/384), on OpenSSL 3's EVP interface.
//
// HMAC algorithms are deliberately absent: a gateway verifying with keys it fetched publicly must
// never treat a public key as an HMAC secret (the classic alg-confusion forgery).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace sluice::gateway::identity {

enum class JwsAlgorithm { kRS256, kRS384, kRS512, kES256, kES384 };

// "RS256" → kRS256 ...; nullopt for anything else ("none", "HS256", "PS256", "rs256"). Any thread.
std::optional<JwsAlgorithm> parse_algorithm(std::string_view name) noexcept;
std::string_view to_string(JwsAlgorithm algorithm) noexcept;

enum class KeyType { kRsa, kEcP256, kEcP384 };

struct PublicKey {
  std::string kid;  // may be empty when the JWKS has a single key
  std::string alg;  // the JWK's own "alg" restriction, empty when it names none
  KeyType type = KeyType::kRsa;
  std::shared_ptr<EVP_PKEY> key;  // read-only after parsing: shared by every thread

  // Whether this key may verify `algorithm` (key type, curve, and the JWK's alg if any).
  bool accepts(JwsAlgorithm algorithm) const noexcept;
};

// An immutable snapshot of a JWKS; replaced whole when a refresh brings different keys.
struct KeySet {
  std::vector<PublicKey> keys;
  std::string fingerprint;       // the key material, to tell whether a refresh changed anything
  std::uint64_t generation = 0;  // set by the source when it publishes the set

  const PublicKey* find(std::string_view kid) const noexcept;
};

// Parses a JWKS document ({"keys":[...]}). Keys that cannot sign what this gateway verifies are
// skipped and described in `skipped` (for a startup or refresh warning): "use" other than "sig",
// kty "oct" or unknown, unknown curves, RSA moduli under 2048 bits, malformed members. Errors
// (kInvalidArgument): not JSON, no "keys" array, or no usable key at all. Never throws beyond
// std::bad_alloc. Any thread.
core::Result<KeySet> parse_jwks(std::string_view json, std::vector<std::string>* skipped = nullptr);

// Verifies the JWS `signature` (raw bytes: PKCS#1 v1.5 for RS*, r||s for ES*) over
// `signing_input` with `key`. False for any mismatch, wrong length or OpenSSL failure; never
// throws. Any thread (the key is shared read-only).
bool verify_signature(const PublicKey& key, JwsAlgorithm algorithm, std::string_view signing_input,
                      std::string_view signature) noexcept;

}  // namespace sluice::gateway::identity
