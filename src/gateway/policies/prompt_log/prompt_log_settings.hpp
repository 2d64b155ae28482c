#pragma once
// Settings of the `prompt_log` policy, read once from its config section and shared read-only.
// docs/policies/prompt_log.md is the user's reference.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sluice/core/config_node.hpp"

namespace sluice::gateway {

struct RedactionSettings {
  std::vector<std::string> patterns;     // PCRE2 regexes, matched against prompt and response
  std::vector<std::string> json_fields;  // dotted paths in the request body, `*` = any key/index
  std::string replacement = "[REDACTED]";
};

// Where entries go and how much may wait: one writer (thread, queue, sinks) per file or store.
struct PromptLogSinkSettings {
  std::filesystem::path file;  // JSON Lines file; empty: no file sink
  std::uint64_t rotate_bytes = std::uint64_t{64} << 20;
  int keep = 5;           // rotated files kept (file.1 ... file.<keep>)
  std::string store_url;  // SQLite path, sqlite:PATH or postgresql://...; empty: none
  std::size_t queue_entries = 10'000;
  std::uint64_t queue_bytes = std::uint64_t{64} << 20;

  bool operator==(const PromptLogSinkSettings&) const = default;
};

struct PromptLogSettings {
  double sample_rate = 1.0;
  std::size_t max_text_bytes = 64 << 10;  // prompt and response each, after redaction
  RedactionSettings redact;
  PromptLogSinkSettings sinks;

  // Reads and validates the section (patterns are compiled here so a bad one fails at its line).
  // Throws core::ConfigError.
  static PromptLogSettings from_config(const core::ConfigNode& node);
};

}  // namespace sluice::gateway
