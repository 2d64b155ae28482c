#pragma once
// A journal and the shipper that drains it, started and stopped together: what the usage policy
// writes records to. One per journal directory per process (the gateway shares it across reloads).
// Each record goes to the journal (durable) and to memory (pending_records.hpp), from where the
// shipper inserts it into the store without reading the journal back.
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "sluice/usage/append_batch.hpp"
#include "sluice/usage/journal.hpp"
#include "sluice/usage/pending_records.hpp"
#include "sluice/usage/shipper.hpp"
#include "sluice/usage/usage_record.hpp"

namespace sluice::usage {

struct UsageLogSettings {
  JournalSettings journal;
  ShipperSettings shipper;
};

class UsageLog {
 public:
  // Opens the journal (throws std::runtime_error naming the path) and starts shipping.
  explicit UsageLog(UsageLogSettings settings);
  // Ships what it can one last time, then closes the journal.
  ~UsageLog();

  // Serialises `record` and appends it with one write(), then keeps it for the shipper. Any
  // thread; a short lock around the write(). False when the write failed (counted in the
  // journal's stats).
  bool append(UsageRecord record) noexcept;
  // Appends the lines of several records (`records[i]`'s line ends at `line_ends[i]`) with one
  // write(), then keeps them for the shipper (what AppendBatch::flush does). Moves from
  // `records`. Any thread. False when some could be kept nowhere.
  bool append(std::string_view lines, std::span<const std::size_t> line_ends,
              std::span<UsageRecord> records) noexcept;

  // The calling thread's batch of records written together (append_batch.hpp), made on first
  // use and closed (flushed) when the log shuts down. Any thread.
  std::shared_ptr<AppendBatch> batch_of_this_thread();

  const Journal& journal() const noexcept { return journal_; }
  Shipper& shipper() noexcept { return shipper_; }
  const PendingRecords& pending() const noexcept { return pending_; }
  const UsageLogSettings& settings() const noexcept { return settings_; }

 private:
  UsageLogSettings settings_;
  const std::uint64_t id_;  // tells this log's batches from a later log's at the same address
  std::mutex batches_mutex_;
  std::vector<std::shared_ptr<AppendBatch>> batches_;
  Journal journal_;
  PendingRecords pending_;
  Shipper shipper_;  // after journal_ and pending_: stopped first
};

}  // namespace sluice::usage
