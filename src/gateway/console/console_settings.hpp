#pragma once
// The `console:` section: who may open the operator console and where its data comes from.
// docs/console.md is the user's reference.
//
//   console:
//     access:                        # the identity policy's section, same keys and code
//       api_keys: {keys: [{id: console-admin, key: "${env:SLUICE_ADMIN_KEY}", app_id: operator}]}
//       jwt: {...}                   # Entra tokens ...
//       required_roles: [Sluice.Admin]   # ... carrying this app role
//     prices: prices.yaml            # cost column (the `sluice usage report --prices` format)
//     usage_store: usage.db          # default: the `usage` policy's store
//     prompt_log_file: prompts.jsonl # default: the `prompt_log` policy's file
//     protect_admin_routes: false    # true: /admin/backends and /metrics need the credential too
//
// Without a `console:` section the admin listener serves no console (`/` answers 404 saying how to
// turn it on) and every existing route behaves as before.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sluice/core/config_node.hpp"
#include "sluice/gateway/settings.hpp"
#include "sluice/usage/report.hpp"

namespace sluice::gateway::console {

struct ConsoleSettings {
  bool enabled = false;  // a `console:` section is present
  PolicyPtr access;      // an identity policy; null when disabled
  std::optional<usage::PriceTable> prices;
  std::string usage_store;                // empty: chargeback has no store to read
  std::filesystem::path prompt_log_file;  // empty: no prompt log to show
  bool protect_admin_routes = false;
  std::string masked_config;  // the loaded document as JSON, secrets masked
  std::string config_source;  // the file it came from
  std::chrono::system_clock::time_point loaded_at;

  // Reads `console:` of `root` after the rest of the gateway's settings (`gateway` has its
  // policies), building the access policy with the registry's "identity" factory. Throws
  // core::ConfigError naming file, line and key.
  static ConsoleSettings from_config(const core::ConfigNode& root, const GatewaySettings& gateway,
                                     const PolicyRegistry& registry, PolicyServices& services);
};

}  // namespace sluice::gateway::console
