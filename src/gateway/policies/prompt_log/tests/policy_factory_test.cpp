#include <gtest/gtest.h>

#include "gateway/policies/prompt_log/prompt_log_policy.hpp"
#include "sluice/core/config.hpp"
#include "usage/tests/test_dir.hpp"

namespace sluice::gateway {
namespace {

PolicyPtr make(std::string yaml, PolicyServices& services) {
  auto root = core::load_config_string(yaml, "gateway.yaml");
  return make_prompt_log_policy(root, services);
}

std::string metrics(PolicyServices& services) {
  std::string out;
  services.metrics->write(out);
  return out;
}

TEST(PromptLogPolicyFactory, RoutesNamingOneFileShareOneWriterAndItsMetrics) {
  usage::testing::TempDir dir;
  auto file = (dir.path() / "p.jsonl").string();
  PolicyServices services;
  auto a = make("file: " + file + "\nsample_rate: 1\n", services);
  auto b = make("file: " + file + "\nsample_rate: 0.1\nredact: {patterns: [x]}\n", services);
  EXPECT_EQ(a->name(), "prompt_log");
  EXPECT_FALSE(a->has_request_phase());
  auto text = metrics(services);
  auto series = "sluice_prompt_log_written_total{log=\"file:" + file + "\",sink=\"file\"} 0\n";
  auto first = text.find(series);
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find(series, first + 1), std::string::npos) << "one writer, one series";
  for (const char* name :
       {"# TYPE sluice_prompt_log_entries_total counter", "# TYPE sluice_prompt_log_dropped_total",
        "reason=\"queue_full\"} 0", "# TYPE sluice_prompt_log_queue_entries gauge",
        "# TYPE sluice_prompt_log_redactions_total counter"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

TEST(PromptLogPolicyFactory, OtherSinkSettingsForARunningFileAreRefused) {
  usage::testing::TempDir dir;
  auto file = (dir.path() / "p.jsonl").string();
  PolicyServices services;
  auto a = make("file: " + file + "\n", services);
  try {
    make("file: " + file + "\nrotate_size: 1MiB\n", services);
    FAIL() << "expected a ConfigError";
  } catch (const core::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("takes a restart"), std::string::npos) << e.what();
  }
  a.reset();  // once no policy holds the writer, the new settings are fine
  EXPECT_NO_THROW(make("file: " + file + "\nrotate_size: 1MiB\n", services));
}

}  // namespace
}  // namespace sluice::gateway
