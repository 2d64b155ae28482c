#pragma once
// One prompt log entry on its way from the request path to the sinks. The request path only
// copies what it needs into a PromptLogCapture; the writer thread turns it into a PromptLogRecord
// (response text extracted, redacted, truncated) and writes it as one JSON line and/or one row.
#include <cstddef>
#include <memory>
#include <string>

#include "gateway/policies/prompt_log/redactor.hpp"
#include "sluice/usage/store.hpp"

namespace sluice::gateway {

// What one policy's config says about processing its entries; shared read-only.
struct PromptLogRules {
  explicit PromptLogRules(const RedactionSettings& redact, std::size_t max_text_bytes)
      : redactor(redact), max_text_bytes(max_text_bytes) {}
  Redactor redactor;
  std::size_t max_text_bytes;
};

struct PromptLogCapture {
  std::shared_ptr<const PromptLogRules> rules;
  usage::PromptLogEntry entry;  // prompt: the raw request body; response: see response_is_body
  std::string route;
  bool response_is_body = false;  // response holds a plain response body, not the stream's text

  // What it costs the queue's byte bound.
  std::size_t bytes() const {
    return entry.prompt.size() + entry.response.size() + entry.request_id.size() + 256;
  }
};

struct PromptLogRecord {
  usage::PromptLogEntry entry;  // prompt and response final (redacted, truncated)
  std::string route;
  bool prompt_truncated = false;
  bool response_truncated = false;
  std::size_t redactions = 0;
};

// Extracts the response text, redacts, truncates to the rules' max_text_bytes (on a UTF-8
// character boundary, after redaction so a cut never exposes half a secret). Any thread.
PromptLogRecord process_capture(PromptLogCapture&& capture);

// The record as one JSON Lines line, '\n' included. Any thread.
std::string to_json_line(const PromptLogRecord& record);

}  // namespace sluice::gateway
