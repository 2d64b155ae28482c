#include "gateway/policies/cache/semantic_index.hpp"

// Under AddressSanitizer, hnswlib's scalar code: its SSE search prefetches one link past the end of
// a node's link list (`*(datal + j + 1)` at the last j; upstream nmslib/hnswlib#578), a read ASan
// rightly reports though it only feeds a prefetch hint. Release builds keep the SIMD path.
#if defined(__SANITIZE_ADDRESS__)
#define NO_MANUAL_VECTORIZATION
#endif
#include <hnswlib/hnswlib.h>

#include <vector>

namespace sluice::gateway::cache {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
// hnswlib's defaults for good recall: 16 links per node (32 on the base layer), 100 candidates
// while linking, 64 while searching. At the thresholds a cache uses (0.8 and up) the nearest
// neighbour is found essentially always.
constexpr std::size_t kLinks = 16;
constexpr std::size_t kEfConstruction = 100;
constexpr std::size_t kEfSearch = 64;
// A partition's graph starts this small and doubles: most partitions (one conversation's
// history) hold a few entries.
constexpr std::size_t kInitialCapacity = 4;
// The age-list node, the entry's hash node and the answer's control block, roughly.
constexpr std::uint64_t kEntryOverhead = 160;
}  // namespace

struct SemanticIndex::Partition {
  Partition(std::string name, std::size_t dimensions)
      : name(std::move(name)),
        dimensions(dimensions),
        space(dimensions),
        graph(&space, kInitialCapacity, kLinks, kEfConstruction) {
    graph.setEf(kEfSearch);
  }

  std::string name;
  std::size_t dimensions;
  hnswlib::InnerProductSpace space;
  hnswlib::HierarchicalNSW<float> graph;
  std::size_t capacity = kInitialCapacity;
  std::size_t next_label = 0;
  std::vector<std::size_t> free_labels;            // slots of removed entries, reused first
  std::unordered_map<std::size_t, Entry> entries;  // live entries by label
};

SemanticIndex::SemanticIndex(std::size_t max_entries, std::uint64_t max_bytes, CacheStats& stats)
    : max_entries_(max_entries), max_bytes_(max_bytes), stats_(stats) {}

SemanticIndex::~SemanticIndex() {
  stats_.semantic_bytes.fetch_sub(static_cast<std::int64_t>(bytes_), kRelaxed);
  stats_.semantic_entries.fetch_sub(static_cast<std::int64_t>(entries_), kRelaxed);
}

std::uint64_t SemanticIndex::charge(std::size_t dimensions, const CachedAnswer& answer) {
  // hnswlib's base layer per element: the vector, 2 * kLinks links and their count, the label;
  // upper layers add kLinks links for about one element in kLinks.
  const std::uint64_t graph = dimensions * sizeof(float) + (2 * kLinks + 1) * 4 + 8 + 8 + 8;
  return graph + answer.body.size() + answer.model.size() + kEntryOverhead;
}

std::optional<SemanticMatch> SemanticIndex::find(const std::string& partition,
                                                 std::span<const float> vector, double threshold,
                                                 Time now) {
  std::lock_guard lock(mutex_);
  // An expired nearest entry is removed and the search runs again, a few times at most.
  for (int round = 0; round < 4; ++round) {
    auto it = partitions_.find(partition);
    if (it == partitions_.end()) return std::nullopt;
    auto& part = *it->second;
    if (vector.size() != part.dimensions || part.entries.empty()) return std::nullopt;
    auto nearest = part.graph.searchKnn(vector.data(), 1);
    if (nearest.empty()) return std::nullopt;
    auto [distance, label] = nearest.top();
    auto entry = part.entries.find(label);
    if (entry == part.entries.end()) return std::nullopt;
    if (entry->second.expires_at <= now) {
      remove(part, label, true);
      continue;
    }
    const double similarity = 1.0 - static_cast<double>(distance);  // inner product distance
    if (similarity < threshold) return std::nullopt;
    return SemanticMatch{entry->second.answer, similarity};
  }
  return std::nullopt;
}

bool SemanticIndex::insert(const std::string& partition, std::span<const float> vector,
                           std::shared_ptr<const CachedAnswer> answer, Time expires_at) {
  if (vector.empty()) return false;
  const auto bytes = charge(vector.size(), *answer);
  if (bytes > max_bytes_ || max_entries_ == 0) return false;
  std::lock_guard lock(mutex_);
  if (auto it = partitions_.find(partition);
      it != partitions_.end() && it->second->dimensions != vector.size()) {
    return false;
  }
  const auto now = answer->stored_at;
  while (!oldest_first_.empty() &&
         (entries_ + 1 > max_entries_ || bytes_ + bytes > max_bytes_ ||
          oldest_first_.front().partition->entries.at(oldest_first_.front().label).expires_at <=
              now)) {
    remove_oldest(now);
  }
  auto& slot = partitions_[partition];
  if (!slot) slot = std::make_unique<Partition>(partition, vector.size());
  auto& part = *slot;
  std::size_t label;
  if (!part.free_labels.empty()) {
    label = part.free_labels.back();
    part.free_labels.pop_back();
  } else {
    if (part.next_label == part.capacity) {
      part.capacity *= 2;
      part.graph.resizeIndex(part.capacity);
    }
    label = part.next_label++;
  }
  // A reused label's slot is marked deleted: hnswlib revives and relinks it.
  part.graph.addPoint(vector.data(), label);
  oldest_first_.push_back(Age{&part, label});
  part.entries.emplace(label,
                       Entry{std::move(answer), expires_at, bytes, std::prev(oldest_first_.end())});
  ++entries_;
  bytes_ += bytes;
  stats_.semantic_entries.fetch_add(1, kRelaxed);
  stats_.semantic_bytes.fetch_add(static_cast<std::int64_t>(bytes), kRelaxed);
  return true;
}

void SemanticIndex::remove_oldest(Time now) {
  auto& oldest = oldest_first_.front();
  auto& part = *oldest.partition;
  const bool expired = part.entries.at(oldest.label).expires_at <= now;
  remove(part, oldest.label, expired);
}

void SemanticIndex::remove(Partition& part, std::size_t label, bool expired) {
  auto entry = part.entries.find(label);
  bytes_ -= entry->second.bytes;
  --entries_;
  stats_.semantic_bytes.fetch_sub(static_cast<std::int64_t>(entry->second.bytes), kRelaxed);
  stats_.semantic_entries.fetch_sub(1, kRelaxed);
  (expired ? stats_.semantic_expirations : stats_.semantic_evictions).fetch_add(1, kRelaxed);
  oldest_first_.erase(entry->second.age);
  part.entries.erase(entry);
  if (part.entries.empty()) {
    partitions_.erase(part.name);  // frees the graph; `part` is gone
    return;
  }
  part.graph.markDelete(label);
  part.free_labels.push_back(label);
}

std::size_t SemanticIndex::size() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

std::uint64_t SemanticIndex::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace sluice::gateway::cache
