#include "gateway/policies/prompt_log/prompt_log_settings.hpp"

#include <gtest/gtest.h>

#include "sluice/core/config.hpp"

namespace sluice::gateway {
namespace {

PromptLogSettings parse(std::string_view yaml) {
  auto root = core::load_config_string(yaml, "test.yaml");
  return PromptLogSettings::from_config(root);
}

std::string error_of(std::string_view yaml) {
  try {
    parse(yaml);
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(PromptLogSettings, ReadsEverything) {
  auto s = parse(R"(
sample_rate: 0.25
file: /tmp/p.jsonl
rotate_size: 1MiB
keep: 3
store: postgresql://u@db/usage
queue_size: 50
queue_bytes: 8MiB
max_text_bytes: 4KiB
redact:
  patterns: ['sk-\w+']
  json_fields: [messages.*.content]
  replacement: "***"
)");
  EXPECT_EQ(s.sample_rate, 0.25);
  EXPECT_EQ(s.sinks.file, "/tmp/p.jsonl");
  EXPECT_EQ(s.sinks.rotate_bytes, 1u << 20);
  EXPECT_EQ(s.sinks.keep, 3);
  EXPECT_EQ(s.sinks.store_url, "postgresql://u@db/usage");
  EXPECT_EQ(s.sinks.queue_entries, 50u);
  EXPECT_EQ(s.sinks.queue_bytes, 8u << 20);
  EXPECT_EQ(s.max_text_bytes, 4096u);
  EXPECT_EQ(s.redact.patterns, std::vector<std::string>{"sk-\\w+"});
  EXPECT_EQ(s.redact.json_fields, std::vector<std::string>{"messages.*.content"});
  EXPECT_EQ(s.redact.replacement, "***");
}

TEST(PromptLogSettings, ErrorsNameTheKeyAndLine) {
  auto bad_regex = error_of("file: /tmp/p.jsonl\nredact:\n  patterns: ['ok', '(open']\n");
  EXPECT_NE(bad_regex.find("test.yaml:3"), std::string::npos) << bad_regex;
  EXPECT_NE(bad_regex.find("invalid regular expression"), std::string::npos) << bad_regex;
  EXPECT_NE(error_of("file: /tmp/p.jsonl\nsample_rate: 1.5\n").find("sample_rate"),
            std::string::npos);
  EXPECT_NE(error_of("sample_rate: 0.5\n").find("needs a `file`, a `store` or both"),
            std::string::npos);
  EXPECT_NE(error_of("store: redis://x\n").find("unknown store scheme"), std::string::npos);
  EXPECT_NE(error_of("file: /tmp/p.jsonl\nredact: {json_fields: ['a..b']}\n").find("a..b"),
            std::string::npos);
  EXPECT_NE(error_of("file: /tmp/p.jsonl\nsampel_rate: 1\n").find("sampel_rate"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::gateway
