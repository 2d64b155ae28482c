#pragma once
// The bounded hand-off between request threads and the exporter's thread. Entries are spans
// already encoded (span_encoder.hpp): a request thread's block of them (span_staging.hpp) or one
// submitter's. The bound and every count are in spans, and the bound covers spans still staged in
// request threads' blocks as well as queued ones: they are counted against it (reserve()) when
// they are written. A full queue drops the new spans and counts them: a slow or dead collector
// costs spans, never request latency or memory.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/telemetry/span_encoder.hpp"

namespace sluice::telemetry {

class SpanQueue {
 public:
  explicit SpanQueue(std::size_t capacity);

  // Appends `spans`, or drops them (counted in dropped()) when they would take the queue beyond
  // `capacity` spans, or it is closed. The lock is held only to append. Any thread.
  bool push(EncodedSpans&& spans);
  // Counts `count` spans against the bound, without a lock: true, and they are counted in
  // pushed(), when they fit; false, and they are counted in dropped(), when they would pass it or
  // the queue is closed. Spans reserved are appended later with push_reserved(). Any thread.
  bool reserve(std::size_t count);
  // Appends spans already reserved; never drops. With `spare`, also hands back, under the same
  // lock, a block the exporter has finished with (recycle()), or an empty string when none is
  // kept. Any thread.
  void push_reserved(EncodedSpans&& spans, std::string* spare = nullptr);
  // Keeps the bytes of sent entries (up to kMaxSpareBlocks) for push_reserved() to hand back: a
  // request thread's next block then needs no allocation of 32 KiB, no zero fill of it, and no
  // free of the old one from the exporter's thread. Consumer only.
  void recycle(std::vector<EncodedSpans>&& sent);
  // A block is kept when its room is 16-128 KiB: a thread's block (32 KiB) or one grown a little
  // by a long attribute. One grown further is freed. Thirty-two cover a default export of 1,024
  // spans (~600 KB, ~20 blocks), all of which come back after it is sent: with eight kept, two
  // blocks in three were allocated and zero-filled anew. The spares hold ~1 MiB, at most 4 MiB.
  static constexpr std::size_t kMaxSpareBlocks = 32;
  static constexpr std::size_t kMinSpareBytes = 16 * 1024;
  static constexpr std::size_t kMaxSpareBytes = 128 * 1024;
  // Counts spans lost before they reached the queue (written while it was shutting down).
  void count_dropped(std::size_t count) noexcept {
    dropped_.fetch_add(count, std::memory_order_relaxed);
  }
  // Waits until `batch` spans are queued, `wait` has passed or close() was called, then takes
  // entries (oldest first) holding up to `batch` spans in all, and at least one entry when any is
  // queued and `at_least_one`. Consumer only.
  std::vector<EncodedSpans> take(std::size_t batch, std::chrono::milliseconds wait,
                                 bool at_least_one = true);
  // Refuses further pushes and wakes the consumer; what is queued stays takeable.
  void close();
  bool closed() const;

  std::size_t capacity() const noexcept { return capacity_; }
  // Spans held (reserved: staged or queued), pushed and dropped.
  std::size_t size() const noexcept { return held_.load(std::memory_order_relaxed); }
  std::uint64_t pushed() const noexcept { return pushed_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<EncodedSpans> entries_;
  std::vector<std::string> spare_;  // recycled blocks, under mutex_
  std::size_t spans_ = 0;           // in entries_
  std::size_t batch_hint_ = 1;      // the consumer's batch size: push wakes it when one is ready
  bool closed_ = false;
  std::atomic<bool> refusing_{false};  // closed_, for reserve(), which takes no lock
  std::atomic<std::size_t> held_{0};   // reserved and not yet taken: what the bound applies to
  std::atomic<std::uint64_t> pushed_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace sluice::telemetry
