#include "sluice/usage/pending_records.hpp"

#include <utility>

namespace sluice::usage {

bool PendingRecords::append(Journal& journal, std::string_view line,
                            UsageRecord&& record) noexcept {
  std::lock_guard lock(mutex_);
  JournalSpan span;
  if (!journal.append(line, &span)) return false;
  try {
    if (records_.size() < limit_) {
      records_.push_back({std::move(record), span});
      return true;
    }
  } catch (...) {  // std::bad_alloc: same as a full queue
  }
  left_out_ = true;  // in the journal; the shipper will read it there
  return true;
}

bool PendingRecords::take(std::vector<PendingRecord>& out) {
  out.clear();
  std::lock_guard lock(mutex_);
  out.swap(records_);
  return !std::exchange(left_out_, false);
}

}  // namespace sluice::usage
