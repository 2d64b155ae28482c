#pragma once
// Inbound identity and access, as two gateway policies:
//
//   identity  (PhaseOrder::kIdentify)   who is calling: validates an Entra ID bearer JWT or an API
//             key and fills RequestContext::identity (kind, app id, display name, tenant, key id,
//             roles, claims); refuses missing or invalid credentials with 401. Its own access
//             rules (allow_api_keys, required_roles, required_claims) apply to every route it
//             covers.
//   access    (PhaseOrder::kAuthorize)  a route's own rules on top: block API keys on this route,
//             require app roles or claim values. 403 when they are not met.
//
//   policies:
//     identity: {jwt: {...}, api_keys: {...}, apps: {...}}     # top level: every route
//   routes:
//     - name: batch
//       policies:
//         access: {allow_api_keys: false, required_roles: [Batch.Submit]}
//
// Both are built once per config load and shared by all workers. Request-path state is a
// per-thread token cache and lock-free snapshots of the signing keys; locks exist nowhere on the
// request path. Refusals are counted by reason in identity_stats() (refusal.hpp) and logged with
// the reason, never the credential. docs/policies/identity.md is the reference.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/policies/identity/api_keys.hpp"
#include "gateway/policies/identity/identity_settings.hpp"
#include "gateway/policies/identity/refusal.hpp"
#include "sluice/gateway/policy.hpp"
#include "sluice/gateway/settings.hpp"

namespace spdlog {
class logger;
}

namespace sluice::gateway {

// Registers "identity" and "access" (the one line in builtin_policies.cpp).
void add_identity_policies(PolicyRegistry& registry);

// For metrics: refusals since the process started, one entry per reason (all reasons, zeros
// included, in a fixed order), e.g. {"expired", 3}. Reason names are stable label values. Any
// thread. The other counters (tokens accepted, cache hits, JWKS fetches) are in identity_stats().
std::vector<std::pair<std::string_view, std::uint64_t>> identity_refusals_by_reason();

namespace identity {

class IdentityPolicy final : public Policy {
 public:
  // `jwks` is null when no `jwt` section is configured. `clock` must outlive the policy.
  IdentityPolicy(IdentitySettings settings, std::shared_ptr<JwksSource> jwks,
                 const core::Clock& clock);

  std::string_view name() const override { return "identity"; }
  PhaseOrder phase_order() const override { return PhaseOrder::kIdentify; }
  http::Task<std::optional<http::Response>> on_request(RequestContext& context) override;
  void on_upstream(RequestContext& context, http::Request& upstream,
                   http::ExtraFields& extra) override;

  const IdentitySettings& settings() const noexcept { return settings_; }

 private:
  // The identity of a token validated before (the per-thread cache): no key set, no crypto.
  std::shared_ptr<const Identity> cached_token(std::string_view token) const;
  enum class TokenStep { kAccepted, kRefused, kNeedKeys };
  // Validates a bearer JWT with `keys` (may be null) into `identity`. kNeedKeys: the keys lack
  // the token's kid (or there are none) and `may_refresh` — fetch and call again.
  TokenStep check_token(std::string_view token, const KeySet* keys, bool may_refresh,
                        std::shared_ptr<const Identity>& identity, Refusal& refusal) const;
  std::optional<http::Response> refuse(RequestContext& context, const Refusal& refusal) const;

  IdentitySettings settings_;
  std::shared_ptr<JwksSource> jwks_;
  std::optional<ApiKeyTable> api_keys_;
  const core::Clock& clock_;
  std::uint64_t instance_;  // owner id of this policy's per-thread token caches
  std::string audience_;    // quoted in the invalid-token message, as Azure quotes its own
  std::shared_ptr<spdlog::logger> log_;
};

class AccessPolicy final : public Policy {
 public:
  explicit AccessPolicy(AccessRules rules);

  std::string_view name() const override { return "access"; }
  PhaseOrder phase_order() const override { return PhaseOrder::kAuthorize; }
  http::Task<std::optional<http::Response>> on_request(RequestContext& context) override;

 private:
  AccessRules rules_;
  std::shared_ptr<spdlog::logger> log_;
};

// The response for `refusal`, counted and logged (request id, client address, reason, detail).
// Sets context.error_code to the reason. Any worker thread.
http::Response refuse_request(RequestContext& context, const Refusal& refusal,
                              std::string_view audience, spdlog::logger& log);

}  // namespace identity
}  // namespace sluice::gateway
