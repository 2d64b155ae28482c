#include "sluice/usage/usage_log.hpp"

#include <atomic>

namespace sluice::usage {

namespace {

std::atomic<std::uint64_t> next_log_id{1};

}  // namespace

UsageLog::UsageLog(UsageLogSettings settings)
    : settings_(std::move(settings)),
      id_(next_log_id.fetch_add(1, std::memory_order_relaxed)),
      journal_(settings_.journal),
      shipper_(settings_.journal.directory, settings_.shipper, &journal_, &pending_) {
  shipper_.start();
}

UsageLog::~UsageLog() {
  // Records still in a batch belong to responses that never went out (their worker stopped
  // before the flush ran); written now, the shipper's last pass takes them.
  std::lock_guard lock(batches_mutex_);
  for (const auto& batch : batches_) batch->close();
}

std::shared_ptr<AppendBatch> UsageLog::batch_of_this_thread() {
  struct Entry {
    std::uint64_t log_id;
    std::shared_ptr<AppendBatch> batch;
  };
  thread_local std::vector<Entry> mine;
  for (const auto& entry : mine) {
    if (entry.log_id == id_) return entry.batch;
  }
  // This thread's first record for this log: batches of logs that have closed go now.
  std::erase_if(mine, [](const Entry& entry) { return entry.batch.use_count() == 1; });
  auto batch = std::make_shared<AppendBatch>(*this);
  {
    std::lock_guard lock(batches_mutex_);
    batches_.push_back(batch);
  }
  mine.push_back({id_, batch});
  return batch;
}

bool UsageLog::append(std::string_view lines, std::span<const std::size_t> line_ends,
                      std::span<UsageRecord> records) noexcept {
  return pending_.append(journal_, lines, line_ends, records) == 0;
}

bool UsageLog::append(UsageRecord record) noexcept {
  thread_local std::string line;
  try {
    line.clear();
    append_record_line(line, record);
  } catch (...) {  // std::bad_alloc: the record cannot be built, count it as a failed append
    return journal_.append(std::string_view());
  }
  return pending_.append(journal_, line, std::move(record));
}

}  // namespace sluice::usage
