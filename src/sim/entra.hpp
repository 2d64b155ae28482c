#pragma once
// A simulated Entra ID tenant: the client-credentials token endpoints (v1 `resource=`, v2
// `scope=…/.default`), OpenID configuration documents, JWKS, and verification of the tokens it
// issued for the data plane. Errors use Entra's body shape (error, error_description with the
// AADSTS code, error_codes, timestamp, trace_id, correlation_id, error_uri).
// Read-only after construction: any thread.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "sim/jwt.hpp"
#include "sluice/sim/settings.hpp"

namespace sluice::sim {

struct EntraReply {
  unsigned status = 200;
  std::string body;
};

class EntraService {
 public:
  EntraService(AuthSettings settings, RsaKey key);
  // The key is made by `make_key` when first needed: generating an RSA key is ~2 billion
  // instructions (~0.2 s), which every simulator start paid though most runs never sign a token.
  EntraService(AuthSettings settings, std::function<RsaKey()> make_key);

  // POST /{tenant}/oauth2/token (v2 = false) and /{tenant}/oauth2/v2.0/token (v2 = true).
  // `form` is the application/x-www-form-urlencoded body; `now` is Unix seconds.
  EntraReply token(std::string_view tenant, bool v2, std::string_view form, std::int64_t now) const;
  // /{tenant}/.well-known/openid-configuration (v1) and /{tenant}/v2.0/.well-known/… (v2).
  // `base_url` is how the client reached us ("http://127.0.0.1:8000").
  EntraReply openid_configuration(std::string_view tenant, bool v2,
                                  std::string_view base_url) const;
  EntraReply jwks() const;

  // Verifies a bearer token for the data plane (signature, exp/nbf, audience, issuer, tenant).
  JwtCheck verify(std::string_view token, std::int64_t now) const;

  const AuthSettings& settings() const { return settings_; }
  // The signing key, made on first use. Any thread.
  const RsaKey& key() const;
  std::string issuer(bool v2) const;

 private:
  EntraReply error(unsigned status, std::string_view error, int code,
                   const std::string& description, std::int64_t now) const;

  AuthSettings settings_;
  std::function<RsaKey()> make_key_;
  mutable std::once_flag key_made_;
  mutable std::optional<RsaKey> key_;
};

// Decodes one application/x-www-form-urlencoded value ('+' is a space, %XX escapes).
std::string form_decode(std::string_view s);
// client_secret_basic (RFC 6749 §2.3.1): when `authorization` is "Basic base64(id:secret)" (each
// form-encoded), returns `form` with client_id and client_secret appended; otherwise `form`.
std::string with_basic_credentials(std::string form, std::string_view authorization);

// The value of `name` in a form body, decoded; empty when absent.
std::string form_value(std::string_view form, std::string_view name, bool* present = nullptr);

}  // namespace sluice::sim
