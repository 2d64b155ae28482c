#include "sluice/telemetry/span_queue.hpp"

#include <algorithm>
#include <iterator>

namespace sluice::telemetry {

SpanQueue::SpanQueue(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {}

bool SpanQueue::push(EncodedSpans&& spans) {
  {
    // Under the lock, so nothing pushed after close() is left behind in a queue no one drains.
    std::lock_guard lock(mutex_);
    if (!reserve(spans.count)) return false;  // refuses, and counts, once closed
  }
  push_reserved(std::move(spans));
  return true;
}

bool SpanQueue::reserve(std::size_t count) {
  if (refusing_.load(std::memory_order_acquire)) {
    dropped_.fetch_add(count, std::memory_order_relaxed);
    return false;
  }
  if (held_.fetch_add(count, std::memory_order_relaxed) + count > capacity_) {
    held_.fetch_sub(count, std::memory_order_relaxed);
    dropped_.fetch_add(count, std::memory_order_relaxed);
    return false;
  }
  pushed_.fetch_add(count, std::memory_order_relaxed);
  return true;
}

void SpanQueue::push_reserved(EncodedSpans&& spans, std::string* spare) {
  const std::size_t count = spans.count;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    entries_.push_back(std::move(spans));
    if (spare && !spare_.empty()) {
      *spare = std::move(spare_.back());
      spare_.pop_back();
    }
    // Wake the exporter only when this push completes a batch; otherwise its interval does.
    wake = spans_ < batch_hint_ && spans_ + count >= batch_hint_;
    spans_ += count;
  }
  if (wake) ready_.notify_one();
}

std::vector<EncodedSpans> SpanQueue::take(std::size_t batch, std::chrono::milliseconds wait,
                                          bool at_least_one) {
  batch = std::max<std::size_t>(1, batch);
  std::unique_lock lock(mutex_);
  batch_hint_ = batch;
  if (wait.count() > 0) {
    ready_.wait_for(lock, wait, [&] { return closed_ || spans_ >= batch; });
  }
  std::size_t n = 0;
  std::size_t taken_spans = 0;
  while (n < entries_.size() &&
         ((n == 0 && at_least_one) || taken_spans + entries_[n].count <= batch)) {
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
  held_.fetch_sub(taken_spans, std::memory_order_relaxed);
  return out;
}

void SpanQueue::recycle(std::vector<EncodedSpans>&& sent) {
  std::lock_guard lock(mutex_);
  for (auto& entry : sent) {
    if (spare_.size() >= kMaxSpareBlocks) break;
    // Only blocks: a submitter's entry of one span is not worth keeping.
    const std::size_t room = entry.bytes.capacity();
    if (room >= kMinSpareBytes && room <= kMaxSpareBytes) spare_.push_back(std::move(entry.bytes));
  }
}

void SpanQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    refusing_.store(true, std::memory_order_release);
  }
  ready_.notify_all();
}

bool SpanQueue::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace sluice::telemetry
