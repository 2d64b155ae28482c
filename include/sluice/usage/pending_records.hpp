#pragma once
// Records written to the journal and not yet taken by the shipper, kept in memory in journal
// order with where each one landed, so the shipper inserts them into the store without reading
// the journal back and parsing it again (shipper.hpp). The journal stays the record of truth: it
// is read back only at start-up and whenever memory does not hold everything it holds (a record
// dropped because the queue was full, a short write, a failed insert).
//
// A record the journal could not take (disk full, read-only file system, I/O error) is kept in
// memory on its own list and shipped from there: it is not durable against a crash of this
// process while the disk stays full, but it is not dropped either, so a full disk costs no usage
// records as long as the process lives and the store is reachable.
//
//   PendingRecords pending;
//   pending.append(journal, line, std::move(record));  // request path, any thread
//   pending.take(taken);                               // shipper thread
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "sluice/usage/journal.hpp"
#include "sluice/usage/usage_record.hpp"

namespace sluice::usage {

struct PendingRecord {
  UsageRecord record;
  JournalSpan span;  // where its line is in the journal
};

class PendingRecords {
 public:
  // Beyond `limit` records waiting (the store is slow; about 25 MB at the default) records stay
  // in the journal only, and the shipper reads them there.
  explicit PendingRecords(std::size_t limit = 50'000) : limit_(limit) {}

  // Appends `line` (the serialised `record`) to `journal` and keeps `record`, in the same order as
  // the journal; when the journal append fails, keeps it on the unjournaled list. Any thread.
  // False only when the record could be kept nowhere (journal failed and that list is full).
  bool append(Journal& journal, std::string_view line, UsageRecord&& record) noexcept;
  // The same for several records with one journal write: `lines` holds their lines in order,
  // record i's ending at `line_ends[i]`. Moves from `records`. Any thread. Returns how many
  // records could be kept nowhere.
  std::size_t append(Journal& journal, std::string_view lines,
                     std::span<const std::size_t> line_ends,
                     std::span<UsageRecord> records) noexcept;

  // Moves everything appended since the last take into `out` (cleared first; its capacity is
  // reused), oldest first. False when some of those records were left out (the queue was full):
  // they are in the journal only. Shipper thread.
  bool take(std::vector<PendingRecord>& out);

  // Moves the records the journal could not take into `out` (appended, oldest first). Shipper
  // thread; what it cannot insert it keeps and offers again.
  void take_unjournaled(std::vector<UsageRecord>& out);

  // Records kept only in memory because the journal failed, and those kept nowhere.
  std::uint64_t unjournaled() const { return unjournaled_.load(std::memory_order_relaxed); }
  std::uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

 private:
  std::size_t limit_;
  std::mutex mutex_;  // held across the journal append, so `records_` is in journal order
  std::vector<PendingRecord> records_;
  bool left_out_ = false;
  std::vector<UsageRecord> unjournaled_records_;
  std::atomic<std::uint64_t> unjournaled_{0};
  std::atomic<std::uint64_t> lost_{0};
};

}  // namespace sluice::usage
