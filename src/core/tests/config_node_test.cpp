#include "sluice/core/config_node.hpp"

#include <gtest/gtest.h>

#include "config_test_util.hpp"
#include "sluice/core/config.hpp"

namespace sluice::core {
namespace {

using namespace std::chrono_literals;
using testing::error_from;
using testing::load;

// A component section read the way components are meant to read theirs.
struct Backend {
  std::string url;
  int priority = 1;
  std::chrono::milliseconds timeout{30'000};

  static Backend from_config(const ConfigNode& node) {
    Backend backend;
    backend.url = node.required<std::string>("url");
    backend.priority = node.optional<int>("priority", 1);
    backend.timeout = node.optional<std::chrono::milliseconds>("timeout", 30s);
    node.finish();
    return backend;
  }
};

TEST(ConfigNode, ReadsTypedValues) {
  auto root = load(R"(
name: gateway
enabled: true
port: 8080
ratio: 0.25
big: 18446744073709551615
hex: 0x1F
grouped: 1_000_000
negative: -40
timeout: 1.5s
body_limit: 16MiB
tags: [a, b]
weights: {east: 2, west: 1}
backends:
  - url: http://a
  - url: http://b
    priority: 2
    timeout: 250ms
)");
  EXPECT_EQ(root.required<std::string>("name"), "gateway");
  EXPECT_TRUE(root.required<bool>("enabled"));
  EXPECT_EQ(root.required<std::uint16_t>("port"), 8080);
  EXPECT_DOUBLE_EQ(root.required<double>("ratio"), 0.25);
  EXPECT_EQ(root.required<std::uint64_t>("big"), UINT64_MAX);
  EXPECT_EQ(root.required<int>("hex"), 31);
  EXPECT_EQ(root.required<int>("grouped"), 1'000'000);
  EXPECT_EQ(root.required<std::int8_t>("negative"), -40);
  EXPECT_EQ(root.required<std::chrono::milliseconds>("timeout"), 1500ms);
  EXPECT_EQ(root.required<ByteSize>("body_limit").bytes, 16u << 20);
  EXPECT_EQ(root.required<std::vector<std::string>>("tags"), (std::vector<std::string>{"a", "b"}));
  auto weights = root.required<std::map<std::string, int>>("weights");
  EXPECT_EQ(weights.at("east"), 2);
  EXPECT_EQ(weights.at("west"), 1);
  auto backends = root.required<std::vector<Backend>>("backends");
  ASSERT_EQ(backends.size(), 2u);
  EXPECT_EQ(backends[0].url, "http://a");
  EXPECT_EQ(backends[0].timeout, 30s);
  EXPECT_EQ(backends[1].priority, 2);
  EXPECT_EQ(backends[1].timeout, 250ms);
  root.finish();
}

TEST(ConfigNode, OptionalFallsBackWhenMissingOrNull) {
  auto root = load("present: 3\nempty:\ntilde: ~\n");
  EXPECT_EQ(root.optional<int>("present", 9), 3);
  EXPECT_EQ(root.optional<int>("missing", 9), 9);
  EXPECT_EQ(root.optional<int>("empty", 9), 9);
  EXPECT_EQ(root.get<int>("tilde"), std::nullopt);
  EXPECT_EQ(root.optional<std::string>("missing", "dflt"), "dflt");
  root.finish();
}

TEST(ConfigNode, WrongTypeNamesFileLineColumnAndPath) {
  auto root = load(
      "deployments:\n"
      "  gpt-4o:\n"
      "    tokens_per_minute: lots\n");
  auto error = error_from([&] {
    root.section("deployments").section("gpt-4o").required<std::int64_t>("tokens_per_minute");
  });
  EXPECT_STREQ(error.what(),
               "test.yaml:3:24: deployments.gpt-4o.tokens_per_minute: expected an integer, got "
               "\"lots\"");
  EXPECT_EQ(error.where().line, 3);
  EXPECT_EQ(error.where().column, 24);
  EXPECT_EQ(error.path(), "deployments.gpt-4o.tokens_per_minute");
}

TEST(ConfigNode, UnknownKeyIsReportedWithLineAndSuggestion) {
  auto root = load(
      "deployments:\n"
      "  gpt-4o:\n"
      "    model: gpt-4o\n"
      "    tokens_per_minut: 5000\n");
  auto deployment = root.section("deployments").section("gpt-4o");
  deployment.required<std::string>("model");
  deployment.optional<std::uint64_t>("tokens_per_minute", 0);
  auto error = error_from([&] { deployment.finish(); });
  EXPECT_STREQ(error.what(),
               "test.yaml:4:5: deployments.gpt-4o: unknown key 'tokens_per_minut' (did you mean "
               "'tokens_per_minute'?)");
}

TEST(ConfigNode, UnknownKeyWithoutCloseMatchListsKnownKeys) {
  auto root = load("port: 1\nregion: east\n");
  root.optional<int>("port", 0);
  root.optional<int>("host", 0);
  auto error = error_from([&] { root.finish(); });
  EXPECT_EQ(error.message(), "unknown key 'region' (known keys: 'port', 'host')");
  EXPECT_EQ(error.where().line, 2);
}

TEST(ConfigNode, RootFinishFindsUnreadKeysDeepDown) {
  auto root = load(
      "backends:\n"
      "  - url: http://a\n"
      "    weigth: 3\n");
  for (const auto& backend : root.list("backends")) {
    backend.required<std::string>("url");
    backend.optional<int>("weight", 1);
  }
  auto error = error_from([&] { root.finish(); });
  EXPECT_STREQ(error.what(),
               "test.yaml:3:5: backends[0]: unknown key 'weigth' (did you mean 'weight'?)");
}

TEST(ConfigNode, UnreadSectionIsAnUnknownKey) {
  auto root = load("gateway: {port: 1}\nsimulator: {}\n");
  root.section("gateway").required<int>("port");
  root.section("sim");
  auto error = error_from([&] { root.finish(); });
  EXPECT_EQ(error.message(), "unknown key 'simulator' (known keys: 'gateway', 'sim')");
}

TEST(ConfigNode, ExtensionKeysIgnoredIgnoreAndAcceptAny) {
  auto root = load(
      "x-notes: anything\n"
      "old_flag: true\n"
      "passthrough: {any: {shape: [1, 2]}}\n");
  root.ignore("old_flag");
  root.section("passthrough").accept_any();
  EXPECT_NO_THROW(root.finish());
}

TEST(ConfigNode, MissingRequiredKey) {
  auto root = load("backend:\n  uri: http://a\n");
  auto error = error_from([&] { root.section("backend").required<std::string>("url"); });
  EXPECT_STREQ(error.what(),
               "test.yaml:2:3: backend: missing required key 'url' (is 'uri' a misspelling of "
               "it?)");
  auto top = error_from([&] { root.required<int>("port"); });
  EXPECT_STREQ(top.what(), "test.yaml:1:1: missing required key 'port'");
}

TEST(ConfigNode, RequiredNullIsAnError) {
  auto root = load("url:\n");
  auto error = error_from([&] { root.required<std::string>("url"); });
  EXPECT_EQ(error.message(), "expected a value, got null");
  EXPECT_EQ(error.path(), "url");
}

TEST(ConfigNode, IntegerRangeAndSign) {
  auto root = load("port: 70000\ncount: -1\nsmall: -129\nratio: 1.5\n");
  EXPECT_EQ(error_from([&] { root.required<std::uint16_t>("port"); }).message(),
            "expected an integer from 0 to 65535, got \"70000\"");
  EXPECT_EQ(error_from([&] { root.required<unsigned>("count"); }).message(),
            "expected an integer from 0 to 4294967295, got \"-1\"");
  EXPECT_EQ(error_from([&] { root.required<std::int8_t>("small"); }).message(),
            "expected an integer from -128 to 127, got \"-129\"");
  EXPECT_EQ(error_from([&] { root.required<int>("ratio"); }).message(),
            "expected an integer, got \"1.5\"");
}

TEST(ConfigNode, BooleansAreStrict) {
  auto root = load("a: True\nb: yes\nc: [x]\n");
  EXPECT_TRUE(root.required<bool>("a"));
  EXPECT_EQ(error_from([&] { root.required<bool>("b"); }).message(),
            "expected true or false, got \"yes\"");
  EXPECT_EQ(error_from([&] { root.required<bool>("c"); }).message(),
            "expected true or false, got a list");
}

TEST(ConfigNode, DurationsAndSizesGoodAndBad) {
  auto root = load(
      "plain: 30\n"
      "fine: 250ms\n"
      "bad: soon\n"
      "negative: -1s\n"
      "size: 64KiB\n"
      "bad_size: 3 apples\n");
  EXPECT_EQ(root.required<std::chrono::seconds>("plain"), 30s);
  EXPECT_EQ(root.required<std::chrono::duration<double>>("fine").count(), 0.25);
  EXPECT_EQ(error_from([&] { root.required<std::chrono::seconds>("fine"); }).message(),
            "duration 250ms is finer than this setting's resolution of 1s");
  EXPECT_EQ(error_from([&] { root.required<std::chrono::seconds>("bad"); }).message(),
            "invalid duration \"soon\": expected a number in duration");
  EXPECT_EQ(error_from([&] { root.required<std::chrono::seconds>("negative"); }).message(),
            "invalid duration \"-1s\": duration must not be negative");
  EXPECT_EQ(root.required<ByteSize>("size").bytes, 65536u);
  auto size_error = error_from([&] { root.required<ByteSize>("bad_size"); });
  EXPECT_EQ(size_error.message(),
            "invalid byte size \"3 apples\": unknown unit 'apples' in byte size (use B, KiB, MiB, "
            "GiB, TiB, kB, KB, MB, GB, TB)");
  EXPECT_EQ(size_error.where().line, 6);
}

TEST(ConfigNode, ShapeErrors) {
  auto root = load("scalar: 1\nlist: [1]\nmap: {a: 1}\n");
  EXPECT_EQ(error_from([&] { root.section("scalar"); }).message(), "expected a mapping, got \"1\"");
  EXPECT_EQ(error_from([&] { root.section("list"); }).message(), "expected a mapping, got a list");
  EXPECT_EQ(error_from([&] { root.section("map").items(); }).message(),
            "expected a list, got a mapping");
  EXPECT_EQ(error_from([&] { root.required<std::string>("map"); }).message(),
            "expected a string, got a mapping");
  EXPECT_EQ(error_from([&] { root.required<std::vector<int>>("scalar"); }).path(), "scalar");
}

TEST(ConfigNode, AbsentSectionReadsAsEmpty) {
  auto root = load("other: 1\n");
  EXPECT_TRUE(root.list("backends").empty());
  auto limits = root.section("limits");
  EXPECT_TRUE(limits.is_absent());
  EXPECT_EQ(limits.optional<int>("tokens_per_minute", 7), 7);
  EXPECT_TRUE(limits.items().empty());
  auto error = error_from([&] { limits.required<int>("tokens_per_minute"); });
  EXPECT_EQ(error.path(), "limits");
  EXPECT_EQ(error.where().line, 1);
}

TEST(ConfigNode, Choices) {
  enum class Mode { kRoundRobin, kLeastBusy };
  auto root = load("mode: least_busy\nother: round_robn\n");
  EXPECT_EQ(root.required_choice<Mode>(
                "mode", {{"round_robin", Mode::kRoundRobin}, {"least_busy", Mode::kLeastBusy}}),
            Mode::kLeastBusy);
  EXPECT_EQ(
      root.optional_choice<Mode>("absent", {{"round_robin", Mode::kRoundRobin}}, Mode::kLeastBusy),
      Mode::kLeastBusy);
  auto error = error_from([&] {
    root.required_choice<Mode>(
        "other", {{"round_robin", Mode::kRoundRobin}, {"least_busy", Mode::kLeastBusy}});
  });
  EXPECT_EQ(error.message(),
            "expected one of 'round_robin', 'least_busy', got \"round_robn\" (did you mean "
            "'round_robin'?)");
}

TEST(ConfigNode, EntriesKeysAndHas) {
  auto root = load("headers:\n  x-api-key: k\n  accept: json\nempty: ~\n");
  auto headers = root.section("headers");
  EXPECT_EQ(headers.keys(), (std::vector<std::string>{"x-api-key", "accept"}));
  EXPECT_TRUE(root.has("headers"));
  EXPECT_FALSE(root.has("empty"));
  EXPECT_FALSE(root.has("missing"));
  auto entries = headers.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].first, "accept");
  EXPECT_EQ(entries[1].second.as<std::string>(), "json");
  EXPECT_EQ(entries[1].second.path(), "headers.accept");
  root.ignore("empty");
  EXPECT_NO_THROW(root.finish());
}

TEST(ConfigNode, FailAtPointsAtTheValue) {
  auto root = load("limits:\n  tokens_per_minute: 0\n");
  auto limits = root.section("limits");
  auto error = error_from([&] { limits.fail_at("tokens_per_minute", "must be positive"); });
  EXPECT_STREQ(error.what(), "test.yaml:2:22: limits.tokens_per_minute: must be positive");
  auto absent = error_from([&] { limits.fail_at("burst", "needed when x is set"); });
  EXPECT_STREQ(absent.what(), "test.yaml:2:3: limits.burst: needed when x is set");
}

TEST(ConfigNode, PathsQuoteAwkwardKeys) {
  auto root = load("deployments:\n  gpt-4.1:\n    tpm: x\n");
  auto error =
      error_from([&] { root.section("deployments").section("gpt-4.1").required<int>("tpm"); });
  EXPECT_EQ(error.path(), "deployments.\"gpt-4.1\".tpm");
}

}  // namespace
}  // namespace sluice::core
