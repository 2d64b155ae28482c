#include "gateway/policies/identity/identity_settings.hpp"

#include <algorithm>

#include "sluice/core/byte_size.hpp"
#include "sluice/http/url.hpp"

namespace sluice::gateway::identity {

namespace {

using std::chrono::milliseconds;

std::vector<std::string> required_list(const core::ConfigNode& node, std::string_view key) {
  auto values = node.required<std::vector<std::string>>(key);
  if (values.empty()) node.fail_at(key, "list at least one value");
  for (const auto& value : values) {
    if (value.empty()) node.fail_at(key, "values must not be empty");
  }
  return values;
}

}  // namespace

JwtSettings JwtSettings::from_config(const core::ConfigNode& node) {
  JwtSettings s;
  s.rules.issuers = required_list(node, "issuers");
  for (const auto& issuer : s.rules.issuers) {
    auto at = issuer.find('{');
    if (at != std::string::npos && issuer.compare(at, 5, "{tid}") != 0) {
      node.fail_at("issuers", "the only placeholder an issuer may hold is {tid}: '" + issuer + "'");
    }
  }
  s.rules.tenants = node.optional<std::vector<std::string>>("tenants", {});
  s.rules.audiences = required_list(node, "audiences");
  s.rules.clock_skew = node.optional<std::chrono::seconds>("clock_skew", s.rules.clock_skew);
  if (s.rules.clock_skew > std::chrono::hours(1)) {
    node.fail_at("clock_skew", "must be at most 1h (Entra tokens live about an hour)");
  }

  if (node.has("algorithms")) {
    s.algorithms.clear();
    auto list = node.find("algorithms");
    for (const auto& item : list->items()) {
      std::string name = item.as<std::string>();
      auto algorithm = parse_algorithm(name);
      if (!algorithm) {
        if (name.size() > 2 && (name.substr(0, 2) == "HS" || name.substr(0, 2) == "hs")) {
          item.fail("HMAC algorithms are refused: verifying with keys from a JWKS, '" + name +
                    "' would let anyone holding the public key forge tokens");
        }
        item.fail("unsupported algorithm '" + name +
                  "' (supported: RS256, RS384, RS512, ES256, ES384)");
      }
      if (std::find(s.algorithms.begin(), s.algorithms.end(), *algorithm) == s.algorithms.end()) {
        s.algorithms.push_back(*algorithm);
      }
    }
    if (s.algorithms.empty()) list->fail("list at least one algorithm");
  }

  bool has_url = node.has("jwks_url");
  bool has_file = node.has("jwks_file");
  if (has_url == has_file) node.fail("give exactly one of `jwks_url` or `jwks_file`");
  if (has_url) {
    s.jwks.url = node.required<std::string>("jwks_url");
    std::string error;
    if (!http::parse_url(s.jwks.url, &error)) node.fail_at("jwks_url", error);
  } else {
    s.jwks.file = node.required<std::string>("jwks_file");
  }
  s.jwks.refresh_min_interval =
      node.optional<milliseconds>("jwks_refresh_min_interval", s.jwks.refresh_min_interval);
  s.jwks.refresh_interval =
      node.optional<milliseconds>("jwks_refresh_interval", s.jwks.refresh_interval);
  if (s.jwks.refresh_interval < s.jwks.refresh_min_interval) {
    node.fail_at("jwks_refresh_interval", "must not be shorter than jwks_refresh_min_interval");
  }
  s.jwks.fetch_timeout = node.optional<milliseconds>("jwks_fetch_timeout", s.jwks.fetch_timeout);
  if (s.jwks.fetch_timeout.count() <= 0) node.fail_at("jwks_fetch_timeout", "must be positive");
  s.max_token_size = node.optional<core::ByteSize>("max_token_size", {s.max_token_size}).bytes;
  if (s.max_token_size < 512 || s.max_token_size > 1024 * 1024) {
    node.fail_at("max_token_size", "must be between 512B and 1MiB");
  }
  s.cache_size = node.optional<std::size_t>("cache_size", s.cache_size);
  node.finish();
  return s;
}

IdentitySettings IdentitySettings::from_config(const core::ConfigNode& node) {
  IdentitySettings s;
  if (auto jwt = node.find("jwt"); jwt && !jwt->is_null()) s.jwt = JwtSettings::from_config(*jwt);
  if (auto keys = node.find("api_keys"); keys && !keys->is_null()) {
    s.api_keys = ApiKeySettings::from_config(*keys);
  }
  if (auto apps = node.find("apps")) {
    for (const auto& [id, app] : apps->entries()) {
      s.app_names[id] = app.required<std::string>("display_name");
      app.finish();
    }
  }
  s.access = AccessRules::read(node);
  if (!s.jwt && !s.api_keys && !s.access.allow_anonymous) {
    node.fail("`identity` needs `jwt`, `api_keys` or both (or allow_anonymous: true)");
  }
  if (!s.api_keys && node.has("allow_api_keys") && s.access.allow_api_keys) {
    node.fail_at("allow_api_keys", "no `api_keys` are configured");
  }
  node.finish();
  return s;
}

}  // namespace sluice::gateway::identity
