#include "sluice/usage/shipper.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/tests/eventually.hpp"
#include "sluice/usage/usage_log.hpp"
#include "usage/tests/test_dir.hpp"
#include "usage/tests/test_records.hpp"

namespace sluice::usage {
namespace {

using testing::record;
using testing::TempDir;
using testing::total_in;

// What UsageLog::append does: the record to the journal and to memory.
bool append_pending(PendingRecords& pending, Journal& journal, const std::string& id,
                    std::int64_t tokens) {
  std::string line;
  auto r = record(id, tokens);
  append_record_line(line, r);
  return pending.append(journal, line, std::move(r));
}

// One pass ships `records` new records, none twice; `read_back` of all shipped so far came from
// the journal files rather than from memory.
void expect_pass(Shipper& shipper, std::size_t records, std::uint64_t read_back) {
  auto shipped = shipper.ship_once();
  ASSERT_TRUE(shipped) << shipped.error().message;
  EXPECT_EQ(*shipped, records);
  EXPECT_EQ(shipper.stats().read_back.load(), read_back);
  EXPECT_EQ(shipper.stats().duplicates.load(), 0u);
}

void expect_in_store(const std::string& db, std::int64_t tokens, std::int64_t records) {
  std::int64_t requests = 0;
  EXPECT_EQ(total_in(db, &requests), tokens);
  EXPECT_EQ(requests, records);
}

TEST(Shipper, ShipsEveryRecordOnceAndReplaysIdempotently) {
  TempDir dir;
  auto journal_dir = dir.path() / "journal";
  auto db = (dir.path() / "usage.db").string();
  {
    Journal journal({.directory = journal_dir});
    Shipper shipper(journal_dir, {.store_url = db}, &journal);
    std::string line;
    for (int i = 0; i < 10; ++i) {
      line.clear();
      append_record_line(line, record("r" + std::to_string(i), 10));
      journal.append(line);
    }
    auto shipped = shipper.ship_once();
    ASSERT_TRUE(shipped) << shipped.error().message;
    EXPECT_EQ(*shipped, 10u);
    EXPECT_EQ(*shipper.ship_once(), 0u) << "nothing new";
  }
  std::int64_t requests = 0;
  EXPECT_EQ(total_in(db, &requests), 100);
  EXPECT_EQ(requests, 10);

  // A crash after the commit but before the offset was saved: everything is read again.
  std::filesystem::remove(journal_dir / "shipped.offset");
  Shipper replay(journal_dir, {.store_url = db}, nullptr);
  auto again = replay.ship_once();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(replay.stats().duplicates.load(), 10u);
  EXPECT_EQ(total_in(db), 100);
  EXPECT_TRUE(Journal::list_segments(journal_dir).empty()) << "shipped, sealed segments go";
}

TEST(Shipper, SkipsATornRecordAndRecoversTheOneGluedToIt) {
  TempDir dir;
  std::filesystem::create_directories(dir.path());
  std::string a, b, c;
  append_record_line(a, record("a", 1));
  append_record_line(b, record("b", 2));
  append_record_line(c, record("c", 4));
  {
    std::ofstream out(Journal::segment_path(dir.path(), 1));
    // `b` was torn by a crash and another thread's `c` landed right after it; then a torn tail.
    out << a << b.substr(0, b.size() / 2) << c << std::string(a.substr(0, 10));
  }
  auto db = (dir.path() / "usage.db").string();
  Shipper shipper(dir.path(), {.store_url = db}, nullptr);
  auto shipped = shipper.ship_once();
  ASSERT_TRUE(shipped);
  EXPECT_EQ(*shipped, 2u);
  EXPECT_EQ(total_in(db), 5);
  EXPECT_EQ(shipper.stats().corrupt_lines.load(), 2u);
}

TEST(Shipper, RecordsWaitInTheJournalWhileTheStoreIsDown) {
  TempDir dir;
  auto journal_dir = dir.path() / "journal";
  auto db_dir = dir.path() / "not-yet";
  auto db = (db_dir / "usage.db").string();  // cannot be opened until the directory exists
  UsageLogSettings settings;
  settings.journal.directory = journal_dir;
  settings.shipper.store_url = db;
  settings.shipper.interval = std::chrono::milliseconds(10);
  settings.shipper.max_backoff = std::chrono::milliseconds(20);
  UsageLog log(settings);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(log.append(record("w" + std::to_string(i), 3)));
  const auto& stats = log.shipper().stats();
  EXPECT_TRUE(core::testing::eventually([&] { return stats.store_errors.load() >= 2; }));
  EXPECT_FALSE(stats.store_up.load());
  std::filesystem::create_directories(db_dir);
  EXPECT_TRUE(core::testing::eventually([&] { return stats.shipped.load() >= 5; }));
  EXPECT_EQ(stats.shipped.load(), 5u);
  EXPECT_TRUE(stats.store_up.load());
  EXPECT_EQ(total_in(db), 15);
}

// The gateway's path: records go to the journal and to memory, and are shipped from memory. A
// restart after a crash reads the journal back from where memory shipping stopped: what was
// shipped from memory is not shipped again, and what only reached the journal is shipped once.
TEST(Shipper, ShipsFromMemoryAndAfterACrashOnlyWhatMemoryDidNotShip) {
  TempDir dir;
  auto journal_dir = dir.path() / "journal";
  auto db = (dir.path() / "usage.db").string();
  {
    Journal journal({.directory = journal_dir});
    PendingRecords pending;
    Shipper shipper(journal_dir, {.store_url = db}, &journal, &pending);
    ASSERT_TRUE(shipper.ship_once());  // the start-up pass over the journal: nothing yet
    std::string line;
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(append_pending(pending, journal, "m" + std::to_string(i), 10));
    }
    expect_pass(shipper, 5, 0);  // from memory, not read back
    // Then the process is killed: these reached the journal but not the shipper.
    for (int i = 0; i < 3; ++i) {
      line.clear();
      append_record_line(line, record("j" + std::to_string(i), 1));
      ASSERT_TRUE(journal.append(line));
    }
  }
  Journal journal({.directory = journal_dir});
  PendingRecords pending;
  Shipper restarted(journal_dir, {.store_url = db}, &journal, &pending);
  expect_pass(restarted, 3, 3);  // only the records memory did not ship, none twice
  expect_in_store(db, 53, 8);
}

// Whenever memory does not hold every record the journal does (here the queue was full), the
// shipper reads the journal back from where it stopped, and still ships every record once.
TEST(Shipper, ReadsTheJournalBackWhenMemoryMissedRecords) {
  TempDir dir;
  auto journal_dir = dir.path() / "journal";
  auto db = (dir.path() / "usage.db").string();
  Journal journal({.directory = journal_dir});
  PendingRecords pending(2);
  Shipper shipper(journal_dir, {.store_url = db}, &journal, &pending);
  ASSERT_TRUE(shipper.ship_once());
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(append_pending(pending, journal, "q" + std::to_string(i), 1));
  }
  expect_pass(shipper, 6, 6);
  // Back in step: the next records come from memory.
  for (int i = 6; i < 8; ++i) {
    ASSERT_TRUE(append_pending(pending, journal, "q" + std::to_string(i), 1));
  }
  expect_pass(shipper, 2, 6);
  expect_in_store(db, 8, 8);
}

// Segments that were rolled, sealed and shipped from memory are deleted, as after a journal pass.
TEST(Shipper, RemovesSegmentsShippedFromMemory) {
  TempDir dir;
  auto journal_dir = dir.path() / "journal";
  auto db = (dir.path() / "usage.db").string();
  Journal journal({.directory = journal_dir,
                   .segment_bytes = 4096,
                   .sync_interval = std::chrono::milliseconds(5),
                   .seal_grace = std::chrono::milliseconds(5)});
  PendingRecords pending;
  Shipper shipper(journal_dir, {.store_url = db}, &journal, &pending);
  ASSERT_TRUE(shipper.ship_once());
  int appended = 0;
  auto append_some = [&] {
    for (int i = 0; i < 20; ++i, ++appended) {
      ASSERT_TRUE(append_pending(pending, journal, "s" + std::to_string(appended), 1));
    }
  };
  append_some();  // more than a segment
  EXPECT_TRUE(core::testing::eventually([&] { return journal.sealed_below() > 1; }));
  append_some();  // lands in the next segment
  expect_pass(shipper, 40, 0);
  auto segments = Journal::list_segments(journal_dir);
  ASSERT_FALSE(segments.empty());
  EXPECT_GT(segments.front(), 1u) << "the first, sealed and shipped segment is gone";
  expect_in_store(db, 40, 40);
}

}  // namespace
}  // namespace sluice::usage
