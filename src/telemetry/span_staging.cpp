#include "sluice/telemetry/span_staging.hpp"

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>

namespace sluice::telemetry {

// A thread's block. Its lock is uncontended but for the exporter's collect() once an interval.
struct SpanStaging::Slot {
  std::mutex mutex;
  SpanEncoder encoder{kBlockBytes};
  bool closed = false;  // the staging is shutting down: spans written now are dropped
};

namespace {

std::atomic<std::uint64_t> next_staging_id{1};

}  // namespace

SpanStaging::SpanStaging(SpanQueue& queue, std::size_t max_block_spans)
    : queue_(queue),
      max_block_spans_(std::max<std::size_t>(1, max_block_spans)),
      id_(next_staging_id.fetch_add(1, std::memory_order_relaxed)) {}

SpanStaging::Slot& SpanStaging::slot_of_this_thread() {
  // The calling thread's slots, one per staging it has written to (nearly always one). A slot
  // stays alive while either its thread or its staging holds it.
  struct Entry {
    std::uint64_t staging_id;
    std::shared_ptr<Slot> slot;
  };
  thread_local std::vector<Entry> mine;
  for (const auto& entry : mine) {
    if (entry.staging_id == id_) return *entry.slot;
  }
  // First span of this thread for this staging. Slots of stagings that have shut down go now.
  std::erase_if(mine, [](const auto& entry) {
    std::lock_guard lock(entry.slot->mutex);
    return entry.slot->closed;
  });
  auto slot = std::make_shared<Slot>();
  {
    std::lock_guard lock(slots_mutex_);
    slot->closed = closed_;
    slots_.push_back(slot);
  }
  mine.push_back({id_, slot});
  return *slot;
}

SpanStaging::Write SpanStaging::begin() {
  return Write(*this, slot_of_this_thread());
}

SpanStaging::Write::Write(SpanStaging& staging, Slot& slot)
    : staging_(&staging), slot_(&slot), lock_(slot.mutex), mark_(slot.encoder.mark()) {}

SpanStaging::Write::~Write() {
  if (lock_.owns_lock()) slot_->encoder.roll_back(mark_);
}

SpanEncoder& SpanStaging::Write::encoder() noexcept {
  return slot_->encoder;
}

void SpanStaging::Write::commit() {
  auto& encoder = slot_->encoder;
  const std::size_t written = encoder.count() - mark_.count;
  if (slot_->closed) {
    encoder.roll_back(mark_);
    if (written > 0) staging_->queue_.count_dropped(written);
  } else if (written > 0 && !staging_->queue_.reserve(written)) {
    encoder.roll_back(mark_);  // reserve() counted them as dropped
  } else if (encoder.size() >= kHandOverBytes || encoder.count() >= staging_->max_block_spans_) {
    staging_->hand_over(*slot_);
  }
  mark_ = encoder.mark();
  lock_.unlock();
}

// The slot's lock is held.
void SpanStaging::hand_over(Slot& slot) {
  if (slot.encoder.count() == 0) return;
  std::string spare;
  queue_.push_reserved(slot.encoder.take(), &spare);
  slot.encoder = SpanEncoder(std::move(spare), kBlockBytes);
}

void SpanStaging::collect(bool close) {
  std::vector<std::shared_ptr<Slot>> slots;
  {
    std::lock_guard lock(slots_mutex_);
    if (close) closed_ = true;
    slots = slots_;
    if (close) slots_.clear();
  }
  for (const auto& slot : slots) {
    std::lock_guard lock(slot->mutex);
    hand_over(*slot);
    if (close) {
      slot->closed = true;
      // Its thread may keep the slot until it next writes spans anywhere: not the block, though.
      slot->encoder = SpanEncoder(0);
    }
  }
}

}  // namespace sluice::telemetry
