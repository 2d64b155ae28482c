#include "gateway/policies/identity/access_rules.hpp"

#include <algorithm>

namespace sluice::gateway::identity {

namespace {

bool claim_matches(std::string_view value, const std::vector<std::string>& accepted) {
  for (const auto& want : accepted) {
    if (value == want) return true;
    std::size_t start = 0;
    while (start <= value.size()) {
      std::size_t end = value.find(' ', start);
      if (end == std::string_view::npos) end = value.size();
      if (value.substr(start, end - start) == want) return true;
      start = end + 1;
    }
  }
  return false;
}

}  // namespace

AccessRules AccessRules::read(const core::ConfigNode& node) {
  AccessRules rules;
  rules.allow_anonymous = node.optional<bool>("allow_anonymous", rules.allow_anonymous);
  rules.allow_api_keys = node.optional<bool>("allow_api_keys", rules.allow_api_keys);
  rules.required_roles = node.optional<std::vector<std::string>>("required_roles", {});
  for (const auto& role : rules.required_roles) {
    if (role.empty()) node.fail_at("required_roles", "a role name must not be empty");
  }
  rules.any_role =
      node.optional_choice<bool>("required_roles_match", {{"all", false}, {"any", true}}, false);
  if (auto claims = node.find("required_claims")) {
    for (const auto& [name, value] : claims->entries()) {
      std::vector<std::string> accepted;
      if (value.is_sequence()) {
        accepted = value.as<std::vector<std::string>>();
      } else {
        accepted.push_back(value.as<std::string>());
      }
      if (accepted.empty()) value.fail("list at least one accepted value");
      rules.required_claims.emplace_back(name, std::move(accepted));
    }
  }
  return rules;
}

std::optional<Refusal> AccessRules::check(const Identity& identity) const {
  if (identity.kind == IdentityKind::kAnonymous && !allow_anonymous) {
    return Refusal{RefusalReason::kMissingCredentials, "no credentials"};
  }
  if (identity.kind == IdentityKind::kApiKey && !allow_api_keys) {
    return Refusal{RefusalReason::kApiKeyNotAllowed,
                   "API key '" + identity.key_id + "' used where API keys are blocked"};
  }
  if (!required_roles.empty()) {
    auto has = [&](const std::string& role) { return identity.has_role(role); };
    bool ok = any_role ? std::any_of(required_roles.begin(), required_roles.end(), has)
                       : std::all_of(required_roles.begin(), required_roles.end(), has);
    if (!ok) {
      std::string wanted;
      for (const auto& role : required_roles) wanted += (wanted.empty() ? "" : ", ") + role;
      return Refusal{RefusalReason::kMissingRole, "app '" + identity.app_id + "' lacks " +
                                                      (any_role ? "any of" : "all of") +
                                                      " roles [" + wanted + "]"};
    }
  }
  for (const auto& [name, accepted] : required_claims) {
    auto it = identity.claims.find(name);
    if (it == identity.claims.end() || !claim_matches(it->second, accepted)) {
      return Refusal{
          RefusalReason::kMissingClaim,
          "app '" + identity.app_id + "' lacks the required value of claim '" + name + "'"};
    }
  }
  return std::nullopt;
}

}  // namespace sluice::gateway::identity
