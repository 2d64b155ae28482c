#pragma once
// The bounded hand-off between request threads and the exporter's thread. Entries are a request's
// spans, already encoded (span_encoder.hpp); the bound and every count are in spans. A full queue
// drops the new entry and counts its spans: a slow or dead collector costs spans, never request
// latency or memory.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "sluice/telemetry/span_encoder.hpp"

namespace sluice::telemetry {

class SpanQueue {
 public:
  explicit SpanQueue(std::size_t capacity);

  // Appends `spans`, or drops them (counted in dropped()) when they would take the queue beyond
  // `capacity` spans, or it is closed. The lock is held only to append. Any thread.
  bool push(EncodedSpans&& spans);
  // Waits until `batch` spans are queued, `wait` has passed or close() was called, then takes
  // entries (oldest first) holding up to `batch` spans in all, and at least one entry when any is
  // queued. Consumer only.
  std::vector<EncodedSpans> take(std::size_t batch, std::chrono::milliseconds wait);
  // Refuses further pushes and wakes the consumer; what is queued stays takeable.
  void close();
  bool closed() const;

  std::size_t capacity() const noexcept { return capacity_; }
  // Spans queued, pushed and dropped.
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  std::uint64_t pushed() const noexcept { return pushed_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<EncodedSpans> entries_;
  std::size_t spans_ = 0;       // in entries_
  std::size_t batch_hint_ = 1;  // the consumer's batch size: push wakes it when one is ready
  bool closed_ = false;
  std::atomic<std::size_t> size_{0};
  std::atomic<std::uint64_t> pushed_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace sluice::telemetry
