#include "sluice/usage/usage_record.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "sluice/core/json_string.hpp"

namespace sluice::usage {

namespace {

void append_int(std::string& out, std::int64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

void field(std::string& out, std::string_view key, std::string_view value) {
  out.push_back(',');
  out.push_back('"');
  out.append(key);
  out.append("\":");
  core::append_json_string(out, value);
}

void field(std::string& out, std::string_view key, std::int64_t value) {
  out.push_back(',');
  out.push_back('"');
  out.append(key);
  out.append("\":");
  append_int(out, value);
}

void field_bool(std::string& out, std::string_view key, bool value) {
  out.push_back(',');
  out.push_back('"');
  out.append(key);
  out.append(value ? "\":true" : "\":false");
}

bool read(const boost::json::object& o, std::string_view key, std::string& out) {
  auto it = o.find(key);
  if (it == o.end()) return true;  // absent: keep the default
  if (!it->value().is_string()) return false;
  out = std::string(it->value().get_string());
  return true;
}

template <class Int>
bool read(const boost::json::object& o, std::string_view key, Int& out) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  if (it->value().is_int64()) {
    out = static_cast<Int>(it->value().get_int64());
    return true;
  }
  if (it->value().is_uint64()) {
    out = static_cast<Int>(it->value().get_uint64());
    return true;
  }
  return false;
}

bool read_bool(const boost::json::object& o, std::string_view key, bool& out) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  if (!it->value().is_bool()) return false;
  out = it->value().get_bool();
  return true;
}

}  // namespace

void append_record_line(std::string& out, const UsageRecord& r) {
  out.append("{\"request_id\":");
  core::append_json_string(out, r.request_id);
  field(out, "started_at_us", r.started_at_us);
  field(out, "completed_at_us", r.completed_at_us);
  field(out, "app_id", r.app_id);
  field(out, "key_id", r.key_id);
  field(out, "client_ip", r.client_ip);
  field(out, "route", r.route);
  field(out, "deployment", r.deployment);
  field(out, "model", r.model);
  field(out, "backend", r.backend);
  field(out, "operation", r.operation);
  field_bool(out, "streamed", r.streamed);
  field(out, "status", r.status);
  field(out, "error_code", r.error_code);
  field(out, "prompt_tokens", r.prompt_tokens);
  field(out, "completion_tokens", r.completion_tokens);
  field(out, "total_tokens", r.total_tokens);
  field(out, "cached_tokens", r.cached_tokens);
  field(out, "reasoning_tokens", r.reasoning_tokens);
  field(out, "usage_source", r.usage_source);
  field(out, "ttft_us", r.ttft_us);
  field(out, "duration_us", r.duration_us);
  field(out, "attempts", r.attempts);
  field_bool(out, "client_disconnected", r.client_disconnected);
  field(out, "cache", r.cache);
  field(out, "tokens_saved", r.tokens_saved);
  field(out, "similarity_ppm", r.similarity_ppm);
  field(out, "purpose", r.purpose);
  out.append("}\n");
}

std::optional<UsageRecord> parse_record_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty() || line.front() != '{' || line.back() != '}') return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(line, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& o = value.get_object();
  UsageRecord r;
  bool ok = read(o, "request_id", r.request_id) && read(o, "started_at_us", r.started_at_us) &&
            read(o, "completed_at_us", r.completed_at_us) && read(o, "app_id", r.app_id) &&
            read(o, "key_id", r.key_id) && read(o, "client_ip", r.client_ip) &&
            read(o, "route", r.route) && read(o, "deployment", r.deployment) &&
            read(o, "model", r.model) && read(o, "backend", r.backend) &&
            read(o, "operation", r.operation) && read_bool(o, "streamed", r.streamed) &&
            read(o, "status", r.status) && read(o, "error_code", r.error_code) &&
            read(o, "prompt_tokens", r.prompt_tokens) &&
            read(o, "completion_tokens", r.completion_tokens) &&
            read(o, "total_tokens", r.total_tokens) && read(o, "cached_tokens", r.cached_tokens) &&
            read(o, "reasoning_tokens", r.reasoning_tokens) &&
            read(o, "usage_source", r.usage_source) && read(o, "ttft_us", r.ttft_us) &&
            read(o, "duration_us", r.duration_us) && read(o, "attempts", r.attempts) &&
            read_bool(o, "client_disconnected", r.client_disconnected) &&
            read(o, "cache", r.cache) && read(o, "tokens_saved", r.tokens_saved) &&
            read(o, "similarity_ppm", r.similarity_ppm) && read(o, "purpose", r.purpose);
  if (!ok || r.request_id.empty() || !o.contains("started_at_us")) return std::nullopt;
  return r;
}

}  // namespace sluice::usage
