#include "sluice/core/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <sstream>

namespace sluice::core {
namespace {

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override { sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_); }
  void TearDown() override {
    unsetenv("SLUICE_LOG");
    unsetenv("SLUICE_LOG_FORMAT");
    // Back to stderr: sink_ writes into out_, which dies with the fixture.
    ASSERT_TRUE(init_logging({}).ok());
  }

  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

TEST_F(LoggingTest, JsonLinesAreValidJsonWithEscapes) {
  ASSERT_TRUE(init_logging({.levels = "info", .format = LogFormat::kJson}, sink_).ok());
  get_logger("http")->info("line \"one\"\nline two\t{}", 42);
  auto json = boost::json::parse(out_.str());
  const auto& object = json.as_object();
  EXPECT_EQ(object.at("level").as_string(), "info");
  EXPECT_EQ(object.at("logger").as_string(), "http");
  EXPECT_EQ(object.at("msg").as_string(), "line \"one\"\nline two\t42");
  EXPECT_TRUE(object.at("time").as_string().ends_with("Z"));
  EXPECT_EQ(out_.str().back(), '\n');
}

TEST_F(LoggingTest, TextFormatNamesLoggerAndLevel) {
  ASSERT_TRUE(init_logging({.levels = "info", .format = LogFormat::kText}, sink_).ok());
  get_logger("sim")->warn("slow backend");
  EXPECT_NE(out_.str().find("[sim] slow backend"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("warning"), std::string::npos) << out_.str();
}

TEST_F(LoggingTest, PerLoggerLevelsApplyToExistingAndNewLoggers) {
  auto early = get_logger("gateway");
  ASSERT_TRUE(init_logging({.levels = "warn,gateway=debug,tokenizer=error"}, sink_).ok());
  early->debug("gateway debug");
  get_logger("other")->info("other info");
  get_logger("tokenizer")->warn("tokenizer warn");
  std::string text = out_.str();
  EXPECT_NE(text.find("gateway debug"), std::string::npos) << text;
  EXPECT_EQ(text.find("other info"), std::string::npos) << text;
  EXPECT_EQ(text.find("tokenizer warn"), std::string::npos) << text;
}

TEST_F(LoggingTest, BadLevelIsRefusedAndChangesNothing) {
  ASSERT_TRUE(init_logging({.levels = "info"}, sink_).ok());
  auto bad = init_logging({.levels = "info,http=loud"}, sink_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unknown log level 'loud'"), std::string::npos);
  get_logger("http")->info("still info");
  EXPECT_NE(out_.str().find("still info"), std::string::npos);
}

TEST_F(LoggingTest, EnvironmentOverridesSettings) {
  setenv("SLUICE_LOG", "debug", 1);
  setenv("SLUICE_LOG_FORMAT", "json", 1);
  auto settings = log_settings_from_env({.levels = "info", .format = LogFormat::kText});
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->levels, "debug");
  EXPECT_EQ(settings->format, LogFormat::kJson);

  setenv("SLUICE_LOG_FORMAT", "xml", 1);
  auto bad = log_settings_from_env();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("SLUICE_LOG_FORMAT"), std::string::npos);
}

}  // namespace
}  // namespace sluice::core
