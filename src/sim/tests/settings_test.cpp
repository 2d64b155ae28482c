#include "sluice/sim/settings.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "sluice/core/config_error.hpp"
#include "usage/tests/test_dir.hpp"

namespace sluice::sim {
namespace {

// A file in a folder removed, with every file written into it, when the test program ends (not
// after each test: a test may read its file again after a reload).
std::string write_temp(const std::string& text) {
  static usage::testing::TempDir dir;
  static int written = 0;
  const auto path = (dir.path() / ("sim_settings_" + std::to_string(++written) + ".yaml")).string();
  std::ofstream(path) << text;
  return path;
}

TEST(Settings, ExampleFileLoads) {
  SimSettings s = load_sim_settings(SLUICE_SOURCE_DIR "/examples/sim.yaml");
  ASSERT_GE(s.deployments.size(), 2u);
  bool has_embedding = false;
  for (const auto& d : s.deployments) has_embedding |= d.kind == ModelKind::kEmbedding;
  EXPECT_TRUE(has_embedding);
  EXPECT_FALSE(s.auth.clients.empty());
}

TEST(Settings, ReadsDeploymentFields) {
  auto path = write_temp(R"(
deployments:
  chat:
    model: gpt-4o
    tokens_per_minute: 1000
    time_to_first_token: 150ms
    tokens_per_second: 80
    region: westeurope
  ptu:
    model: gpt-4o-mini
    provisioned: true
    provisioned_tokens_per_minute: 60000
auth:
  mode: keys
  api_keys:
    - {name: a, key: k1}
)");
  SimSettings s = load_sim_settings(path);
  ASSERT_EQ(s.deployments.size(), 2u);
  EXPECT_EQ(s.deployments[0].versioned_model(), "gpt-4o-2024-08-06");
  EXPECT_EQ(s.deployments[0].time_to_first_token.count(), 150);
  EXPECT_EQ(s.deployments[0].region, "westeurope");
  EXPECT_TRUE(s.deployments[1].provisioned);
  EXPECT_FALSE(s.auth.accept_tokens);
}

TEST(Settings, UnknownKeyNamesFileLineAndKey) {
  auto path = write_temp("deployments:\n  chat:\n    model: gpt-4o\n    tokens_per_minit: 5\n");
  try {
    load_sim_settings(path);
    FAIL() << "expected an error";
  } catch (const core::ConfigError& e) {
    EXPECT_EQ(e.where().line, 4);
    EXPECT_NE(std::string(e.what()).find("tokens_per_minit"), std::string::npos) << e.what();
  }
}

TEST(Settings, FaultJson) {
  FaultSettings f;
  EXPECT_FALSE(parse_fault_json(
      R"({"deployment":"x","error_rate":0.5,"status_codes":[503],"latency_spike_ms":100})", f));
  EXPECT_EQ(f.deployment, "x");
  EXPECT_EQ(f.status_codes, std::vector<int>{503});
  EXPECT_EQ(f.latency_spike.count(), 100);
  EXPECT_TRUE(parse_fault_json(R"({"error_rate":2})", f));
  EXPECT_TRUE(parse_fault_json(R"({"bogus":1})", f));
  EXPECT_TRUE(parse_fault_json("[", f));
}

}  // namespace
}  // namespace sluice::sim
