#pragma once
// What an identified caller must have to pass: not anonymous (unless allowed), not an API key on
// a route that blocks keys, the required app roles, the required claim values. Used by the
// `identity` policy (rules for every route it covers) and the `access` policy (a route's own).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/policies/identity/refusal.hpp"
#include "sluice/core/config_node.hpp"
#include "sluice/gateway/identity.hpp"

namespace sluice::gateway::identity {

struct AccessRules {
  bool allow_anonymous = false;
  bool allow_api_keys = true;
  std::vector<std::string> required_roles;
  bool any_role = false;  // required_roles_match: any (one role suffices) instead of all
  // claim → accepted values; the claim passes when its value, or one space-separated word of it
  // (arrays are joined with spaces), is among them.
  std::vector<std::pair<std::string, std::vector<std::string>>> required_claims;

  // Reads allow_anonymous, allow_api_keys, required_roles, required_roles_match and
  // required_claims from `node` (other keys are left for the caller; it calls finish()).
  // Throws core::ConfigError. Startup thread.
  static AccessRules read(const core::ConfigNode& node);

  // Nothing when `identity` passes; otherwise why not. Never throws beyond std::bad_alloc.
  // Any thread.
  std::optional<Refusal> check(const Identity& identity) const;
};

}  // namespace sluice::gateway::identity
