#include "gateway/console/prompt_log_tail.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include <boost/json.hpp>

namespace sluice::gateway::console {
namespace {

class PromptLogTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = std::filesystem::temp_directory_path() /
            ("sluice-prompt-tail-" + std::to_string(::getpid()) + ".jsonl");
  }
  void TearDown() override {
    std::filesystem::remove(file_);
    std::filesystem::remove(file_.string() + ".1");
  }
  static std::string line(const std::string& id, const std::string& app, std::int64_t at,
                          const std::string& prompt) {
    boost::json::object o{{"request_id", id},
                          {"started_at_us", at},
                          {"app_id", app},
                          {"prompt", prompt},
                          {"response", "ok"}};
    return boost::json::serialize(o) + "\n";
  }
  static std::vector<std::string> ids(const boost::json::array& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries) out.emplace_back(e.at("request_id").as_string());
    return out;
  }
  std::filesystem::path file_;
};

TEST_F(PromptLogTailTest, NewestFirstFilteredByAppTimeAndTextSkippingDamagedLines) {
  std::ofstream(file_) << line("r1", "a", 100, "hello") << "{\"torn\":\n"
                       << line("r2", "b", 200, "<script>alert(1)</script>")
                       << line("r3", "a", 300, "world") << "not json\n";
  EXPECT_EQ(ids(read_prompt_log_tail(file_, {})), (std::vector<std::string>{"r3", "r2", "r1"}));
  EXPECT_EQ(ids(read_prompt_log_tail(file_, {.app = "a"})), (std::vector<std::string>{"r3", "r1"}));
  EXPECT_EQ(ids(read_prompt_log_tail(file_, {.since_us = 150})),
            (std::vector<std::string>{"r3", "r2"}));
  EXPECT_EQ(ids(read_prompt_log_tail(file_, {.since_us = 150, .until_us = 300})),
            (std::vector<std::string>{"r2"}));
  EXPECT_EQ(ids(read_prompt_log_tail(file_, {.text = "<script>"})),
            (std::vector<std::string>{"r2"}));
  EXPECT_EQ(ids(read_prompt_log_tail(file_, {.limit = 1})), (std::vector<std::string>{"r3"}));
}

TEST_F(PromptLogTailTest, ReadsTheRotatedFileWhenTheCurrentOneHasTooFew) {
  std::ofstream(file_.string() + ".1") << line("old", "a", 1, "x");
  std::ofstream(file_) << line("new", "a", 2, "y");
  EXPECT_EQ(ids(read_prompt_log_tail(file_, {})), (std::vector<std::string>{"new", "old"}));
}

TEST_F(PromptLogTailTest, AMissingFileHasNoEntries) {
  EXPECT_TRUE(read_prompt_log_tail(file_, {}).empty());
  EXPECT_TRUE(read_prompt_log_tail({}, {}).empty());
}

}  // namespace
}  // namespace sluice::gateway::console
