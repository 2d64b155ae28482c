#include "sluice/usage/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "usage/tests/test_dir.hpp"

namespace sluice::usage {
namespace {

using testing::TempDir;

TEST(Store, KindFromUrl) {
  EXPECT_EQ(*store_kind("usage.db"), StoreKind::kSqlite);
  EXPECT_EQ(*store_kind("sqlite:/tmp/x.db"), StoreKind::kSqlite);
  EXPECT_EQ(*store_kind("postgresql://u@h/db"), StoreKind::kPostgres);
  EXPECT_EQ(*store_kind("postgres://u@h/db"), StoreKind::kPostgres);
  EXPECT_FALSE(store_kind("mysql://h/db"));
  EXPECT_FALSE(store_kind(""));
}

TEST(Store, PasswordsNeverReachLogs) {
  EXPECT_EQ(redact_store_url("postgresql://sluice:s3cret@db:5432/usage"),
            "postgresql://sluice:***@db:5432/usage");
  EXPECT_EQ(redact_store_url("postgresql://sluice@db/usage"), "postgresql://sluice@db/usage");
}

TEST(Store, SqliteInsertIsIdempotentAndSummarizes) {
  TempDir dir;
  auto store = open_store("sqlite:" + (dir.path() / "u.db").string());
  ASSERT_TRUE(store) << store.error().message;
  std::vector<UsageRecord> records(3);
  const char* apps[] = {"a", "a", "b"};
  for (int i = 0; i < 3; ++i) {
    records[i].request_id = "id" + std::to_string(i);
    records[i].started_at_us = 86'400'000'000 + i;
    records[i].app_id = apps[i];
    records[i].model = "gpt-4o";
    records[i].prompt_tokens = 10;
    records[i].completion_tokens = i;
    records[i].total_tokens = 10 + i;
  }
  EXPECT_EQ(*(*store)->insert(records), 3u);
  EXPECT_EQ(*(*store)->insert(records), 0u) << "same ids again: nothing new";
  records[0].started_at_us += 1;  // same id, another request (ids are not trusted to be unique)
  EXPECT_EQ(*(*store)->insert(std::span(records).first(1)), 1u);

  auto rows = (*store)->summarize({}, {"app", "day"});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  std::map<std::string, SummaryRow> by_app;
  for (const auto& row : *rows) by_app[row.keys[0]] = row;
  EXPECT_EQ(by_app["a"].requests, 3);
  EXPECT_EQ(by_app["a"].total_tokens, 10 + 11 + 10);
  EXPECT_EQ(by_app["a"].keys[1], "1970-01-02");
  EXPECT_EQ(by_app["b"].completion_tokens, 2);
  auto later = (*store)->summarize({.since_us = 86'400'000'002}, {"app"});
  ASSERT_TRUE(later);
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].keys[0], "b");
  EXPECT_FALSE((*store)->summarize({}, {"app; DROP TABLE sluice_usage"}));
}

// Inserts go 32 rows to a statement and one at a time for the rest: a batch of 70 holding 3 rows
// already stored (one in each full statement, one in the rest) and a row twice stores each row
// once, with every value in its column, and counts only the new ones.
TEST(Store, SqliteInsertsLargeBatchesWholeAndSkipsRowsAlreadyThere) {
  TempDir dir;
  auto path = (dir.path() / "u.db").string();
  auto store = open_store("sqlite:" + path);
  ASSERT_TRUE(store) << store.error().message;
  std::vector<UsageRecord> records(70);
  for (int i = 0; i < 70; ++i) {
    records[i].request_id = "id" + std::to_string(i);
    records[i].started_at_us = 1'000 + i;
    records[i].app_id = "app" + std::to_string(i % 3);
    records[i].model = "gpt-4o";
    records[i].prompt_tokens = i;
    records[i].total_tokens = 2 * i;
    records[i].purpose = i % 2 ? "" : "cache_lookup";
  }
  std::vector<UsageRecord> earlier = {records[5], records[40], records[69]};
  ASSERT_EQ(*(*store)->insert(earlier), 3u);
  records[20] = records[10];  // twice in one statement
  EXPECT_EQ(*(*store)->insert(records), 66u);
  EXPECT_EQ(*(*store)->insert(records), 0u);

  std::vector<PromptLogEntry> prompts(33);
  for (int i = 0; i < 33; ++i) {
    prompts[i].request_id = "p" + std::to_string(i);
    prompts[i].started_at_us = i;
    prompts[i].prompt = "prompt " + std::to_string(i);
  }
  EXPECT_EQ(*(*store)->insert_prompt_logs(prompts), 33u);
  store->reset();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto query = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string text;
    while (sqlite3_step(s) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(s); ++c) {
        auto* value = sqlite3_column_text(s, c);
        text += (c ? "|" : "") + std::string(value ? reinterpret_cast<const char*>(value) : "");
      }
      text += "\n";
    }
    sqlite3_finalize(s);
    return text;
  };
  // 69 distinct rows: id20 was never sent (its place held id10 again).
  EXPECT_EQ(query("SELECT COUNT(*), SUM(prompt_tokens), SUM(total_tokens), "
                  "SUM(purpose = 'cache_lookup') FROM sluice_usage"),
            "69|2395|4790|34\n");
  EXPECT_EQ(query("SELECT request_id, started_at_us, app_id, prompt_tokens FROM sluice_usage "
                  "WHERE request_id IN ('id31', 'id32', 'id64', 'id68') ORDER BY started_at_us"),
            "id31|1031|app1|31\nid32|1032|app2|32\nid64|1064|app1|64\nid68|1068|app2|68\n");
  EXPECT_EQ(query("SELECT COUNT(*), MAX(prompt) FROM sluice_prompt_log"), "33|prompt 9\n");
  sqlite3_close(db);
}

// A range bounds both ends: `since` included, `until` excluded, so consecutive ranges never count
// a record twice.
TEST(Store, SqliteSummarizesARangeBoundedAtBothEnds) {
  TempDir dir;
  auto store = open_store("sqlite:" + (dir.path() / "u.db").string());
  ASSERT_TRUE(store) << store.error().message;
  std::vector<UsageRecord> records(4);
  for (int i = 0; i < 4; ++i) {
    records[i].request_id = "r" + std::to_string(i);
    records[i].started_at_us = 1'000 * (i + 1);  // 1000, 2000, 3000, 4000
    records[i].app_id = "a";
    records[i].total_tokens = 1 << i;  // 1, 2, 4, 8: the sum says which were counted
  }
  ASSERT_TRUE((*store)->insert(records));
  auto tokens = [&](TimeRange range) -> std::int64_t {
    auto rows = (*store)->summarize(range, {"app"});
    EXPECT_TRUE(rows) << rows.error().message;
    return rows && !rows->empty() ? (*rows)[0].total_tokens : 0;
  };
  EXPECT_EQ(tokens({}), 15);
  EXPECT_EQ(tokens({.since_us = 2'000, .until_us = 4'000}), 2 + 4);
  EXPECT_EQ(tokens({.since_us = 0, .until_us = 2'000}), 1);
  EXPECT_EQ(tokens({.since_us = 4'001}), 0);
  EXPECT_EQ(tokens({.since_us = 1'500, .until_us = 1'600}), 0);
}

// A usage.db made before the response cache had no cache columns: opening it adds them, old rows
// read as "no hit", and new rows carry their hits and tokens saved.
TEST(Store, SqliteUpgradesAnOlderTableAndSumsCacheHits) {
  TempDir dir;
  auto path = (dir.path() / "old.db").string();
  {
    auto store = open_store("sqlite:" + path);
    ASSERT_TRUE(store) << store.error().message;
    std::vector<UsageRecord> old(1);
    old[0].request_id = "old";
    old[0].started_at_us = 1;
    old[0].app_id = "a";
    old[0].total_tokens = 7;
    ASSERT_TRUE((*store)->insert(old));
  }
  // Back to the first schema: the table as an older sluice left it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db,
                         "ALTER TABLE sluice_usage DROP COLUMN cache;"
                         "ALTER TABLE sluice_usage DROP COLUMN tokens_saved;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto store = open_store("sqlite:" + path);
  ASSERT_TRUE(store) << store.error().message;
  std::vector<UsageRecord> hits(2);
  for (int i = 0; i < 2; ++i) {
    hits[i].request_id = "hit" + std::to_string(i);
    hits[i].started_at_us = 2 + i;
    hits[i].app_id = "a";
    hits[i].cache = "exact";
    hits[i].tokens_saved = 7;
  }
  ASSERT_TRUE((*store)->insert(hits)) << "the new columns are there";
  auto rows = (*store)->summarize({}, {"app"});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].requests, 3);
  EXPECT_EQ((*rows)[0].cache_hits, 2);
  EXPECT_EQ((*rows)[0].tokens_saved, 14);
  EXPECT_EQ((*rows)[0].total_tokens, 7);
  auto by_cache = (*store)->summarize({}, {"cache"});
  ASSERT_TRUE(by_cache);
  EXPECT_EQ(by_cache->size(), 2u);  // "" and "exact"
}

// Nothing listens on port 1, so the connection is refused at once; a store that hung instead would
// run into ctest's timeout. (Timing the call would make the test depend on the machine's load.)
TEST(Store, UnreachablePostgresIsUnavailableNotAHang) {
  auto store = open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2");
  EXPECT_FALSE(store);
  EXPECT_EQ(store.error().code, core::ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace sluice::usage
