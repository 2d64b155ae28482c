#include "sluice/usage/append_batch.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <stdexcept>
#include <thread>

#include "sluice/usage/shipper.hpp"
#include "sluice/usage/store.hpp"
#include "sluice/usage/usage_log.hpp"
#include "usage/tests/test_dir.hpp"
#include "usage/tests/test_records.hpp"

namespace sluice::usage {
namespace {

using testing::record;
using testing::TempDir;
using testing::total_in;

// Records and their lines laid end to end, as AppendBatch::flush hands them over.
struct Lines {
  std::string text;
  std::vector<std::size_t> ends;
  std::vector<UsageRecord> records;
  void add(UsageRecord r) {
    append_record_line(text, r);
    ends.push_back(text.size());
    records.push_back(std::move(r));
  }
};

// What AppendBatch::add() takes: a fill that makes the test record `record(id, tokens)`.
auto made(std::string id, std::int64_t tokens) {
  return [id = std::move(id), tokens](UsageRecord& r) { r = record(id, tokens); };
}

// Records in the store at `url`; `tokens`, when given, receives their total tokens.
std::int64_t requests_in(const std::string& url, std::int64_t* tokens = nullptr) {
  std::int64_t requests = 0;
  const auto total = total_in(url, &requests);
  if (tokens) *tokens = total;
  return requests;
}

// A journal in `dir`, the records kept in memory for its shipper, and the shipper, whose start-up
// pass has run; destroyed without shipping again, as by a crash.
struct Shipping {
  explicit Shipping(const TempDir& dir)
      : journal_dir(dir.path() / "journal"),
        db((dir.path() / "usage.db").string()),
        journal({.directory = journal_dir}),
        shipper(journal_dir, {.store_url = db}, &journal, &pending) {
    EXPECT_TRUE(shipper.ship_once());
  }
  std::filesystem::path journal_dir;
  std::string db;
  Journal journal;
  PendingRecords pending;
  Shipper shipper;
};

// Several records in one journal write: each keeps its own place in the journal, so the shipper
// ships them from memory (nothing read back), and after a crash reads back only the ones it had
// not shipped.
TEST(AppendBatch, RecordsWrittenTogetherShipFromMemoryAndReplayOnceAfterACrash) {
  TempDir dir;
  {
    Shipping before(dir);
    auto& [journal_dir, db, journal, pending, shipper] = before;
    Lines first;
    for (int i = 0; i < 4; ++i) first.add(record("b" + std::to_string(i), 10));
    ASSERT_EQ(pending.append(journal, first.text, first.ends, first.records), 0u);
    EXPECT_EQ(journal.stats().appended.load(), 4u);
    EXPECT_EQ(journal.stats().bytes.load(), first.text.size());
    EXPECT_EQ(journal.stats().writes.load(), 1u);
    auto shipped = shipper.ship_once();
    ASSERT_TRUE(shipped) << shipped.error().message;
    EXPECT_EQ(*shipped, 4u);
    EXPECT_EQ(shipper.stats().read_back.load(), 0u) << "the records' journal places must chain";
    // A one-record append after a batch chains on too.
    ASSERT_TRUE(pending.append(
        journal,
        [] {
          std::string line;
          append_record_line(line, record("single", 1));
          return line;
        }(),
        record("single", 1)));
    shipped = shipper.ship_once();
    ASSERT_TRUE(shipped);
    EXPECT_EQ(*shipped, 1u);
    EXPECT_EQ(shipper.stats().read_back.load(), 0u);
    // Then the process is killed with a batch written but not shipped.
    Lines second;
    for (int i = 0; i < 3; ++i) second.add(record("c" + std::to_string(i), 100));
    ASSERT_EQ(pending.append(journal, second.text, second.ends, second.records), 0u);
  }
  Shipping restarted(dir);  // its start-up pass read back what the crash left unshipped
  EXPECT_EQ(restarted.shipper.stats().shipped.load(), 3u);
  EXPECT_EQ(restarted.shipper.stats().duplicates.load(), 0u);
  std::int64_t tokens = 0;
  EXPECT_EQ(requests_in(restarted.db, &tokens), 8);
  EXPECT_EQ(tokens, 4 * 10 + 1 + 3 * 100);
}

// A batch the journal takes only part of (here the file-size limit cuts the write short) is
// kept in memory whole and shipped from there: no record lost, none stored twice, and the torn
// line skipped.
TEST(AppendBatch, ABatchTheJournalCutsShortIsKeptInMemoryAndShippedOnce) {
  TempDir dir;
  Shipping shipping(dir);
  auto& [journal_dir, db, journal, pending, shipper] = shipping;
  Lines lines;
  for (int i = 0; i < 3; ++i) lines.add(record("t" + std::to_string(i), 5));

  // The first line and half the second fit under the limit.
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit limit = old_limit;
  limit.rlim_cur = lines.ends[0] + (lines.ends[1] - lines.ends[0]) / 2;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  const auto lost = pending.append(journal, lines.text, lines.ends, lines.records);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(journal.stats().append_failures.load(), 3u);
  EXPECT_EQ(pending.unjournaled(), 3u);
  auto shipped = shipper.ship_once();
  ASSERT_TRUE(shipped) << shipped.error().message;
  // Shipped again (read back from the first line) or not, each record is stored once.
  EXPECT_EQ(requests_in(db), 3);
}

TEST(AppendBatch, WritesWhatWasAddedOnFlushAndTheLogClosesItWithWhatIsLeft) {
  TempDir dir;
  auto db = (dir.path() / "usage.db").string();
  std::shared_ptr<AppendBatch> batch;
  std::uint64_t last_ticket = 0;
  {
    UsageLog log({.journal = {.directory = dir.path() / "journal"},
                  .shipper = {.store_url = db, .interval = std::chrono::hours(1)}});
    batch = log.batch_of_this_thread();
    EXPECT_EQ(log.batch_of_this_thread(), batch) << "one batch per thread";
    std::shared_ptr<AppendBatch> other;
    std::thread([&] { other = log.batch_of_this_thread(); }).join();
    EXPECT_NE(other, batch);

    const auto [first, opened_first] = batch->add(made("a", 1));
    const auto [second, opened_second] = batch->add(made("b", 2));
    EXPECT_EQ(first, second) << "records added before a flush share it";
    EXPECT_FALSE(batch->written(first));
    EXPECT_EQ(batch->size(), 2u);
    EXPECT_EQ(log.journal().stats().appended.load(), 0u) << "nothing written before the flush";
    EXPECT_TRUE(opened_first);
    EXPECT_FALSE(opened_second) << "one flush is arranged per batch";

    batch->flush();
    EXPECT_TRUE(batch->written(first));
    EXPECT_EQ(batch->size(), 0u);
    EXPECT_EQ(log.journal().stats().appended.load(), 2u);
    EXPECT_EQ(log.journal().stats().writes.load(), 1u);
    batch->flush();  // an empty flush writes nothing
    EXPECT_EQ(log.journal().stats().appended.load(), 2u);

    const auto last = batch->add(made("c", 4));
    last_ticket = last.ticket;
    EXPECT_TRUE(last.opened) << "the next batch needs its own flush";
    EXPECT_GT(last_ticket, first);
    EXPECT_FALSE(batch->written(last_ticket));
    // The log shuts down with "c" still in the batch (its worker stopped before the flush).
  }
  EXPECT_TRUE(batch->written(last_ticket));
  std::int64_t tokens = 0;
  EXPECT_EQ(requests_in(db, &tokens), 3);
  EXPECT_EQ(tokens, 7);
}

// A record made in place (as AppendBatch::add makes every record) is written and shipped as
// one added whole; a fill that throws leaves the batch as it was, and the caller gets the
// exception.
TEST(AppendBatch, ARecordMadeInPlaceShipsAsOneAddedWhole) {
  TempDir dir;
  auto db = (dir.path() / "usage.db").string();
  {
    UsageLog log({.journal = {.directory = dir.path() / "journal"},
                  .shipper = {.store_url = db, .interval = std::chrono::hours(1)}});
    auto batch = log.batch_of_this_thread();
    const auto in_place = batch->add(made("m", 5));
    EXPECT_TRUE(in_place.opened);
    EXPECT_THROW(batch->add([](UsageRecord& r) {
      r.request_id = "half-made";
      throw std::runtime_error("cannot build the record");
    }),
                 std::runtime_error);
    EXPECT_EQ(batch->size(), 1u) << "the half-made record is not kept";
    const auto after = batch->add(made("n", 6));
    EXPECT_EQ(after.ticket, in_place.ticket);
    EXPECT_FALSE(after.opened);
    batch->flush();
    EXPECT_TRUE(batch->written(in_place.ticket));
    EXPECT_EQ(log.journal().stats().appended.load(), 2u);
  }
  std::int64_t tokens = 0;
  EXPECT_EQ(requests_in(db, &tokens), 2);
  EXPECT_EQ(tokens, 11);
}

}  // namespace
}  // namespace sluice::usage
