#include "sluice/usage/append_batch.hpp"

#include "sluice/usage/usage_log.hpp"

namespace sluice::usage {

AppendBatch::Added AppendBatch::add_line_locked(bool opened) noexcept {
  const std::size_t size_before = lines_.size();
  try {
    append_record_line(lines_, records_.back());
    line_ends_.push_back(lines_.size());
  } catch (...) {  // std::bad_alloc: undo, and append on its own (which counts the failure)
    lines_.resize(size_before);  // line_ends_ has no entry for it yet
    UsageRecord record = std::move(records_.back());
    records_.pop_back();
    log_->append(std::move(record));
    return {};
  }
  return {open_ticket_, opened};
}

void AppendBatch::flush() noexcept {
  std::lock_guard lock(mutex_);
  flush_locked();
}

void AppendBatch::flush_locked() noexcept {
  if (!records_.empty() && log_ != nullptr) {
    log_->append(lines_, line_ends_, records_);
    lines_.clear();
    line_ends_.clear();
    records_.clear();
  }
  written_.store(open_ticket_, std::memory_order_release);
  ++open_ticket_;
}

std::size_t AppendBatch::size() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

void AppendBatch::close() noexcept {
  std::lock_guard lock(mutex_);
  flush_locked();
  log_ = nullptr;
}

}  // namespace sluice::usage
