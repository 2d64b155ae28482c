#include "gateway/console/secret_masking.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/json.hpp>

namespace sluice::gateway::console {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Names that hold a count or a choice about secrets, not a secret ("counter_key: app").
bool is_known_harmless(std::string_view key) {
  static constexpr std::array kHarmless = {"counter_key", "cache_key", "partition_key"};
  return std::find(kHarmless.begin(), kHarmless.end(), key) != kHarmless.end();
}

// Masks the password of every scheme://user:password@host in `text`.
void mask_url_passwords(std::string& text) {
  for (auto scheme = text.find("://"); scheme != std::string::npos;
       scheme = text.find("://", scheme + 3)) {
    auto start = scheme + 3;
    auto end = text.find_first_of("/?# \t", start);
    if (end == std::string::npos) end = text.size();
    auto at = text.rfind('@', end);
    if (at == std::string::npos || at < start) continue;
    auto colon = text.find(':', start);
    if (colon == std::string::npos || colon > at) continue;
    text.replace(colon + 1, at - colon - 1, kMask);
  }
}

// Masks what follows `marker` up to the next separator in `stops`, case-insensitively.
void mask_after(std::string& text, std::string_view marker, std::string_view stops) {
  std::string folded = lower(text);
  std::size_t from = 0;
  while (true) {
    auto pos = folded.find(marker, from);
    if (pos == std::string::npos) return;
    auto start = pos + marker.size();
    auto end = text.find_first_of(stops, start);
    if (end == std::string::npos) end = text.size();
    if (end > start) {
      text.replace(start, end - start, kMask);
      folded.replace(start, end - start, kMask);
    }
    from = start + kMask.size();
  }
}

}  // namespace

bool is_secret_key(std::string_view key) {
  const std::string name = lower(key);
  if (is_known_harmless(name)) return false;
  static constexpr std::array kExact = {
      "key",         "api_key",           "apikey",        "password", "passwd",
      "secret",      "client_secret",     "token",         "sha256",   "credential",
      "credentials", "connection_string", "authorization", "api-key",  "bearer"};
  if (std::find(kExact.begin(), kExact.end(), name) != kExact.end()) return true;
  for (std::string_view suffix : {"_key", "_secret", "_password", "_token", "-key", "-secret"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

std::string mask_embedded_secrets(std::string_view value) {
  std::string text(value);
  mask_url_passwords(text);
  mask_after(text, "password=", "&; \t");
  mask_after(text, "bearer ", " \t,;");
  return text;
}

boost::json::value masked_config(const core::ConfigNode& node) {
  if (node.is_null()) return nullptr;
  if (node.is_mapping()) {
    boost::json::object out;
    for (const auto& [key, child] : node.entries()) {
      if (is_secret_key(key) && !child.is_null()) {
        // Also a list or mapping under a secret name (a list of keys): hidden as one.
        out[key] = kMask;
      } else {
        out[key] = masked_config(child);
      }
    }
    return out;
  }
  if (node.is_sequence()) {
    boost::json::array out;
    for (const auto& item : node.items()) out.push_back(masked_config(item));
    return out;
  }
  return boost::json::value(mask_embedded_secrets(node.scalar()));
}

}  // namespace sluice::gateway::console
