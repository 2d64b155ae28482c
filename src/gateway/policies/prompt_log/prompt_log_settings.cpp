#include "gateway/policies/prompt_log/prompt_log_settings.hpp"

#include "gateway/policies/prompt_log/redactor.hpp"
#include "sluice/usage/store.hpp"

namespace sluice::gateway {

namespace {

RedactionSettings read_redaction(const core::ConfigNode& node) {
  RedactionSettings r;
  for (const auto& item : node.list("patterns")) {
    auto pattern = item.as<std::string>();
    if (auto error = pattern_error(pattern)) item.fail("invalid regular expression: " + *error);
    r.patterns.push_back(std::move(pattern));
  }
  for (const auto& item : node.list("json_fields")) {
    auto path = item.as<std::string>();
    if (auto error = json_field_error(path)) item.fail("invalid field path: " + *error);
    r.json_fields.push_back(std::move(path));
  }
  r.replacement = node.optional<std::string>("replacement", r.replacement);
  node.finish();
  return r;
}

}  // namespace

PromptLogSettings PromptLogSettings::from_config(const core::ConfigNode& node) {
  PromptLogSettings s;
  s.sample_rate = node.optional<double>("sample_rate", s.sample_rate);
  if (!(s.sample_rate >= 0 && s.sample_rate <= 1)) {
    node.fail_at("sample_rate", "must be between 0 and 1");
  }
  s.max_text_bytes = node.optional<core::ByteSize>("max_text_bytes", {s.max_text_bytes}).bytes;
  if (s.max_text_bytes == 0) node.fail_at("max_text_bytes", "must be at least 1B");
  s.redact = read_redaction(node.section("redact"));

  auto& sinks = s.sinks;
  auto file = node.optional<std::string>("file", "");
  if (!file.empty()) sinks.file = std::filesystem::absolute(file).lexically_normal();
  sinks.rotate_bytes = node.optional<core::ByteSize>("rotate_size", {sinks.rotate_bytes}).bytes;
  if (sinks.rotate_bytes < 4096) node.fail_at("rotate_size", "must be at least 4KiB");
  sinks.keep = node.optional<int>("keep", sinks.keep);
  if (sinks.keep < 0 || sinks.keep > 1000) node.fail_at("keep", "must be between 0 and 1000");
  sinks.store_url = node.optional<std::string>("store", "");
  if (!sinks.store_url.empty()) {
    if (auto kind = usage::store_kind(sinks.store_url); !kind) {
      node.fail_at("store", kind.error().message);
    }
  }
  if (sinks.file.empty() && sinks.store_url.empty()) {
    node.fail("prompt_log needs a `file`, a `store` or both");
  }
  sinks.queue_entries = node.optional<std::size_t>("queue_size", sinks.queue_entries);
  if (sinks.queue_entries == 0) node.fail_at("queue_size", "must be at least 1");
  sinks.queue_bytes = node.optional<core::ByteSize>("queue_bytes", {sinks.queue_bytes}).bytes;
  if (sinks.queue_bytes < 4096) node.fail_at("queue_bytes", "must be at least 4KiB");
  node.finish();
  return s;
}

}  // namespace sluice::gateway
