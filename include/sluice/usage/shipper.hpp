#pragma once
// The shipper: a background thread that moves usage records to the store (store.hpp), so the
// request path never waits on a database.
//
// In a running gateway the records come from memory (pending_records.hpp): each was written to
// the journal (journal.hpp) first, and memory says where, so nothing is read back or parsed twice.
// The journal is read back (each segment from where shipping stopped) at start-up, which ships
// what a crashed or stopped process left, and whenever memory does not hold every record the
// journal does (records dropped from a full queue, a short write, a failed insert). Records are
// inserted in batches (one transaction each, duplicates skipped by (started_at_us, request_id)),
// then how far shipping got is recorded in `<journal>/shipped.offset`. The offset is written after
// the commit, so a crash in between only replays records the store already has, which insert
// nothing: after `kill -9` and a restart every record is shipped exactly once. Sealed segments
// that were shipped completely are deleted.
//
// When the store is down, records wait in the journal (bounded only by disk): the shipper retries
// with a backoff up to `max_backoff`, logs a warning when the store goes away and when it comes
// back, and exposes the backlog in its stats (sluice_usage_store_up, sluice_usage_journal_backlog_
// bytes on /metrics). Lines that are not records (torn by a crash, or damaged) are skipped and
// counted.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sluice/core/result.hpp"
#include "sluice/usage/journal.hpp"
#include "sluice/usage/pending_records.hpp"
#include "sluice/usage/store.hpp"

namespace sluice::usage {

struct ShipperSettings {
  std::string store_url;
  std::chrono::milliseconds interval{200};
  std::size_t batch_records = 2000;
  std::chrono::milliseconds max_backoff{5000};
};

struct ShipperStats {
  std::atomic<std::uint64_t> shipped{0};        // records newly inserted into the store
  std::atomic<std::uint64_t> duplicates{0};     // records the store already had (replays)
  std::atomic<std::uint64_t> corrupt_lines{0};  // journal lines that were not records
  std::atomic<std::uint64_t> store_errors{0};   // failed connects or inserts
  std::atomic<bool> store_up{false};            // the last attempt reached the store
  std::atomic<std::uint64_t> backlog_bytes{0};  // journal bytes not yet shipped
  std::atomic<std::uint64_t> read_back{0};      // records read back from journal files
};

class Shipper {
 public:
  // `journal` tells which segments are sealed; pass nullptr to ship a directory no process is
  // writing to (every segment counts as sealed). `pending`, when given, holds the records
  // `journal` received (in its order), shipped from there after the first pass. Nothing runs
  // until start().
  Shipper(std::filesystem::path directory, ShipperSettings settings, const Journal* journal,
          PendingRecords* pending = nullptr);
  // Stops the thread after one last pass when the store is reachable.
  ~Shipper();
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  void start();
  // One pass on the calling thread (over the pending records, or the journal files when those
  // are not enough): returns the records newly inserted. Used by the thread, by tests, and by
  // `sluice usage ship`. Not concurrently with a started thread.
  core::Result<std::size_t> ship_once();
  // Asks the thread to run a pass now (e.g. before shutdown).
  void wake();

  const ShipperStats& stats() const noexcept { return stats_; }
  const ShipperSettings& settings() const noexcept { return settings_; }

 private:
  JournalPosition read_position() const;
  void write_position(JournalPosition position);
  core::Result<void> ensure_store();
  core::Result<std::size_t> flush(std::vector<UsageRecord>& batch);
  core::Result<std::size_t> ship_journal_files();
  core::Result<std::size_t> ship_pending();
  core::Result<std::size_t> ship_unjournaled();
  void remove_shipped_segments();
  void run();

  std::filesystem::path directory_;
  ShipperSettings settings_;
  const Journal* journal_;
  PendingRecords* pending_;
  bool journal_pass_due_ = true;  // the journal may hold records memory does not
  JournalPosition position_;      // what shipped.offset says, once a journal pass has read it
  std::uint64_t removed_below_ = 0;
  std::vector<PendingRecord> taken_;
  std::vector<UsageRecord> batch_;
  std::vector<UsageRecord> unjournaled_;  // taken from memory, not yet inserted (journal failed)
  std::unique_ptr<Store> store_;
  ShipperStats stats_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace sluice::usage
