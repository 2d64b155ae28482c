#pragma once
// The `identity` policy's config section, read and validated once at config load.
//
//   identity:
//     jwt:
//       issuers: ["https://sts.windows.net/{tid}/", "https://login.microsoftonline.com/{tid}/v2.0"]
//       tenants: [<tid>, ...]                 # optional: accepted tid values
//       audiences: ["https://cognitiveservices.azure.com", "api://<app>"]
//       jwks_url: https://login.microsoftonline.com/<tid>/discovery/v2.0/keys   # or jwks_file
//       algorithms: [RS256]                   # RS256 RS384 RS512 ES256 ES384; never none or HS*
//       clock_skew: 5m
//       jwks_refresh_min_interval: 30s        # at most one refresh per interval on unknown kid
//       jwks_refresh_interval: 1h             # background refresh of keys older than this
//       jwks_fetch_timeout: 5s
//       max_token_size: 16KiB
//       cache_size: 4096                      # validated tokens per worker thread; 0 disables
//     api_keys: {header: api-key, keys: [{id, sha256 | key, app_id, display_name, roles}]}
//     apps: {<app id>: {display_name: ...}}   # names for JWT apps
//     allow_anonymous / allow_api_keys / required_roles / required_roles_match / required_claims
//
// docs/policies/identity.md is the reference.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gateway/policies/identity/access_rules.hpp"
#include "gateway/policies/identity/api_keys.hpp"
#include "gateway/policies/identity/jwks_source.hpp"
#include "gateway/policies/identity/jwt.hpp"
#include "sluice/core/config_node.hpp"

namespace sluice::gateway::identity {

struct JwtSettings {
  ClaimRules rules;
  std::vector<JwsAlgorithm> algorithms{JwsAlgorithm::kRS256};
  JwksSourceSettings jwks;
  std::size_t max_token_size = 16 * 1024;
  std::size_t cache_size = 4096;

  // Throws core::ConfigError naming file, line and key. Finishes the node.
  static JwtSettings from_config(const core::ConfigNode& node);
};

struct IdentitySettings {
  std::optional<JwtSettings> jwt;
  std::optional<ApiKeySettings> api_keys;
  std::map<std::string, std::string> app_names;  // app id → display name
  AccessRules access;

  // Throws core::ConfigError naming file, line and key. Finishes the node.
  static IdentitySettings from_config(const core::ConfigNode& node);
};

}  // namespace sluice::gateway::identity
