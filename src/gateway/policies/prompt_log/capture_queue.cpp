#include "gateway/policies/prompt_log/capture_queue.hpp"

namespace sluice::gateway {

CaptureQueue::CaptureQueue(std::size_t max_entries, std::uint64_t max_bytes)
    : max_entries_(max_entries), max_bytes_(max_bytes) {}

bool CaptureQueue::has_room(std::size_t bytes) const noexcept {
  return size_.load(std::memory_order_relaxed) < max_entries_ &&
         bytes_approx_.load(std::memory_order_relaxed) + bytes <= max_bytes_;
}

bool CaptureQueue::push(PromptLogCapture&& capture) {
  auto bytes = capture.bytes();
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || entries_.size() >= max_entries_ || bytes_ + bytes > max_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    was_empty = entries_.empty();
    entries_.push_back(std::move(capture));
    bytes_ += bytes;
    size_.store(entries_.size(), std::memory_order_relaxed);
    bytes_approx_.store(bytes_, std::memory_order_relaxed);
  }
  pushed_.fetch_add(1, std::memory_order_relaxed);
  // The consumer sleeps only on an empty queue, so only the first entry needs to wake it.
  if (was_empty) ready_.notify_one();
  return true;
}

std::vector<PromptLogCapture> CaptureQueue::take(std::chrono::milliseconds timeout) {
  std::vector<PromptLogCapture> batch;
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return closed_ || !entries_.empty(); });
  batch.swap(entries_);
  bytes_ = 0;
  size_.store(0, std::memory_order_relaxed);
  bytes_approx_.store(0, std::memory_order_relaxed);
  return batch;
}

void CaptureQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

bool CaptureQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace sluice::gateway
