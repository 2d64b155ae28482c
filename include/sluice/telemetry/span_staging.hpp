#pragma once
// Request threads' spans, encoded in place into one block per thread and handed to the exporter's
// queue (span_queue.hpp) a block at a time. One string per request had cost the two threads ~800
// instructions a request between them: an allocation and a zero fill on the request thread, the
// queue's shared lock, a free from the other thread. A traced request now appends to its thread's
// block under a lock no other thread takes but once an interval.
//
// A block goes to the queue when it holds kHandOverBytes or `max_block_spans` spans, and the thread
// carries on in a block the exporter has sent and handed back (SpanQueue::recycle()), when there is
// one: no 32 KiB allocation and zero fill on the request thread, no free from the exporter's. The
// exporter collects blocks that are not full yet at every interval (collect()), so a quiet thread's
// spans wait no longer than they waited in the queue. Spans count against the queue's bound when
// they are written, not when their block moves: a full queue drops them (counted) at once, and a
// span is always either pushed or dropped in the queue's counters.
//
// Threads: begin() and its Write from request threads; collect() from the exporter's thread and
// from whoever destroys the exporter.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "sluice/telemetry/span_encoder.hpp"
#include "sluice/telemetry/span_queue.hpp"

namespace sluice::telemetry {

class SpanStaging {
  struct Slot;

 public:
  // A block's room, and the size at which it is handed over (a gateway request's two spans take
  // ~1.2 KiB, so a block carries ~20 requests and rarely has to grow).
  static constexpr std::size_t kBlockBytes = 32 * 1024;
  static constexpr std::size_t kHandOverBytes = 28 * 1024;

  SpanStaging(SpanQueue& queue, std::size_t max_block_spans);
  SpanStaging(const SpanStaging&) = delete;
  SpanStaging& operator=(const SpanStaging&) = delete;

  // One request's spans, written into the calling thread's block while this holds its lock.
  class Write {
   public:
    Write(Write&&) noexcept = default;
    Write& operator=(Write&&) = delete;
    // Rolls back whatever was written but not committed.
    ~Write();

    SpanEncoder& encoder() noexcept;
    // Counts the spans written against the queue's bound, or takes them back and counts them as
    // dropped (queue full, or the exporter is shutting down); hands the block over when full.
    void commit();

   private:
    friend class SpanStaging;
    Write(SpanStaging& staging, Slot& slot);
    SpanStaging* staging_;
    Slot* slot_;
    std::unique_lock<std::mutex> lock_;
    SpanEncoder::Mark mark_;
  };

  Write begin();

  // Moves every block that holds spans into the queue. With `close`, the staging takes nothing
  // more: spans written after are dropped and counted.
  void collect(bool close = false);

 private:
  Slot& slot_of_this_thread();
  void hand_over(Slot& slot);

  SpanQueue& queue_;
  const std::size_t max_block_spans_;
  // Unique for the process's life, so a thread never takes a later staging's slot for this one's.
  const std::uint64_t id_;
  std::mutex slots_mutex_;
  std::vector<std::shared_ptr<Slot>> slots_;  // every thread's, under slots_mutex_
  bool closed_ = false;                       // under slots_mutex_
};

}  // namespace sluice::telemetry
