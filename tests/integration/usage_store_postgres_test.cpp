// The usage store and shipper against a real PostgreSQL server, started privately for this test
// on 127.0.0.1 (tests/integration/usage_postgres.sh) and removed afterwards.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "sluice/usage/shipper.hpp"
#include "sluice/usage/store.hpp"

namespace sluice::usage {
namespace {

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe)) out += buffer;
  if (::pclose(pipe) != 0) return "";
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// A loopback port nothing holds now: the kernel's pick for a socket bound to port 0. (A port
// derived from the pid could be one a live connection already had, and the server then failed
// to bind it.)
int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/sluice-pg-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    const std::string script =
        std::string(SLUICE_SOURCE_DIR) + "/tests/integration/usage_postgres.sh";
    // Something may take the port between the pick and the server's bind: then a new pick.
    for (int attempt = 0; attempt < 3 && url_.empty(); ++attempt) {
      if (attempt > 0) run(script + " stop " + dir_);
      url_ = run(script + " start " + dir_ + " " + std::to_string(free_loopback_port()));
    }
  }
  static void TearDownTestSuite() {
    run(std::string(SLUICE_SOURCE_DIR) + "/tests/integration/usage_postgres.sh stop " + dir_);
  }
  void SetUp() override {
    ASSERT_FALSE(url_.empty()) << "the private PostgreSQL server did not start (see " << dir_
                               << "/server.log)";
  }
  static std::string dir_;
  static std::string url_;
};

std::string PostgresStoreTest::dir_;
std::string PostgresStoreTest::url_;

UsageRecord record(std::string id, std::string app, std::int64_t prompt, std::int64_t completion) {
  UsageRecord r;
  r.request_id = std::move(id);
  r.started_at_us = 1'700'000'000'000'000;
  r.app_id = std::move(app);
  r.deployment = "gpt-4o";
  r.model = "gpt-4o-2024-08-06";
  r.streamed = true;
  r.status = 200;
  r.prompt_tokens = prompt;
  r.completion_tokens = completion;
  r.total_tokens = prompt + completion;
  r.usage_source = "reported";
  return r;
}

TEST_F(PostgresStoreTest, InsertIsIdempotentAndSummarizes) {
  auto store = open_store(url_);
  ASSERT_TRUE(store) << store.error().message;
  std::vector<UsageRecord> records;
  for (int i = 0; i < 1200; ++i) {  // more than one multi-row statement
    records.push_back(record("pg-" + std::to_string(i), i % 3 ? "a" : "b", 10, i % 7));
  }
  auto first = (*store)->insert(records);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, 1200u);
  auto again = (*store)->insert(records);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);

  auto rows = (*store)->summarize({}, {"app", "streamed", "day"});
  ASSERT_TRUE(rows) << rows.error().message;
  std::int64_t requests = 0;
  std::int64_t total = 0;
  std::int64_t expected_total = 0;
  for (const auto& r : records) expected_total += r.total_tokens;
  for (const auto& row : *rows) {
    requests += row.requests;
    total += row.total_tokens;
    EXPECT_EQ(row.keys[1], "true");
    EXPECT_EQ(row.keys[2], "2023-11-14");
  }
  EXPECT_EQ(requests, 1200);
  EXPECT_EQ(total, expected_total);

  PromptLogEntry entry{
      .request_id = "pg-0", .started_at_us = 1, .prompt = "{\"x\":1}", .response = "hello"};
  auto logged = (*store)->insert_prompt_logs(std::span(&entry, 1));
  ASSERT_TRUE(logged) << logged.error().message;
  EXPECT_EQ(*logged, 1u);
}

TEST_F(PostgresStoreTest, ShipperDrainsAJournalIntoPostgres) {
  char pattern[] = "/tmp/sluice-journal-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(pattern);
  {
    Journal journal({.directory = dir});
    std::string line;
    for (int i = 0; i < 50; ++i) {
      line.clear();
      append_record_line(line, record("ship-" + std::to_string(i), "shipper-app", 5, 5));
      ASSERT_TRUE(journal.append(line));
    }
    Shipper shipper(dir, {.store_url = url_}, &journal);
    auto shipped = shipper.ship_once();
    ASSERT_TRUE(shipped) << shipped.error().message;
    EXPECT_EQ(*shipped, 50u);
  }
  std::filesystem::remove(dir / "shipped.offset");  // replay everything: nothing new
  Shipper replay(dir, {.store_url = url_}, nullptr);
  auto again = replay.ship_once();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(replay.stats().duplicates.load(), 50u);
  std::filesystem::remove_all(dir);
}

// A sluice_usage table made before the response cache (no cache columns): opening the store adds
// them, and cache hits are summed.
TEST_F(PostgresStoreTest, UpgradesAnOlderTableAndSumsCacheHits) {
  ASSERT_TRUE(open_store(url_)) << "creates the tables";
  PGconn* conn = PQconnectdb(url_.c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* dropped =
      PQexec(conn, "ALTER TABLE sluice_usage DROP COLUMN cache, DROP COLUMN tokens_saved");
  EXPECT_EQ(PQresultStatus(dropped), PGRES_COMMAND_OK) << PQerrorMessage(conn);
  PQclear(dropped);
  PQfinish(conn);

  auto store = open_store(url_);
  ASSERT_TRUE(store) << store.error().message;
  std::vector<UsageRecord> records;
  for (int i = 0; i < 3; ++i) {
    auto r = record("pg-cache-" + std::to_string(i), "c", i == 0 ? 10 : 0, 0);
    r.started_at_us = 1'800'000'000'000'000;
    if (i > 0) {
      r.cache = "exact";
      r.tokens_saved = 10;
    }
    records.push_back(std::move(r));
  }
  auto inserted = (*store)->insert(records);
  ASSERT_TRUE(inserted) << inserted.error().message;
  EXPECT_EQ(*inserted, 3u);
  auto rows = (*store)->summarize({.since_us = 1'800'000'000'000'000}, {"app"});
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].requests, 3);
  EXPECT_EQ((*rows)[0].cache_hits, 2);
  EXPECT_EQ((*rows)[0].tokens_saved, 20);
  EXPECT_EQ((*rows)[0].total_tokens, 10);
}

// Both ends bounded, as the console's custom chargeback range asks: `since` in, `until` out.
TEST_F(PostgresStoreTest, SummarizesARangeBoundedAtBothEnds) {
  auto store = open_store(url_);
  ASSERT_TRUE(store) << store.error().message;
  std::vector<UsageRecord> records;
  for (int i = 0; i < 4; ++i) {
    auto r = record("range-" + std::to_string(i), "range-app", 1 << i, 0);  // 1, 2, 4, 8 tokens
    r.started_at_us = 1'900'000'000'000'000 + 1'000 * i;
    records.push_back(std::move(r));
  }
  ASSERT_TRUE((*store)->insert(records));
  auto tokens = [&](TimeRange range) -> std::int64_t {
    auto rows = (*store)->summarize(range, {"app"});
    EXPECT_TRUE(rows) << rows.error().message;
    std::int64_t sum = 0;
    if (rows) {
      for (const auto& row : *rows) {
        if (row.keys[0] == "range-app") sum += row.total_tokens;
      }
    }
    return sum;
  };
  const std::int64_t t0 = 1'900'000'000'000'000;
  EXPECT_EQ(tokens({.since_us = t0}), 15);
  EXPECT_EQ(tokens({.since_us = t0 + 1'000, .until_us = t0 + 3'000}), 2 + 4);
  EXPECT_EQ(tokens({.since_us = t0, .until_us = t0 + 1'000}), 1);
  EXPECT_EQ(tokens({.since_us = t0 + 3'001}), 0);
}

}  // namespace
}  // namespace sluice::usage
