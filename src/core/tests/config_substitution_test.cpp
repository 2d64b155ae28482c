#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "config_test_util.hpp"
#include "sluice/core/config.hpp"

namespace sluice::core {
namespace {

using testing::error_from;
using testing::load;

// An environment the test controls, so results do not depend on the machine running it.
LoadOptions fake_env(std::map<std::string, std::string> vars) {
  LoadOptions options;
  options.env = [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto found = vars.find(name);
    if (found == vars.end()) return std::nullopt;
    return found->second;
  };
  return options;
}

std::string value_of(std::string_view yaml, const LoadOptions& options) {
  return load(yaml, options).required<std::string>("v");
}

TEST(ConfigSubstitution, EnvSetUnsetAndDefault) {
  auto env = fake_env({{"API_KEY", "secret"}, {"EMPTY", ""}});
  EXPECT_EQ(value_of("v: ${env:API_KEY}", env), "secret");
  EXPECT_EQ(value_of("v: \"Bearer ${env:API_KEY}!\"", env), "Bearer secret!");
  EXPECT_EQ(value_of("v: ${env:MISSING:-fallback}", env), "fallback");
  EXPECT_EQ(value_of("v: ${env:EMPTY:-fallback}", env), "fallback");
  EXPECT_EQ(value_of("v: ${env:API_KEY:-fallback}", env), "secret");
  EXPECT_EQ(value_of("v: x${env:MISSING:-}y", env), "xy");
  EXPECT_EQ(value_of("v: ${env:EMPTY}", env), "");
  EXPECT_EQ(value_of("v: ${env:MISSING:-${env:API_KEY}}", env), "secret");
  EXPECT_EQ(value_of("v: ${env:MISSING:-a:-b}", env), "a:-b");
}

TEST(ConfigSubstitution, UnsetEnvIsAnErrorAtTheValue) {
  auto env = fake_env({});
  auto error = error_from([&] { load("backend:\n  key: ${env:AZURE_OPENAI_KEY}\n", env); });
  EXPECT_STREQ(error.what(),
               "test.yaml:2:8: backend.key: environment variable AZURE_OPENAI_KEY is not set "
               "(from ${env:AZURE_OPENAI_KEY}; write ${env:AZURE_OPENAI_KEY:-default} to give a "
               "default)");
}

TEST(ConfigSubstitution, UsesTheProcessEnvironmentByDefault) {
  ::setenv("SLUICE_TEST_PORT", "9090", 1);
  auto root = load("port: ${env:SLUICE_TEST_PORT}\n");
  EXPECT_EQ(root.required<int>("port"), 9090);
  ::unsetenv("SLUICE_TEST_PORT");
  EXPECT_THROW(load("port: ${env:SLUICE_TEST_PORT}\n"), ConfigError);
}

TEST(ConfigSubstitution, EscapeGivesALiteral) {
  auto env = fake_env({{"A", "x"}});
  EXPECT_EQ(value_of("v: $${env:A}", env), "${env:A}");
  EXPECT_EQ(value_of("v: cost $5 and $${literal}", env), "cost $5 and ${literal}");
  EXPECT_EQ(value_of("v: $$", env), "$$");
}

TEST(ConfigSubstitution, SubstitutedTextIsNotScannedAgain) {
  auto env = fake_env({{"A", "${env:B}"}, {"B", "no"}});
  EXPECT_EQ(value_of("v: ${env:A}", env), "${env:B}");
}

TEST(ConfigSubstitution, KeysAreNotSubstituted) {
  auto root = load("${env:A}: 1\n", fake_env({{"A", "x"}}));
  EXPECT_EQ(root.keys(), (std::vector<std::string>{"${env:A}"}));
}

TEST(ConfigSubstitution, TypedReadsSeeSubstitutedTextAndSayWhereItCameFrom) {
  auto env = fake_env({{"PORT", "80a"}, {"TIMEOUT", "5s"}});
  auto root = load("port: ${env:PORT}\ntimeout: ${env:TIMEOUT}\n", env);
  EXPECT_EQ(root.required<std::chrono::seconds>("timeout").count(), 5);
  EXPECT_EQ(error_from([&] { root.required<int>("port"); }).message(),
            "expected an integer, got \"80a\" (from \"${env:PORT}\")");
}

TEST(ConfigSubstitution, MalformedExpressions) {
  auto env = fake_env({{"A", "x"}});
  EXPECT_EQ(error_from([&] { load("v: ${env:A", env); }).message(),
            "unterminated '${' (write '$${' for a literal '${')");
  EXPECT_EQ(error_from([&] { load("v: ${A}", env); }).message(),
            "unknown substitution ${A} (use ${env:NAME} or ${file:PATH}; write '$${' for a "
            "literal '${')");
  EXPECT_EQ(error_from([&] { load("v: ${env:1A}", env); }).message(),
            "invalid environment variable name in ${env:1A}");
  std::string deep = "v: ";
  for (int i = 0; i < 20; ++i) deep += "${env:M:-";
  deep += std::string(20, '}');
  EXPECT_EQ(error_from([&] { load(deep, env); }).message(), "substitutions nested too deeply");
}

using FileSubstitutionTest = testing::TempDirTest;

TEST_F(FileSubstitutionTest, RelativeToTheConfigFileAndNewlineTrimmed) {
  write("conf/secrets/key.txt", "s3cret\n");
  write("conf/gateway.yaml", "key: ${file:secrets/key.txt}\nabs: ${file:" +
                                 (dir_ / "conf/secrets/key.txt").string() + "}\n");
  // The working directory is elsewhere: the path must resolve against the config's directory.
  auto root = load_config_file(dir_ / "conf" / "gateway.yaml");
  EXPECT_EQ(root.required<std::string>("key"), "s3cret");
  EXPECT_EQ(root.required<std::string>("abs"), "s3cret");
}

TEST_F(FileSubstitutionTest, OnlyTrailingNewlinesAreTrimmed) {
  write("conf/pem", "line1\nline2\r\n\n");
  auto root = load_config_string("v: ${file:pem}", "embedded", dir_ / "conf");
  EXPECT_EQ(root.required<std::string>("v"), "line1\nline2");
}

TEST_F(FileSubstitutionTest, PathMayUseEnv) {
  write("conf/secrets/key.txt", "k");
  auto root = load_config_string("v: ${file:${env:DIR}/key.txt}", "embedded", dir_ / "conf",
                                 fake_env({{"DIR", "secrets"}}));
  EXPECT_EQ(root.required<std::string>("v"), "k");
}

TEST_F(FileSubstitutionTest, MissingFileIsAnErrorAtTheValue) {
  write("conf/gateway.yaml", "tls:\n  key: ${file:missing.pem}\n");
  auto path = dir_ / "conf" / "gateway.yaml";
  auto error = error_from([&] { load_config_file(path); });
  EXPECT_EQ(error.where().file, path.string());
  EXPECT_EQ(error.where().line, 2);
  EXPECT_EQ(error.where().column, 8);
  EXPECT_EQ(error.path(), "tls.key");
  EXPECT_NE(error.message().find("cannot substitute ${file:missing.pem}"), std::string::npos)
      << error.what();
  EXPECT_NE(error.message().find((dir_ / "conf" / "missing.pem").string()), std::string::npos)
      << error.what();
}

TEST_F(FileSubstitutionTest, MissingFileIsNamedWithoutDotSegments) {
  write("conf/gateway.yaml", "key: ${file:./secrets/./missing.pem}\n");
  auto error = error_from([&] { load_config_file(dir_ / "conf" / "." / "gateway.yaml"); });
  // The value is quoted as written; the file it names is shown without the dot segments.
  EXPECT_NE(
      error.message().find("cannot open '" + (dir_ / "conf" / "secrets" / "missing.pem").string()),
      std::string::npos)
      << error.what();
}

}  // namespace
}  // namespace sluice::core
