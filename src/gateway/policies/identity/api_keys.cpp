#include "gateway/policies/identity/api_keys.hpp"

#include "gateway/sha256.hpp"

#include <cctype>
#include <memory>
#include <set>

namespace sluice::gateway::identity {

namespace {

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// 64 hex digits → 32 bytes; empty on anything else.
std::string from_hex(std::string_view hex) {
  if (hex.size() != 64) return {};
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int value = 0;
    for (std::size_t j = i; j < i + 2; ++j) {
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(hex[j])));
      int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (digit < 0) return {};
      value = value * 16 + digit;
    }
    out.push_back(static_cast<char>(value));
  }
  return out;
}

}  // namespace

ApiKeySettings ApiKeySettings::from_config(const core::ConfigNode& node) {
  ApiKeySettings settings;
  settings.header = lower(node.optional<std::string>("header", settings.header));
  if (settings.header.empty()) node.fail_at("header", "must name a header");
  std::set<std::string> ids;
  std::set<std::string> digests;
  auto keys = node.find("keys");
  if (!keys) node.fail("`api_keys` needs `keys` (a list of {id, sha256, app_id})");
  for (const auto& item : keys->items()) {
    Key key;
    key.id = item.required<std::string>("id");
    if (key.id.empty()) item.fail_at("id", "must not be empty");
    if (!ids.insert(key.id).second) item.fail_at("id", "duplicate API key id '" + key.id + "'");
    bool has_digest = item.has("sha256");
    bool has_key = item.has("key");
    if (has_digest == has_key) {
      item.fail("give exactly one of `sha256` (hex digest of the key) or `key` (hashed at load)");
    }
    if (has_digest) {
      key.sha256 = from_hex(item.required<std::string>("sha256"));
      if (key.sha256.empty())
        item.fail_at("sha256", "must be 64 hex digits (sha256sum of the key)");
    } else {
      std::string plain = item.required<std::string>("key");
      if (plain.empty()) item.fail_at("key", "must not be empty");
      key.sha256 = sha256(plain);
    }
    if (!digests.insert(key.sha256).second) {
      item.fail("API key '" + key.id + "' is the same key as another entry");
    }
    key.app_id = item.optional<std::string>("app_id", key.id);
    key.display_name = item.optional<std::string>("display_name", key.app_id);
    key.roles = item.optional<std::vector<std::string>>("roles", {});
    item.finish();
    settings.keys.push_back(std::move(key));
  }
  if (settings.keys.empty()) keys->fail("list at least one key");
  node.finish();
  return settings;
}

ApiKeyTable::ApiKeyTable(const ApiKeySettings& settings) {
  for (const auto& key : settings.keys) {
    Identity identity;
    identity.kind = IdentityKind::kApiKey;
    identity.app_id = key.app_id;
    identity.display_name = key.display_name;
    identity.key_id = key.id;
    identity.roles = key.roles;
    by_digest_.emplace(key.sha256, std::move(identity));
  }
}

const Identity* ApiKeyTable::find(std::string_view key) const {
  auto it = by_digest_.find(sha256(key));
  return it == by_digest_.end() ? nullptr : &it->second;
}

}  // namespace sluice::gateway::identity
