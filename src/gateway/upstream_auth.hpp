#pragma once
// Outbound credentials per backend: a fixed api-key, an OAuth2 client-credentials token (Entra ID
// v1 `resource=` or v2 `scope=`), the caller's own credential passed through, or nothing.
//
// The OAuth2 token is cached for all workers and refreshed `refresh_before` its expiry; only one
// refresh is in flight at a time, and requests keep using the still-valid token meanwhile.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/gateway/settings.hpp"
#include "sluice/http/client.hpp"

namespace sluice::gateway {

// The client's credential fields: Authorization and api-key. The proxy never copies them to an
// upstream request (a backend's credential is UpstreamAuth's to set), so a credential that goes
// into one of them is inserted without a search for an earlier one.
bool is_client_credential_field(http::Field field, std::string_view name);

class UpstreamAuth {
 public:
  explicit UpstreamAuth(const UpstreamAuthSettings& settings);

  // Puts the credential on `upstream` (copied from `client` for pass-through). Returns an error
  // message when no credential could be had (token endpoint down), else nothing. `upstream` holds
  // none of the client's credential fields (api-key, Authorization), as the proxy builds it: a
  // credential in one of them is inserted without a search for an earlier one.
  http::Task<std::optional<std::string>> apply(http::Request& upstream, const http::Request& client,
                                               http::ClientPool& pool);

  // Puts a credential that needs no token (none, api-key, pass-through) on `upstream` at once and
  // returns true; false, having done nothing, for a token that apply() must fetch or check. The
  // proxy calls this first, so the common kinds cost no coroutine of their own.
  bool apply_at_once(http::Request& upstream, const http::Request& client) const;

  std::uint64_t token_fetches() const { return token_fetches_.load(std::memory_order_relaxed); }

 private:
  struct Token {
    std::string bearer;  // "Bearer ..."
    std::chrono::steady_clock::time_point expires_at;
  };
  http::Task<std::optional<std::string>> refresh(http::ClientPool& pool);

  const UpstreamAuthSettings& settings_;
  // The api-key kind's field, looked up once: its code, and whether it is a client credential
  // field, which `upstream` does not hold (then insert() will do, not set()).
  http::Field api_key_field_ = http::Field::unknown;
  bool api_key_field_is_client_credential_ = false;
  std::atomic<std::shared_ptr<const Token>> token_;
  std::atomic<bool> refreshing_{false};
  std::atomic<std::uint64_t> token_fetches_{0};
};

}  // namespace sluice::gateway
