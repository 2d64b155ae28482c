#pragma once
// Usage records added on one thread and written to the journal together, with one write(): the
// records of the responses that one turn of a gateway worker's event loop completes
// (gateway/policies/usage/usage_policy.hpp). The write() per record was a third of what
// accounting cost a request (docs/performance.md): each append that grows an ext4 file dirties
// its inode.
//
// Each record added gets a ticket, and written(ticket) turns true once a flush() has written it
// (or, when the journal failed, kept it in memory as UsageLog::append does). The caller whose
// record opened the batch arranges its flush; every caller holds its response until its record is
// written, so records stay durable before the response completes. The gateway posts the flush to
// the worker's event loop, behind the handlers already ready, whose responses join the batch:
//
//   auto [ticket, opened] = batch.add([&](UsageRecord& record) { /* fill it in */ });
//   if (opened) post(executor, [batch] { batch->flush(); });
//   while (!batch.written(ticket)) co_await post(executor);   // then send the response
//
// One thread adds and flushes; the lock is for the log's shutdown (UsageLog's destructor), which
// flushes what is left from its own thread.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/usage/usage_record.hpp"

namespace sluice::usage {

class UsageLog;

class AppendBatch {
 public:
  explicit AppendBatch(UsageLog& log) : log_(&log) {}
  AppendBatch(const AppendBatch&) = delete;
  AppendBatch& operator=(const AppendBatch&) = delete;

  struct Added {
    std::uint64_t ticket = 0;
    bool opened = false;  // the first record since the last flush: the caller arranges the next
  };
  // Adds to the next flush the record `fill(record)` writes into a new record made where the
  // batch keeps it (built elsewhere and moved in, a record's fifteen strings were moved twice,
  // ~430 instructions a move). An exception from `fill` (or from making room) leaves the batch
  // as it was and propagates. A record whose line cannot be built (out of memory) is appended at
  // once instead (ticket 0: written).
  template <class Fill>
  Added add(Fill&& fill);
  // Writes every record added since the last flush with one journal write.
  void flush() noexcept;
  bool written(std::uint64_t ticket) const noexcept {
    return ticket <= written_.load(std::memory_order_acquire);
  }
  // Records added and not yet flushed.
  std::size_t size() const;

  // The log is shutting down: flushes what is left; a later add() keeps nothing (see add()).
  void close() noexcept;

 private:
  void flush_locked() noexcept;
  // The line of the record last added to records_, and its ticket; without memory for the line,
  // the record is appended alone instead.
  Added add_line_locked(bool opened) noexcept;

  mutable std::mutex mutex_;
  UsageLog* log_;  // null once closed
  std::string lines_;
  std::vector<std::size_t> line_ends_;  // where each record's line ends in `lines_`
  std::vector<UsageRecord> records_;
  std::uint64_t open_ticket_ = 1;  // the ticket of the records being added now
  std::atomic<std::uint64_t> written_{0};
};

template <class Fill>
AppendBatch::Added AppendBatch::add(Fill&& fill) {
  std::lock_guard lock(mutex_);
  if (log_ == nullptr) [[unlikely]] {
    // Closed, so the log is gone: unreachable, since a policy that adds records holds its log
    // and UsageLog::batch_of_this_thread() never hands out a closed batch. Nowhere to put it.
    return {};  // ticket 0: written at once
  }
  const bool opened = records_.empty();
  UsageRecord& record = records_.emplace_back();
  try {
    fill(record);
  } catch (...) {
    records_.pop_back();
    throw;
  }
  return add_line_locked(opened);
}

}  // namespace sluice::usage
