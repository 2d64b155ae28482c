#include "sluice/core/config.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "config_test_util.hpp"

namespace sluice::core {
namespace {

using testing::error_from;
using testing::load;

TEST(ConfigLoader, YamlSyntaxErrorNamesFileLineAndColumn) {
  auto error = error_from([] { load("listen: 8080\nbackends: [a, b\nother: 1\n"); });
  EXPECT_EQ(error.where().file, "test.yaml");
  EXPECT_EQ(error.where().line, 3);
  EXPECT_GT(error.where().column, 0);
  EXPECT_TRUE(error.message().starts_with("invalid YAML: ")) << error.what();
  EXPECT_TRUE(std::string(error.what()).starts_with("test.yaml:3:")) << error.what();
}

TEST(ConfigLoader, BadIndentationIsASyntaxError) {
  auto error = error_from([] { load("gateway:\n  port: 1\n   host: x\n"); });
  EXPECT_EQ(error.where().line, 3) << error.what();
  EXPECT_TRUE(error.message().starts_with("invalid YAML: ")) << error.what();
}

TEST(ConfigLoader, DuplicateKeysAreRejected) {
  auto error = error_from([] { load("a: 1\nb:\n  c: 1\n  c: 2\n"); });
  EXPECT_STREQ(error.what(), "test.yaml:4:3: b: duplicate key 'c' (first at line 3)");
}

TEST(ConfigLoader, OnlyOneDocument) {
  auto error = error_from([] { load("a: 1\n---\nb: 2\n"); });
  EXPECT_STREQ(error.what(),
               "test.yaml:2:1: a config file holds one YAML document, found a second '---'");
  auto trailing = error_from([] { load("- a\nb: c\n"); });
  EXPECT_STREQ(trailing.what(),
               "test.yaml:2:1: unexpected content after the end of the document (check the "
               "indentation)");
}

TEST(ConfigLoader, EmptyDocumentReadsAsEmptyMapping) {
  for (std::string_view text : {"", "# only a comment\n", "~\n"}) {
    auto root = load(text);
    EXPECT_EQ(root.optional<int>("port", 5), 5);
    EXPECT_STREQ(error_from([&] { root.required<int>("port"); }).what(),
                 "test.yaml:1:1: missing required key 'port'");
    EXPECT_NO_THROW(root.finish());
  }
}

TEST(ConfigLoader, ComplexKeysAreRejected) {
  auto error = error_from([] { load("? [a, b]\n: 1\n"); });
  EXPECT_EQ(error.message(), "only plain values can be mapping keys");
  EXPECT_EQ(error.where().line, 1);
}

TEST(ConfigLoader, MergeKeysWithExplicitKeysWinning) {
  auto root = load(R"(
x-defaults: &defaults
  timeout: 10s
  priority: 1
deployments:
  a:
    <<: *defaults
    priority: 2
  b:
    <<: [*defaults]
)");
  auto deployments = root.section("deployments");
  auto a = deployments.section("a");
  EXPECT_EQ(a.required<std::chrono::seconds>("timeout").count(), 10);
  EXPECT_EQ(a.required<int>("priority"), 2);
  auto b = deployments.section("b");
  EXPECT_EQ(b.required<int>("priority"), 1);
  EXPECT_EQ(b.keys(), (std::vector<std::string>{"timeout", "priority"}));
  b.required<std::chrono::seconds>("timeout");
  EXPECT_NO_THROW(root.finish());
}

TEST(ConfigLoader, MergeOfAScalarIsAnError) {
  auto error = error_from([] { load("a:\n  <<: 3\n"); });
  EXPECT_EQ(error.message(), "'<<' needs a mapping or a list of mappings");
  EXPECT_EQ(error.where().line, 2);
}

TEST(ConfigLoader, SelfReferencingAliasIsAnError) {
  auto error = error_from([] { load("a: &loop\n  - *loop\n"); });
  EXPECT_EQ(error.message(), "alias refers to a node that contains it");
  EXPECT_EQ(error.path(), "a[0]");
}

TEST(ConfigLoader, SharedAliasesAreNotWalkedExponentially) {
  // Each level refers to the one before nine times: 9^12 paths, 12 * 9 nodes.
  std::string yaml = "l0: &l0 [x]\n";
  for (int level = 1; level <= 12; ++level) {
    yaml += "l" + std::to_string(level) + ": &l" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) yaml += (i ? ", *l" : "*l") + std::to_string(level - 1);
    yaml += "]\n";
  }
  // Walked path by path, finish() would visit about 2.8e11 nodes and not end within ctest's
  // timeout, which is what fails this test then; a wall-clock bound here would instead depend on
  // how loaded the machine is.
  auto root = load(yaml);
  for (const auto& key : root.keys()) root.ignore(key);
  root.finish();
}

using ConfigFileTest = testing::TempDirTest;

TEST_F(ConfigFileTest, ErrorsNameTheFileAsGiven) {
  write("conf/gateway.yaml", "port: high\n");
  auto path = dir_ / "conf" / "gateway.yaml";
  auto root = load_config_file(path);
  auto error = error_from([&] { root.required<int>("port"); });
  EXPECT_EQ(std::string(error.what()),
            path.string() + ":1:7: port: expected an integer, got \"high\"");
}

TEST_F(ConfigFileTest, MissingFile) {
  auto path = dir_ / "nope.yaml";
  auto error = error_from([&] { load_config_file(path); });
  EXPECT_EQ(error.where().file, path.string());
  EXPECT_EQ(error.where().line, 0);
  EXPECT_NE(error.message().find("cannot open"), std::string::npos) << error.what();
}

TEST_F(ConfigFileTest, DirectoryIsNotAConfigFile) {
  auto error = error_from([&] { load_config_file(dir_); });
  EXPECT_NE(error.message().find("not a regular file"), std::string::npos) << error.what();
}

}  // namespace
}  // namespace sluice::core
