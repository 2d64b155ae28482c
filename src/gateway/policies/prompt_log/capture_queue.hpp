#pragma once
// The bounded hand-off between request workers and the prompt log's writer thread. Bounded by
// entries and by bytes; when either bound is reached the new entry is dropped and counted, so a
// slow disk or store costs log entries, never request latency.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "gateway/policies/prompt_log/prompt_log_record.hpp"

namespace sluice::gateway {

class CaptureQueue {
 public:
  CaptureQueue(std::size_t max_entries, std::uint64_t max_bytes);

  // Whether an entry of `bytes` would fit now (a cheap check before copying a large body; push()
  // decides). Any thread.
  bool has_room(std::size_t bytes) const noexcept;
  // Appends `capture`, or drops it (counted in dropped()) when the queue is full or closed. Never
  // waits for the consumer: the lock is held only to append (the consumer takes whole batches by
  // swapping). Any thread.
  bool push(PromptLogCapture&& capture);
  // Counts an entry the caller dropped itself after has_room() said no.
  void count_drop() noexcept { dropped_.fetch_add(1, std::memory_order_relaxed); }

  // Waits up to `timeout` for entries (or close()), then takes everything queued. Consumer only.
  std::vector<PromptLogCapture> take(std::chrono::milliseconds timeout);
  // Refuses further pushes and wakes the consumer.
  void close();
  bool closed() const;

  std::uint64_t pushed() const noexcept { return pushed_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

 private:
  const std::size_t max_entries_;
  const std::uint64_t max_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<PromptLogCapture> entries_;
  std::uint64_t bytes_ = 0;
  bool closed_ = false;
  std::atomic<std::size_t> size_{0};
  std::atomic<std::uint64_t> bytes_approx_{0};
  std::atomic<std::uint64_t> pushed_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace sluice::gateway
