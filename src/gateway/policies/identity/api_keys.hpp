#pragma once
// The API keys the gateway accepts, each bound to an app identity. Only SHA-256 digests are kept:
// the config may hold a digest (`sha256:`) or the key itself (`key:`, typically `${env:...}`),
// which is hashed at load and dropped. A presented key is hashed and looked up, so lookups take
// the same time whichever digest bytes match.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/core/config_node.hpp"
#include "sluice/gateway/identity.hpp"

namespace sluice::gateway::identity {

struct ApiKeySettings {
  // Lower-case name of the key header. Keys are also accepted as `Authorization: Bearer <key>`
  // (presented_credential.hpp); "authorization" means only there.
  std::string header = "api-key";
  struct Key {
    std::string id;      // names the key in logs, records and metrics (never the key)
    std::string sha256;  // 32 raw bytes
    std::string app_id;
    std::string display_name;
    std::vector<std::string> roles;
  };
  std::vector<Key> keys;

  // Reads {header, keys: [{id, sha256 | key, app_id, display_name, roles}]}, finishing the node.
  // Throws core::ConfigError (bad hex, both or neither of sha256/key, duplicate ids or keys).
  static ApiKeySettings from_config(const core::ConfigNode& node);
};

class ApiKeyTable {
 public:
  explicit ApiKeyTable(const ApiKeySettings& settings);

  // The identity of `key`, or null if it is not configured. Never throws beyond std::bad_alloc.
  // Any thread (read-only after construction).
  const Identity* find(std::string_view key) const;
  std::size_t size() const noexcept { return by_digest_.size(); }

 private:
  std::unordered_map<std::string, Identity> by_digest_;
};

}  // namespace sluice::gateway::identity
