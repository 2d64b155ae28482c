#pragma once
// Compact-serialized JWTs (RFC 7519) as Entra ID issues them: parsed strictly into the claims the
// gateway checks, then checked against the configured issuers, audiences, tenants and times.
// Signature verification sits between the two steps (jwk.hpp), so nothing from an unverified
// payload is ever trusted.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/policies/identity/jwk.hpp"
#include "gateway/policies/identity/refusal.hpp"

namespace sluice::gateway::identity {

// The payload claims the gateway uses. Times are NumericDate seconds.
struct JwtClaims {
  std::string iss;
  std::vector<std::string> aud;  // "aud" may be a string or an array
  std::optional<std::int64_t> exp;
  std::optional<std::int64_t> nbf;
  std::string tid;
  std::string appid;  // v1 tokens
  std::string azp;    // v2 tokens
  std::string ver;    // "1.0" or "2.0"
  std::vector<std::string> roles;
  // Every string claim, and every array of strings joined with single spaces (like "scp"), for
  // metric dimensions, counter keys and required_claims; Entra's opaque per-token values (aio,
  // rh, uti) excepted.
  std::map<std::string, std::string> strings;

  // The calling application: appid for v1 tokens, azp for v2 (either, when ver says neither).
  const std::string& app_id() const noexcept;
};

// A token split and decoded, not yet trusted.
struct Jwt {
  std::string_view signing_input;  // "header.payload", a view into the token
  std::string signature;           // decoded bytes
  JwsAlgorithm algorithm = JwsAlgorithm::kRS256;
  std::optional<std::string> kid;
  JwtClaims claims;
};

// Splits and decodes `token` into `out`. Refuses: more than `max_size` bytes (kTokenTooLarge);
// not three non-empty base64url parts, JSON that is not an object, duplicate or mistyped header
// members or claims, a "crit" header, no "exp" (kMalformedToken); an "alg" not in `allowed` —
// "none" and HMAC always (kAlgorithmNotAllowed). Header members that point at other keys (jku,
// x5u, jwk) are ignored: keys come from configuration only. Never throws beyond std::bad_alloc.
// Any thread (uses a thread-local parser).
std::optional<Refusal> parse_jwt(std::string_view token, const std::vector<JwsAlgorithm>& allowed,
                                 std::size_t max_size, Jwt& out);

struct ClaimRules {
  std::vector<std::string> issuers;    // exact; "{tid}" stands for the token's tid claim
  std::vector<std::string> tenants;    // allowed tid values; empty = any
  std::vector<std::string> audiences;  // any one must match (a trailing '/' is ignored)
  std::chrono::seconds clock_skew{300};
};

// Checks exp and nbf (with the skew) against `now`, then issuer, tenant, audience and the app id.
// Call only after the signature verified. Never throws beyond std::bad_alloc. Any thread.
std::optional<Refusal> check_claims(const JwtClaims& claims, const ClaimRules& rules,
                                    std::chrono::system_clock::time_point now);

// The last instant (Unix seconds, exclusive) at which a token with `exp` still passes, given the
// skew; saturates instead of overflowing.
std::int64_t valid_until(std::int64_t exp, std::chrono::seconds skew) noexcept;
std::int64_t unix_seconds(std::chrono::system_clock::time_point time) noexcept;

}  // namespace sluice::gateway::identity
