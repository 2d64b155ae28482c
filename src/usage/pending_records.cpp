#include "sluice/usage/pending_records.hpp"

#include <utility>

namespace sluice::usage {

bool PendingRecords::append(Journal& journal, std::string_view line,
                            UsageRecord&& record) noexcept {
  const std::size_t line_end = line.size();
  return append(journal, line, std::span(&line_end, 1), std::span(&record, 1)) == 0;
}

std::size_t PendingRecords::append(Journal& journal, std::string_view lines,
                                   std::span<const std::size_t> line_ends,
                                   std::span<UsageRecord> records) noexcept {
  std::lock_guard lock(mutex_);
  JournalSpan span;
  std::size_t lost = 0;
  if (!journal.append(lines, &span, records.size())) {
    // These copies are the records. A torn line is skipped by every journal reader; whole lines
    // before the tear did land, and the shipper may read them back too: the store ignores a
    // request id it already has.
    for (auto& record : records) {
      try {
        if (unjournaled_records_.size() < limit_) {
          unjournaled_records_.push_back(std::move(record));
          unjournaled_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
      } catch (...) {  // std::bad_alloc: kept nowhere
      }
      ++lost;
    }
    lost_.fetch_add(lost, std::memory_order_relaxed);
    return lost;
  }
  // Where each record's line landed: one after the other, ending where the write ended.
  const std::uint64_t first = span.end.offset - lines.size();
  JournalPosition previous = span.previous;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const JournalPosition end{span.end.segment, first + line_ends[i]};
    try {
      if (records_.size() < limit_) {
        records_.emplace_back(std::move(records[i]), JournalSpan{previous, end});  // one move
      } else {
        left_out_ = true;  // in the journal; the shipper will read it there
      }
    } catch (...) {  // std::bad_alloc: same as a full queue
      left_out_ = true;
    }
    previous = end;
  }
  return 0;
}

bool PendingRecords::take(std::vector<PendingRecord>& out) {
  out.clear();
  std::lock_guard lock(mutex_);
  out.swap(records_);
  return !std::exchange(left_out_, false);
}

void PendingRecords::take_unjournaled(std::vector<UsageRecord>& out) {
  std::lock_guard lock(mutex_);
  if (out.empty()) {
    out.swap(unjournaled_records_);
    return;
  }
  for (auto& record : unjournaled_records_) out.push_back(std::move(record));
  unjournaled_records_.clear();
}

}  // namespace sluice::usage
