#include "sluice/usage/store.hpp"

#include <gtest/gtest.h>

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

  auto rows = (*store)->summarize(0, {"app", "day"});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  std::map<std::string, SummaryRow> by_app;
  for (const auto& row : *rows) by_app[row.keys[0]] = row;
  EXPECT_EQ(by_app["a"].requests, 3);
  EXPECT_EQ(by_app["a"].total_tokens, 10 + 11 + 10);
  EXPECT_EQ(by_app["a"].keys[1], "1970-01-02");
  EXPECT_EQ(by_app["b"].completion_tokens, 2);
  auto later = (*store)->summarize(86'400'000'002, {"app"});
  ASSERT_TRUE(later);
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].keys[0], "b");
  EXPECT_FALSE((*store)->summarize(0, {"app; DROP TABLE sluice_usage"}));
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
