#pragma once
// The running configuration as the console shows it: the loaded YAML (after ${env:...} and
// ${file:...} substitution, so as it really runs) with every secret replaced by kMask.
//
// A value is a secret when its key says so (key, api_key, password, client_secret, token,
// sha256, connection_string, authorization, or any key ending in _key, _secret, _password,
// _token) — whatever the value looks like; and inside any other value, the password of a URL
// (scheme://user:password@host), a `password=` parameter and a `Bearer` credential are masked.
// Over-masking is the safe direction: when unsure, a value is hidden.
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "sluice/core/config_node.hpp"

namespace sluice::gateway::console {

inline constexpr std::string_view kMask = "********";

// Whether the value under `key` is a secret by its name alone. Case-insensitive.
bool is_secret_key(std::string_view key);

// `value` with passwords inside URLs, `password=` parameters and Bearer credentials masked.
std::string mask_embedded_secrets(std::string_view value);

// The whole document below `node` as JSON (scalars as strings), secrets masked. Marks what it
// reads as consumed, so call it after the settings were read. Startup/reload thread only.
boost::json::value masked_config(const core::ConfigNode& node);

}  // namespace sluice::gateway::console
