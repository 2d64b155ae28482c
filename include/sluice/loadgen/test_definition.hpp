#pragma once
// Test files: the Azure Load Testing configuration keys plus sluice's native scenario, loaded and
// validated into a Plan before anything runs.
//
//   version: v0.1
//   testId: chat-smoke            # test_id is accepted as an alias
//   displayName / description
//   testType: sluice              # or JMX (issue 9: testPlan points at a .jmx compiled by the
//                                 # PlanCompiler registered for "JMX")
//   testPlan: plan.jmx            # JMX only
//   engineInstances: 1
//   splitAllCSVs: false
//   configurationFiles: [prompts.csv]
//   failureCriteria: ["percentage(error) > 5", "p95(ttft_ms) > 2000"]
//   autoStop: {errorPercentage: 80, timeWindow: 60}   # or "disable"
//   env: [{name: X, value: y}]    # test variables, ${X} in templates
//   secrets: [{name: S, value: https://kv.vault.azure.net/secrets/s}]  # see resolve_secret
//   target / auth / request / dataset / syntheticPrompt / load / serverMetrics   (native; see
//   docs/load.md for every key)
//
// Errors are core::ConfigError: "file:line:col: key.path: problem".
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sluice/loadgen/criteria.hpp"
#include "sluice/loadgen/engine.hpp"
#include "sluice/loadgen/plan.hpp"

namespace sluice::loadgen {

// Values from the command line that change how a test file is read.
struct LoadOverrides {
  std::vector<std::pair<std::string, std::string>> env;  // --env K=V (replaces `env` entries)
  std::map<std::string, std::string> secrets_file;       // parsed --secrets-file
  std::optional<Millis> duration;                        // --duration
  std::optional<int> vus;                                // --vus
  // Reads the process environment (secrets, ${env:..}); tests inject their own.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

struct TestDefinition {
  std::string source;  // the file as given
  std::string test_id;
  std::string display_name;
  std::string description;
  std::string test_type = "sluice";
  int engine_instances = 1;
  bool split_all_csvs = false;
  Plan plan;
  std::vector<Criterion> criteria;
  AutoStop auto_stop;
  std::vector<ScrapeTarget> server_metrics;
};

// What a plan compiler (JMX) gets from the test file that names its plan.
struct PlanContext {
  std::filesystem::path plan_path;
  std::filesystem::path base_dir;                        // configuration files are looked up here
  std::vector<std::pair<std::string, std::string>> env;  // `env` entries and --env
  std::vector<std::pair<std::string, std::string>> secrets;  // resolved secrets
  std::vector<std::string> configuration_files;
  bool split_all_csvs = false;
  LoadOverrides overrides;
};

// Compiles a plan file of some testType into a Plan; throws core::ConfigError (or
// std::runtime_error with the plan path in the message) on a bad plan.
using PlanCompiler = std::function<Plan(const PlanContext&)>;
// Registers the compiler for a testType (case-insensitive, e.g. "JMX") and for plan files with the
// extension `extension` (".jmx") given directly to `sluice load run`. Call at startup.
void register_plan_compiler(std::string test_type, std::string extension, PlanCompiler compiler);

// Loads a test file (YAML, or a plan file whose extension has a registered compiler).
// Throws core::ConfigError naming file, line and key.
TestDefinition load_test_definition(const std::filesystem::path& path,
                                    const LoadOverrides& overrides = {});

// A secret's value: environment variable NAME, then the secrets file, then the declared value if it
// is a literal or `file:PATH`. A Key Vault URL that none of these supplies is an error telling how
// to supply it. nullopt + *error on failure.
std::optional<std::string> resolve_secret(const std::string& name, const std::string& declared,
                                          const LoadOverrides& overrides, std::string* error);

// Parses a secrets file: YAML mapping, or KEY=VALUE lines (# comments). Throws ConfigError.
std::map<std::string, std::string> read_secrets_file(const std::filesystem::path& path);

// A synthetic prompt of exactly `tokens` tokens in `model`'s encoding, different for each `seed`.
std::string synthetic_prompt(int tokens, const std::string& model, std::uint64_t seed);

}  // namespace sluice::loadgen
