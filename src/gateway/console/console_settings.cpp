#include "gateway/console/console_settings.hpp"

#include <boost/json.hpp>

#include "gateway/console/secret_masking.hpp"
#include "gateway/policies/prompt_log/prompt_log_policy.hpp"
#include "gateway/policies/usage/usage_policy.hpp"

namespace sluice::gateway::console {

namespace {

// The policies of the whole config: top level first, then each route's own.
std::vector<const Policy*> all_policies(const GatewaySettings& gateway) {
  std::vector<const Policy*> out;
  for (const auto& p : gateway.global_policies) out.push_back(p.get());
  for (const auto& route : gateway.routes) {
    for (const auto& p : route.policies) out.push_back(p.get());
  }
  return out;
}

std::string configured_usage_store(const GatewaySettings& gateway) {
  for (const Policy* p : all_policies(gateway)) {
    if (const auto* usage = dynamic_cast<const UsagePolicy*>(p)) return usage->store_url();
  }
  return {};
}

std::filesystem::path configured_prompt_log_file(const GatewaySettings& gateway) {
  for (const Policy* p : all_policies(gateway)) {
    if (const auto* log = dynamic_cast<const PromptLogPolicy*>(p)) {
      if (!log->sinks().file.empty()) return log->sinks().file;
    }
  }
  return {};
}

// A relative path in the config is relative to the config file, as ${file:...} is.
std::filesystem::path beside_config(const core::ConfigNode& root, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p;
  return std::filesystem::path(root.source_name()).parent_path() / p;
}

}  // namespace

ConsoleSettings ConsoleSettings::from_config(const core::ConfigNode& root,
                                             const GatewaySettings& gateway,
                                             const PolicyRegistry& registry,
                                             PolicyServices& services) {
  ConsoleSettings s;
  s.config_source = root.source_name();
  s.loaded_at = std::chrono::system_clock::now();
  auto node = root.section("console");
  if (node.is_absent() || node.is_null()) return s;
  s.enabled = true;
  auto access = node.section("access");
  if (access.is_absent() || access.is_null()) {
    node.fail(
        "the console needs `access:` (an identity section, e.g. "
        "{api_keys: {keys: [{id: console-admin, key: \"${env:SLUICE_ADMIN_KEY}\", "
        "app_id: operator}]}}), so no admin data is reachable without a credential");
  }
  const PolicyFactory* identity = registry.find("identity");
  if (!identity) node.fail_at("access", "this build has no identity policy to check it with");
  s.access = (*identity)(access, services);
  if (auto prices = node.get<std::string>("prices")) {
    try {
      s.prices = usage::PriceTable::load(beside_config(root, *prices));
    } catch (const core::ConfigError&) {
      throw;
    } catch (const std::exception& e) {
      node.fail_at("prices", e.what());
    }
  }
  s.usage_store = node.optional<std::string>("usage_store", configured_usage_store(gateway));
  if (auto file = node.get<std::string>("prompt_log_file")) {
    s.prompt_log_file = beside_config(root, *file);
  } else {
    s.prompt_log_file = configured_prompt_log_file(gateway);
  }
  s.protect_admin_routes = node.optional<bool>("protect_admin_routes", false);
  node.finish();
  return s;
}

}  // namespace sluice::gateway::console
