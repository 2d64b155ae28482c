#include "sluice/telemetry/span_queue.hpp"

#include <algorithm>
#include <iterator>

namespace sluice::telemetry {

SpanQueue::SpanQueue(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {}

bool SpanQueue::push(EncodedSpans&& spans) {
  const std::size_t count = spans.count;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || spans_ + count > capacity_) {
      dropped_.fetch_add(count, std::memory_order_relaxed);
      return false;
    }
    entries_.push_back(std::move(spans));
    // Wake the exporter only when this push completes a batch; otherwise its interval does.
    wake = spans_ < batch_hint_ && spans_ + count >= batch_hint_;
    spans_ += count;
    size_.store(spans_, std::memory_order_relaxed);
  }
  pushed_.fetch_add(count, std::memory_order_relaxed);
  if (wake) ready_.notify_one();
  return true;
}

std::vector<EncodedSpans> SpanQueue::take(std::size_t batch, std::chrono::milliseconds wait) {
  batch = std::max<std::size_t>(1, batch);
  std::unique_lock lock(mutex_);
  batch_hint_ = batch;
  ready_.wait_for(lock, wait, [&] { return closed_ || spans_ >= batch; });
  std::size_t n = 0;
  std::size_t taken_spans = 0;
  while (n < entries_.size() && (n == 0 || taken_spans + entries_[n].count <= batch)) {
    taken_spans += entries_[n].count;
    ++n;
  }
  std::vector<EncodedSpans> out;
  if (n == entries_.size()) {
    out.swap(entries_);
  } else {
    out.assign(std::make_move_iterator(entries_.begin()),
               std::make_move_iterator(entries_.begin() + static_cast<std::ptrdiff_t>(n)));
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  spans_ -= taken_spans;
  size_.store(spans_, std::memory_order_relaxed);
  return out;
}

void SpanQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

bool SpanQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace sluice::telemetry
