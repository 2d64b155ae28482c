#pragma once
// Why the identity and access policies refused a request, how each reason answers the client (in
// the shapes Azure OpenAI uses), and the process-wide counters of refusals by reason.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/http/asio.hpp"

namespace sluice::gateway::identity {

// Stable names (to_string) are metric label values and log words: never rename one.
enum class RefusalReason : int {
  kMissingCredentials,   // no api-key header and no bearer token
  kInvalidApiKey,        // a key that is not configured
  kMalformedToken,       // not three base64url parts of JSON, or a claim of the wrong type
  kTokenTooLarge,        // longer than max_token_size
  kAlgorithmNotAllowed,  // alg none, HS256 (HMAC with the public key), anything not configured
  kKidMissing,           // no kid while the JWKS holds several keys
  kUnknownKid,           // kid not in the JWKS, even after a refresh
  kBadSignature,         // tampered header, payload or signature
  kExpired,              // exp + clock_skew is past
  kNotYetValid,          // nbf - clock_skew is in the future
  kWrongIssuer,
  kWrongAudience,
  kWrongTenant,       // tid not among the configured tenants
  kMissingAppId,      // neither appid (v1) nor azp (v2)
  kKeysUnavailable,   // the JWKS could never be fetched: no key to check against (503)
  kApiKeyNotAllowed,  // API-key access is blocked on this route (403)
  kMissingRole,       // a required app role is absent (403)
  kMissingClaim,      // a required claim is absent or has another value (403)
  kCount
};

inline constexpr std::size_t kRefusalReasonCount = static_cast<std::size_t>(RefusalReason::kCount);

std::string_view to_string(RefusalReason reason) noexcept;

// A refusal and what exactly was wrong, for the gateway log. `detail` never holds a credential.
struct Refusal {
  RefusalReason reason = RefusalReason::kMalformedToken;
  std::string detail;
};

// The response sent for `reason`: 401 with WWW-Authenticate for missing or invalid credentials,
// 403 for blocked keys and missing roles or claims, 503 when no signing keys are available. The
// body is Azure's {"error":{"code","message"}}; `audience` fills the token message as Azure does.
// Never throws (beyond std::bad_alloc). Any thread.
http::Response refusal_response(RefusalReason reason, std::string_view audience, unsigned version);

// Counters since the process started, kept across config reloads (Prometheus counters must not
// go back). Written with relaxed atomics from every worker; read from any thread (metrics).
struct IdentityStats {
  std::array<std::atomic<std::uint64_t>, kRefusalReasonCount> refusals{};
  std::atomic<std::uint64_t> jwt_accepted{0};    // bearer tokens accepted (cache hits included)
  std::atomic<std::uint64_t> jwt_cache_hits{0};  // of which served from the validation cache
  std::atomic<std::uint64_t> api_key_accepted{0};
  std::atomic<std::uint64_t> anonymous_accepted{0};
  std::atomic<std::uint64_t> jwks_fetches{0};         // JWKS fetch attempts (URL sources)
  std::atomic<std::uint64_t> jwks_fetch_failures{0};  // of which failed (stale keys kept)

  void count(RefusalReason reason) noexcept {
    refusals[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
};

// The one process-wide instance. Any thread.
IdentityStats& identity_stats() noexcept;

}  // namespace sluice::gateway::identity
