#include "gateway/policies/prompt_log/prompt_log_writer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <fstream>

#include "core/tests/eventually.hpp"
#include "usage/tests/test_dir.hpp"

namespace sluice::gateway {
namespace {

std::vector<boost::json::object> read_lines(const std::filesystem::path& path) {
  std::vector<boost::json::object> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(boost::json::parse(line).as_object());
  return out;
}

std::shared_ptr<const PromptLogRules> rules(std::size_t max_text = 64 << 10) {
  RedactionSettings redact;
  redact.patterns = {R"(\b\d{4}-\d{4}-\d{4}-\d{4}\b)"};
  redact.json_fields = {"messages.*.content"};
  return std::make_shared<const PromptLogRules>(redact, max_text);
}

PromptLogCapture chat(std::string id, bool streamed, std::string response) {
  PromptLogCapture c;
  c.rules = rules();
  c.route = "chat";
  c.response_is_body = !streamed;
  c.entry.request_id = std::move(id);
  c.entry.started_at_us = 1'700'000'000'123'456;
  c.entry.app_id = "app-a";
  c.entry.deployment = "gpt-4o";
  c.entry.operation = "chat_completions";
  c.entry.status = 200;
  c.entry.streamed = streamed;
  c.entry.prompt =
      R"({"user":"card 1234-5678-9012-3456","messages":[{"role":"user","content":"hi"}]})";
  c.entry.response = std::move(response);
  return c;
}

TEST(PromptLogWriter, WritesProcessedEntriesToTheFile) {
  usage::testing::TempDir dir;
  PromptLogSinkSettings sinks;
  sinks.file = dir.path() / "prompts.jsonl";
  {
    PromptLogWriter writer(sinks);
    EXPECT_TRUE(writer.submit(chat(
        "r1", false,
        R"({"choices":[{"message":{"role":"assistant","content":"Hello 1111-2222-3333-4444"}}]})")));
    EXPECT_TRUE(writer.submit(chat("r2", true, "streamed text, reassembled")));
  }  // the destructor writes what is queued
  auto lines = read_lines(sinks.file);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("request_id"), "r1");
  EXPECT_EQ(lines[0].at("time"), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(lines[0].at("route"), "chat");
  EXPECT_EQ(lines[0].at("streamed"), false);
  EXPECT_EQ(lines[0].at("response"), "Hello [REDACTED]");
  auto prompt = boost::json::parse(lines[0].at("prompt").as_string()).as_object();
  EXPECT_EQ(prompt.at("user"), "card [REDACTED]");
  EXPECT_EQ(prompt.at("messages").at(0).at("content"), "[REDACTED]");
  EXPECT_EQ(lines[0].at("redactions"), 3);
  EXPECT_EQ(lines[1].at("streamed"), true);
  EXPECT_EQ(lines[1].at("response"), "streamed text, reassembled");
}

TEST(PromptLogWriter, TruncatesAfterRedactionOnACharacterBoundary) {
  usage::testing::TempDir dir;
  PromptLogSinkSettings sinks;
  sinks.file = dir.path() / "prompts.jsonl";
  {
    PromptLogWriter writer(sinks);
    auto c = chat("r1", true, "ééééé 1111-2222-3333-4444");  // é is 2 bytes
    c.rules = rules(5);
    writer.submit(std::move(c));
  }
  auto lines = read_lines(sinks.file);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("response"), "éé");
  EXPECT_EQ(lines[0].at("response_truncated"), true);
  EXPECT_EQ(lines[0].at("prompt_truncated"), true);
}

TEST(PromptLogWriter, OverflowIsCountedAndNeverBlocks) {
  usage::testing::TempDir dir;
  PromptLogSinkSettings sinks;
  sinks.file = dir.path() / "prompts.jsonl";
  sinks.queue_entries = 1;
  constexpr int kEntries = 5000;
  std::uint64_t pushed = 0, dropped = 0;
  {
    PromptLogWriter writer(sinks);
    // A submit that waited for room would make dropped 0 below.
    for (int i = 0; i < kEntries; ++i) writer.submit(chat(std::to_string(i), true, "text"));
    pushed = writer.queue().pushed();
    dropped = writer.queue().dropped();
  }
  EXPECT_EQ(pushed + dropped, std::uint64_t{kEntries});
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(read_lines(sinks.file).size(), pushed);  // everything accepted was written
}

TEST(PromptLogWriter, WritesToTheSqliteStore) {
  usage::testing::TempDir dir;
  PromptLogSinkSettings sinks;
  sinks.store_url = "sqlite:" + (dir.path() / "usage.db").string();
  std::uint64_t written = 0;
  {
    PromptLogWriter writer(sinks);
    writer.submit(chat("r1", true, "one"));
    writer.submit(chat("r2", false, R"({"choices":[{"text":"two"}]})"));
    EXPECT_TRUE(core::testing::eventually([&] { return writer.stats().store_written >= 2; }));
    written = writer.stats().store_written;
  }
  EXPECT_EQ(written, 2u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "usage.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT request_id, response, prompt FROM sluice_prompt_log "
                               "ORDER BY request_id",
                               -1, &s, nullptr),
            SQLITE_OK);
  std::vector<std::string> rows;
  while (sqlite3_step(s) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < 3; ++i) {
      row += reinterpret_cast<const char*>(sqlite3_column_text(s, i));
      row += "|";
    }
    rows.push_back(row);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].substr(0, 7), "r1|one|");
  EXPECT_EQ(rows[1].substr(0, 7), "r2|two|");
  EXPECT_NE(rows[0].find("[REDACTED]"), std::string::npos);
  EXPECT_EQ(rows[0].find("1234-5678"), std::string::npos);
}

TEST(PromptLogWriter, UnreachableStoreCostsEntriesNotTheFile) {
  usage::testing::TempDir dir;
  PromptLogSinkSettings sinks;
  sinks.file = dir.path() / "prompts.jsonl";
  sinks.store_url = "sqlite:" + (dir.path() / "no-such-dir" / "usage.db").string();
  std::uint64_t store_dropped = 0;
  {
    PromptLogWriter writer(sinks);
    writer.submit(chat("r1", true, "one"));
    EXPECT_TRUE(core::testing::eventually([&] { return writer.stats().store_dropped >= 1; }));
    store_dropped = writer.stats().store_dropped;
  }
  EXPECT_EQ(store_dropped, 1u);
  EXPECT_EQ(read_lines(sinks.file).size(), 1u);
}

}  // namespace
}  // namespace sluice::gateway
