#include "sluice/telemetry/span_queue.hpp"

#include <algorithm>
#include <iterator>

namespace sluice::telemetry {

SpanQueue::SpanQueue(std::size_t capacity) : capacity_(std::max<std::size_t>(1, capacity)) {}

bool SpanQueue::push(Span&& span) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_ || spans_.size() >= capacity_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    spans_.push_back(std::move(span));
    size_.store(spans_.size(), std::memory_order_relaxed);
    // Wake the exporter only when a whole batch is ready; otherwise its interval does.
    wake = spans_.size() == batch_hint_;
  }
  pushed_.fetch_add(1, std::memory_order_relaxed);
  if (wake) ready_.notify_one();
  return true;
}

std::vector<Span> SpanQueue::take(std::size_t batch, std::chrono::milliseconds wait) {
  batch = std::max<std::size_t>(1, batch);
  std::unique_lock lock(mutex_);
  batch_hint_ = batch;
  ready_.wait_for(lock, wait, [&] { return closed_ || spans_.size() >= batch; });
  std::vector<Span> out;
  std::size_t n = std::min(batch, spans_.size());
  if (n == spans_.size()) {
    out.swap(spans_);
  } else {
    out.assign(std::make_move_iterator(spans_.begin()),
               std::make_move_iterator(spans_.begin() + static_cast<std::ptrdiff_t>(n)));
    spans_.erase(spans_.begin(), spans_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  size_.store(spans_.size(), std::memory_order_relaxed);
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
