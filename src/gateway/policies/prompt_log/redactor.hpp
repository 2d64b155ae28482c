#pragma once
// Redaction of prompt log entries: JSON fields of the request body replaced by a fixed text, then
// every match of the configured PCRE2 patterns (JIT-compiled) in the prompt and the response.
// Runs on the prompt log's writer thread, never on the request path.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/policies/prompt_log/prompt_log_settings.hpp"

namespace sluice::gateway {

// Why `pattern` does not compile ("missing closing parenthesis at offset 4"), or nothing.
std::optional<std::string> pattern_error(std::string_view pattern);

// Why a JSON field path is unusable (empty segment), or nothing.
std::optional<std::string> json_field_error(std::string_view path);

class Redactor {
 public:
  // Compiles the patterns; throws std::invalid_argument naming the first bad one (from_config has
  // already checked them, so that only happens to callers that skipped it).
  explicit Redactor(const RedactionSettings& settings);
  ~Redactor();
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  // Replaces the configured JSON fields of `body` (when it is a JSON document) and then every
  // pattern match. A body with no matching field keeps its exact bytes; one with matches is
  // re-serialized compactly. Returns the number of replacements. Thread-safe (compiled patterns are
  // read-only; each call has its own match data).
  std::size_t redact_prompt(std::string& body) const;
  // Replaces every pattern match in `text`. Returns the number of replacements. Thread-safe.
  std::size_t redact_text(std::string& text) const;

 private:
  struct Pattern;
  std::size_t redact_json_fields(std::string& body) const;

  std::vector<std::unique_ptr<Pattern>> patterns_;
  std::vector<std::vector<std::string>> json_fields_;  // split at '.'
  std::string replacement_;
};

}  // namespace sluice::gateway
