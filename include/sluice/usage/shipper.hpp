#pragma once
// The shipper: a background thread that moves usage records from the journal (journal.hpp) to the
// store (store.hpp), so the request path never waits on a database.
//
// It reads each segment from where it stopped, inserts records in batches (one transaction each,
// duplicates skipped by (started_at_us, request_id)), then records how far it got in
// `<journal>/shipped.offset`. The offset is written after the commit, so a crash in between only
// replays records the store already has, which insert nothing: after `kill -9` and a restart every
// record is shipped exactly once. Sealed segments that were shipped completely are deleted.
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
};

class Shipper {
 public:
  // `journal` tells which segments are sealed; pass nullptr to ship a directory no process is
  // writing to (every segment counts as sealed). Nothing runs until start().
  Shipper(std::filesystem::path directory, ShipperSettings settings, const Journal* journal);
  // Stops the thread after one last pass when the store is reachable.
  ~Shipper();
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  void start();
  // One pass over the journal on the calling thread: returns the records newly inserted. Used by
  // the thread, by tests, and by `sluice usage ship`. Not concurrently with a started thread.
  core::Result<std::size_t> ship_once();
  // Asks the thread to run a pass now (e.g. before shutdown).
  void wake();

  const ShipperStats& stats() const noexcept { return stats_; }
  const ShipperSettings& settings() const noexcept { return settings_; }

 private:
  struct Position {
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
  };
  Position read_position() const;
  void write_position(Position position) const;
  core::Result<void> ensure_store();
  core::Result<std::size_t> flush(std::vector<UsageRecord>& batch);
  void run();

  std::filesystem::path directory_;
  ShipperSettings settings_;
  const Journal* journal_;
  std::unique_ptr<Store> store_;
  ShipperStats stats_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace sluice::usage
