#include "sluice/loadgen/test_definition.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "sluice/core/config_error.hpp"
#include "sluice/tokenizer/encoding.hpp"

namespace sluice::loadgen {
namespace {

namespace fs = std::filesystem;

class TestDefinitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_testdef_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    write("prompts.csv", "Tell me a joke\n\"Say \"\"hi\"\", please\"\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    return dir_ / name;
  }
  // Loads `yaml`; returns the error message, or "" when it loaded.
  std::string error_of(const std::string& yaml, LoadOverrides o = {}) {
    auto path = write("test.yaml", yaml);
    try {
      load_test_definition(path, o);
    } catch (const core::ConfigError& e) {
      return e.what();
    }
    return "";
  }
  LoadOverrides no_env() {
    LoadOverrides o;
    o.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    return o;
  }
  fs::path dir_;
};

constexpr const char* kGood = R"(version: v0.1
testId: chat-smoke
displayName: Chat smoke
engineInstances: 1
failureCriteria:
  - percentage(error) > 5
  - "chat: p95(ttft_ms) > 2000"
autoStop:
  errorPercentage: 80
  timeWindow: 30
env:
  - name: VUS
    value: 3
secrets:
  - name: CLIENT_SECRET
    value: https://kv.vault.azure.net/secrets/client-secret
target:
  endpoint: http://127.0.0.1:9/
  deployment: gpt-4o
  apiVersion: 2024-10-21
auth:
  type: entra
  tenantId: tenant-1
  clientId: app-1
  clientSecret: ${CLIENT_SECRET}
  scope: https://cognitiveservices.azure.com/.default
  authority: http://127.0.0.1:9
request:
  messages:
    - role: system
      content: Be brief.
    - role: user
      content: ${prompt}
  max_tokens: 50
  stream: true
  stream_options: {include_usage: true}
dataset:
  path: prompts.csv
  variables: [prompt]
load:
  virtualUsers: ${VUS}
  rampUp: 2s
  loops: 4
)";

TEST_F(TestDefinitionTest, CompilesNativeYamlIntoAPlan) {
  LoadOverrides o;
  o.secrets_file["CLIENT_SECRET"] = "s3cret";
  o.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  auto def = load_test_definition(write("test.yaml", kGood), o);
  EXPECT_EQ(def.test_id, "chat-smoke");
  ASSERT_EQ(def.criteria.size(), 2u);
  EXPECT_EQ(def.criteria[1].label, "chat");
  EXPECT_EQ(def.auto_stop.time_window, std::chrono::seconds(30));
  ASSERT_EQ(def.plan.groups.size(), 1u);
  const auto& g = def.plan.groups[0];
  const auto& load = std::get<ClosedLoad>(g.load);
  EXPECT_EQ(load.vus, 3);
  EXPECT_EQ(load.loops, 4);
  EXPECT_EQ(load.ramp_up, std::chrono::seconds(2));
  ASSERT_EQ(g.steps.size(), 2u);
  const auto& once = std::get<OnceOnly>(g.steps[0].node);
  const auto& token = std::get<HttpSampler>(once.steps[0].node);
  EXPECT_EQ(token.url.source(), "http://127.0.0.1:9/tenant-1/oauth2/v2.0/token");
  const auto& chat = std::get<HttpSampler>(g.steps[1].node);
  EXPECT_EQ(chat.url.source(),
            "http://127.0.0.1:9/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");
  EXPECT_NE(chat.body.source().find("\"content\":\"${prompt}\""), std::string::npos);
  EXPECT_NE(chat.body.source().find("\"include_usage\":true"), std::string::npos);
  ASSERT_EQ(def.plan.secrets.size(), 1u);
  EXPECT_EQ(def.plan.secrets[0].second, "s3cret");
  ASSERT_EQ(def.plan.data_sets.size(), 1u);
}

TEST_F(TestDefinitionTest, KeyVaultSecretWithoutValueSaysHowToSupplyIt) {
  auto e = error_of(kGood, no_env());
  EXPECT_NE(e.find("test.yaml:15:"), std::string::npos) << e;
  EXPECT_NE(e.find("--secrets-file"), std::string::npos) << e;
  EXPECT_NE(e.find("CLIENT_SECRET"), std::string::npos) << e;
}

// Three missing secrets and a missing configuration file: all four in one run, each with its line.
TEST_F(TestDefinitionTest, EveryMissingSecretAndFileIsReportedInOneRun) {
  std::string yaml = kGood;
  yaml.replace(yaml.find("secrets:\n"), std::string("secrets:\n").size(),
               "configurationFiles: [absent.csv]\nsecrets:\n"
               "  - {name: SECRET_A, value: https://kv.vault.azure.net/secrets/a}\n"
               "  - {name: SECRET_B, value: ''}\n");
  std::string e = error_of(yaml, no_env());
  for (const char* expected :
       {"test.yaml:14:", "absent.csv does not exist", "test.yaml:16:", "SECRET_A", "test.yaml:17:",
        "SECRET_B", "test.yaml:18:", "CLIENT_SECRET", "4 problems; fix them all, then run again"}) {
    EXPECT_NE(e.find(expected), std::string::npos) << expected << " in\n" << e;
  }
}

TEST_F(TestDefinitionTest, UnknownKeysNameFileLineAndKey) {
  std::string yaml = std::string(kGood) + "  virtualUser: 4\n";
  LoadOverrides o = no_env();
  o.secrets_file["CLIENT_SECRET"] = "x";
  auto e = error_of(yaml, o);
  EXPECT_NE(e.find("test.yaml:44:"), std::string::npos) << e;
  EXPECT_NE(e.find("virtualUser"), std::string::npos) << e;
}

TEST_F(TestDefinitionTest, BadCriterionMissingCsvAndMalformedRowsAreRefused) {
  LoadOverrides o = no_env();
  o.secrets_file["CLIENT_SECRET"] = "x";
  std::string yaml = kGood;
  auto crit = error_of(
      std::string(yaml).replace(yaml.find("percentage(error) > 5"), 21, "percentile(error) > 5"),
      o);
  EXPECT_NE(crit.find("test.yaml:6:"), std::string::npos) << crit;
  EXPECT_NE(crit.find("percentile"), std::string::npos) << crit;
  auto missing =
      error_of(std::string(yaml).replace(yaml.find("path: prompts.csv"), 17, "path: nope.csv"), o);
  EXPECT_NE(missing.find("test.yaml:38:"), std::string::npos) << missing;
  EXPECT_NE(missing.find("nope.csv does not exist"), std::string::npos) << missing;
  write("prompts.csv", "ok\n\"unterminated\n");
  auto row = error_of(yaml, o);
  EXPECT_NE(row.find("prompts.csv:2: unterminated"), std::string::npos) << row;
  EXPECT_NE(row.find("test.yaml:38:"), std::string::npos) << row;
}

// A test file in dir/./ naming ./plan.jmx or ./nope.csv: messages name dir/plan.jmx, not
// dir/././plan.jmx (the test file itself is shown as the user gave it).
TEST_F(TestDefinitionTest, MissingFilesAreNamedWithCleanPaths) {
  LoadOverrides o = no_env();
  o.secrets_file["CLIENT_SECRET"] = "x";
  std::string yaml = kGood;
  yaml.replace(yaml.find("path: prompts.csv"), 17, "path: ./nope.csv");
  auto dotted = dir_ / "." / "test.yaml";
  write("test.yaml", yaml);
  auto message = [&](const fs::path& path) -> std::string {
    try {
      load_test_definition(path, o);
    } catch (const core::ConfigError& e) {
      return e.what();
    }
    return "";
  };
  auto missing_csv = message(dotted);
  EXPECT_NE(missing_csv.find((dir_ / "nope.csv").string() + " does not exist"), std::string::npos)
      << missing_csv;
  EXPECT_EQ(missing_csv.find("./nope.csv"), std::string::npos) << missing_csv;

  write("test.yaml", "version: v0.1\ntestId: jmx-missing\ntestType: JMX\ntestPlan: ./plan.jmx\n");
  auto missing_plan = message(dotted);
  EXPECT_NE(missing_plan.find("test plan " + (dir_ / "plan.jmx").string() + " does not exist"),
            std::string::npos)
      << missing_plan;
  EXPECT_EQ(missing_plan.find("./plan.jmx"), std::string::npos) << missing_plan;
}

TEST_F(TestDefinitionTest, UndefinedTemplateVariableIsRefusedBeforeTheRun) {
  std::string yaml = R"(testId: t
target: {endpoint: "http://127.0.0.1:9", deployment: d}
request:
  messages: [{role: user, content: "${question}"}]
load: {virtualUsers: 1, loops: 1}
)";
  auto e = error_of(yaml, no_env());
  EXPECT_NE(e.find("${question}"), std::string::npos) << e;
}

TEST_F(TestDefinitionTest, ArrivalRateAndSyntheticPrompts) {
  std::string yaml = R"(testId: open
target: {endpoint: "http://127.0.0.1:9", style: openai, model: gpt-4o}
auth: {type: apiKey, key: sk-test}
syntheticPrompt: {tokens: 40, count: 3}
load:
  arrivalRate: 5
  arrival: poisson
  maxConcurrency: 7
  duration: 10s
)";
  auto def = load_test_definition(write("test.yaml", yaml), no_env());
  const auto& open = std::get<OpenLoad>(def.plan.groups[0].load);
  EXPECT_TRUE(open.poisson);
  EXPECT_EQ(open.max_concurrency, 7);
  const auto& chat = std::get<HttpSampler>(def.plan.groups[0].steps[0].node);
  EXPECT_EQ(chat.url.source(), "http://127.0.0.1:9/v1/chat/completions");
  EXPECT_EQ(chat.headers.back().name, "Authorization");
  ASSERT_EQ(def.plan.data_sets[0].inline_rows.size(), 3u);
  EXPECT_NE(def.plan.data_sets[0].inline_rows[0][0], def.plan.data_sets[0].inline_rows[1][0]);
  auto e = error_of(
      "testId: x\ntarget: {endpoint: \"http://a\"}\nrequest: {messages: [{role: user, content: "
      "hi}]}\nload: {arrivalRate: 3}\n",
      no_env());
  EXPECT_NE(e.find("duration"), std::string::npos) << e;
}

TEST(SyntheticPrompt, HasExactlyTheRequestedTokens) {
  for (int n : {1, 17, 300}) {
    auto text = synthetic_prompt(n, "gpt-4o", 5);
    EXPECT_EQ(static_cast<int>(tokenizer::o200k_base().count(text)), n);
    auto text4 = synthetic_prompt(n, "gpt-4", 5);
    EXPECT_EQ(static_cast<int>(tokenizer::cl100k_base().count(text4)), n);
  }
}

}  // namespace
}  // namespace sluice::loadgen
