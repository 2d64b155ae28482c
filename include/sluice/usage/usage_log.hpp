#pragma once
// A journal and the shipper that drains it, started and stopped together: what the usage policy
// writes records to. One per journal directory per process (the gateway shares it across reloads).
// Each record goes to the journal (durable) and to memory (pending_records.hpp), from where the
// shipper inserts it into the store without reading the journal back.
#include <string>

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

  const Journal& journal() const noexcept { return journal_; }
  Shipper& shipper() noexcept { return shipper_; }
  const PendingRecords& pending() const noexcept { return pending_; }
  const UsageLogSettings& settings() const noexcept { return settings_; }

 private:
  UsageLogSettings settings_;
  Journal journal_;
  PendingRecords pending_;
  Shipper shipper_;  // after journal_ and pending_: stopped first
};

}  // namespace sluice::usage
