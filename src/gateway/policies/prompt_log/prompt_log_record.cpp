#include "gateway/policies/prompt_log/prompt_log_record.hpp"

#include <ctime>

#include "gateway/policies/prompt_log/response_text.hpp"
#include "sluice/core/json_string.hpp"

namespace sluice::gateway {

namespace {

// Cuts `text` to at most `max` bytes without splitting a UTF-8 character. True when it cut.
bool truncate_utf8(std::string& text, std::size_t max) {
  if (text.size() <= max) return false;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  text.resize(n);
  return true;
}

// "2024-10-21T12:34:56.789012Z"
std::string iso_time(std::int64_t us) {
  std::time_t seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(us % 1'000'000));
  return buffer;
}

void field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  core::append_json_string(out, value);
}

void field(std::string& out, std::string_view name, std::int64_t value) {
  out += ",\"";
  out += name;
  out += "\":";
  out += std::to_string(value);
}

void field(std::string& out, std::string_view name, bool value) {
  out += ",\"";
  out += name;
  out += value ? "\":true" : "\":false";
}

}  // namespace

PromptLogRecord process_capture(PromptLogCapture&& capture) {
  PromptLogRecord record;
  record.entry = std::move(capture.entry);
  record.route = std::move(capture.route);
  auto& e = record.entry;
  if (capture.response_is_body) e.response = response_text(e.response);
  if (capture.rules) {
    const auto& rules = *capture.rules;
    record.redactions = rules.redactor.redact_prompt(e.prompt);
    record.redactions += rules.redactor.redact_text(e.response);
    record.prompt_truncated = truncate_utf8(e.prompt, rules.max_text_bytes);
    record.response_truncated = truncate_utf8(e.response, rules.max_text_bytes);
  }
  return record;
}

std::string to_json_line(const PromptLogRecord& record) {
  const auto& e = record.entry;
  std::string out;
  out.reserve(e.prompt.size() + e.response.size() + 512);
  out += "{\"time\":";
  core::append_json_string(out, iso_time(e.started_at_us));
  field(out, "request_id", e.request_id);
  field(out, "started_at_us", e.started_at_us);
  field(out, "route", record.route);
  field(out, "app_id", e.app_id);
  field(out, "deployment", e.deployment);
  field(out, "model", e.model);
  field(out, "backend", e.backend);
  field(out, "operation", e.operation);
  field(out, "status", std::int64_t{e.status});
  field(out, "streamed", e.streamed);
  field(out, "redactions", static_cast<std::int64_t>(record.redactions));
  field(out, "prompt_truncated", record.prompt_truncated);
  field(out, "response_truncated", record.response_truncated);
  field(out, "prompt", e.prompt);
  field(out, "response", e.response);
  out += "}\n";
  return out;
}

}  // namespace sluice::gateway
