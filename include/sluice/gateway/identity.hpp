#pragma once
// Who is calling: resolved by the identity policies (Entra JWT, API key) before anything else,
// then used by token limits, metrics dimensions, usage records and logs.
#include <map>
#include <string>
#include <vector>

namespace sluice::gateway {

enum class IdentityKind { kAnonymous, kJwt, kApiKey };

struct Identity {
  IdentityKind kind = IdentityKind::kAnonymous;
  std::string app_id;        // JWT appid/azp, or the API key's configured app
  std::string display_name;  // configured name of the app, if known
  std::string tenant;        // JWT tid
  std::string key_id;        // API key id (never the key itself)
  std::vector<std::string> roles;
  std::map<std::string, std::string> claims;  // string claims, for metric dimensions and limits

  bool has_role(const std::string& role) const;
};

const char* to_string(IdentityKind kind);

// The identity of a request no identity policy has resolved: kind anonymous, every field empty.
const Identity& anonymous_identity() noexcept;

}  // namespace sluice::gateway
