#include "sluice/usage/metric_registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace sluice::usage {

namespace {

constexpr std::size_t kChunkSeries = 64;
constexpr char kSeparator = '\x1f';

std::atomic<std::uint64_t> next_uid{1};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

void append_number(std::string& out, double value) {
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, static_cast<std::size_t>(end - buffer));
}

// value * scale, computed as a division when scale is 1/N so 56500 µs prints as 0.0565, not
// 0.056499999999999995.
double scaled(std::uint64_t value, double scale) {
  if (scale > 0 && scale < 1) return static_cast<double>(value) / std::round(1 / scale);
  return static_cast<double>(value) * scale;
}

void append_uint(std::string& out, std::uint64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, static_cast<std::size_t>(end - buffer));
}

}  // namespace

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

struct MetricFamily::Shard {
  Shard(std::size_t max_chunks, std::size_t cells_per_chunk)
      : chunks(std::make_unique<std::atomic<Cell*>[]>(max_chunks)),
        max_chunks(max_chunks),
        cells_per_chunk(cells_per_chunk) {}
  ~Shard() {
    for (std::size_t i = 0; i < max_chunks; ++i) delete[] chunks[i].load();
  }
  Cell* cells(std::size_t id, std::size_t cells_per_series) {
    auto& slot = chunks[id / kChunkSeries];
    Cell* chunk = slot.load(std::memory_order_relaxed);  // only this thread stores it
    if (!chunk) {
      chunk = new Cell[cells_per_chunk]();
      slot.store(chunk, std::memory_order_release);
    }
    return chunk + (id % kChunkSeries) * cells_per_series;
  }
  // Owner thread only.
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> cache;
  std::unique_ptr<std::atomic<Cell*>[]> chunks;
  std::size_t max_chunks;
  std::size_t cells_per_chunk;
};

MetricFamily::MetricFamily(FamilySpec spec)
    : spec_(std::move(spec)),
      uid_(next_uid.fetch_add(1)),
      cells_per_series_(std::max<std::size_t>(1, spec_.variants.size()) * cells_per_variant()),
      max_chunks_((std::max<std::size_t>(1, spec_.max_series) + 1 + kChunkSeries - 1) /
                  kChunkSeries) {}

MetricFamily::~MetricFamily() = default;

MetricFamily::Shard& MetricFamily::shard() {
  // Families live as long as the registry entry (or a reload); uids are never reused, so a stale
  // entry of a destroyed family is never matched again.
  thread_local std::vector<std::pair<std::uint64_t, Shard*>> shards;
  for (const auto& [uid, shard] : shards) {
    if (uid == uid_) return *shard;
  }
  auto owned = std::make_unique<Shard>(max_chunks_, kChunkSeries * cells_per_series_);
  Shard* shard = owned.get();
  {
    std::lock_guard lock(mutex_);
    shards_.push_back(std::move(owned));
  }
  shards.emplace_back(uid_, shard);
  return *shard;
}

std::uint32_t MetricFamily::resolve(const std::string& key, bool& cacheable) {
  std::lock_guard lock(mutex_);
  cacheable = true;
  if (auto it = index_.find(key); it != index_.end()) return it->second;
  std::size_t cap = std::max<std::size_t>(1, spec_.max_series);
  if (index_.size() < cap) {
    auto id = static_cast<std::uint32_t>(keys_.size());
    index_.emplace(key, id);
    keys_.push_back(key);
    return id;
  }
  overflow_.fetch_add(1, std::memory_order_relaxed);
  cacheable = false;
  std::string other;
  for (std::size_t i = 0; i < spec_.labels.size(); ++i) {
    if (i) other.push_back(kSeparator);
    other += "other";
  }
  if (auto it = index_.find(other); it != index_.end()) return it->second;
  auto id = static_cast<std::uint32_t>(keys_.size());  // the one series allowed past the cap
  index_.emplace(other, id);
  keys_.push_back(other);
  return id;
}

MetricFamily::Series MetricFamily::series(std::span<const std::string_view> values) {
  // The key is the values joined by kSeparator, written in one pass into space sized first: a
  // checked append per value and separator cost ~240 instructions a look-up, five a request.
  thread_local std::string key;
  const std::size_t labels = spec_.labels.size();
  const std::size_t given = std::min(labels, values.size());
  std::size_t size = labels > 0 ? labels - 1 : 0;
  for (std::size_t i = 0; i < given; ++i) size += values[i].size();
  key.resize(size);
  char* at = key.data();
  for (std::size_t i = 0; i < labels; ++i) {
    if (i) *at++ = kSeparator;
    if (i < given && !values[i].empty()) {
      std::memcpy(at, values[i].data(), values[i].size());
      at += values[i].size();
    }
  }
  Shard& s = shard();
  std::uint32_t id;
  bool folded = false;
  if (auto it = s.cache.find(std::string_view(key)); it != s.cache.end()) {
    id = it->second;
  } else {
    bool cacheable = false;
    id = resolve(key, cacheable);
    if (cacheable) s.cache.emplace(key, id);  // folded label sets are not remembered
    folded = !cacheable;
  }
  return Series{s.cells(id, cells_per_series_), folded};
}

void MetricFamily::observe(Series series, std::size_t variant, std::uint64_t value) const noexcept {
  const auto& bounds = spec_.bounds;
  auto bucket = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) -
                                         bounds.begin());  // == bounds.size(): +Inf
  Cell* cells = series.cells + variant * cells_per_variant();
  cells[bucket].store(cells[bucket].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  auto& sum = cells[bounds.size() + 1];
  sum.store(sum.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
}

void MetricFamily::write(std::string& out) const {
  std::lock_guard lock(mutex_);
  out += "# HELP " + spec_.name + " " + spec_.help + "\n";
  out +=
      "# TYPE " + spec_.name + (spec_.type == MetricType::kCounter ? " counter\n" : " histogram\n");
  std::vector<std::uint64_t> totals(cells_per_series_);
  std::size_t variants = std::max<std::size_t>(1, spec_.variants.size());
  std::string labels;
  for (std::size_t id = 0; id < keys_.size(); ++id) {
    std::fill(totals.begin(), totals.end(), 0);
    bool any = false;
    for (const auto& shard : shards_) {
      Cell* chunk = shard->chunks[id / kChunkSeries].load(std::memory_order_acquire);
      if (!chunk) continue;
      Cell* cells = chunk + (id % kChunkSeries) * cells_per_series_;
      for (std::size_t c = 0; c < cells_per_series_; ++c) {
        totals[c] += cells[c].load(std::memory_order_relaxed);
      }
      any = true;
    }
    if (!any) continue;
    // The free labels of this series.
    labels.clear();
    std::string_view key = keys_[id];
    for (std::size_t i = 0; i < spec_.labels.size(); ++i) {
      auto end = key.find(kSeparator);
      auto value = key.substr(0, end);
      key = end == std::string_view::npos ? std::string_view() : key.substr(end + 1);
      if (!labels.empty()) labels.push_back(',');
      labels += spec_.labels[i] + "=\"";
      append_label_value(labels, value);
      labels.push_back('"');
    }
    for (std::size_t v = 0; v < variants; ++v) {
      std::string all = labels;
      if (!spec_.variant_label.empty() && v < spec_.variants.size()) {
        all = spec_.variant_label + "=\"" + spec_.variants[v] + "\"" + (labels.empty() ? "" : ",") +
              labels;
      }
      const std::uint64_t* cells = totals.data() + v * cells_per_variant();
      if (spec_.type == MetricType::kCounter) {
        out += spec_.name;
        if (!all.empty()) out += "{" + all + "}";
        out.push_back(' ');
        append_uint(out, cells[0]);
        out.push_back('\n');
        continue;
      }
      const std::string& base = spec_.name;
      std::uint64_t cumulative = 0;
      std::string prefix = all.empty() ? "" : all + ",";
      for (std::size_t b = 0; b <= spec_.bounds.size(); ++b) {
        cumulative += cells[b];
        out += base + "_bucket{" + prefix + "le=\"";
        if (b < spec_.bounds.size()) {
          append_number(out, scaled(spec_.bounds[b], spec_.scale));
        } else {
          out += "+Inf";
        }
        out += "\"} ";
        append_uint(out, cumulative);
        out.push_back('\n');
      }
      out += base + "_sum";
      if (!all.empty()) out += "{" + all + "}";
      out.push_back(' ');
      append_number(out, scaled(cells[spec_.bounds.size() + 1], spec_.scale));
      out.push_back('\n');
      out += base + "_count";
      if (!all.empty()) out += "{" + all + "}";
      out.push_back(' ');
      append_uint(out, cumulative);
      out.push_back('\n');
    }
  }
}

std::shared_ptr<MetricFamily> MetricRegistry::family(FamilySpec spec) {
  std::lock_guard lock(mutex_);
  auto& slot = families_[spec.name];
  if (slot) {
    const auto& old = slot->spec();
    if (old.help == spec.help && old.type == spec.type && old.variant_label == spec.variant_label &&
        old.variants == spec.variants && old.labels == spec.labels &&
        old.max_series == spec.max_series && old.bounds == spec.bounds && old.scale == spec.scale) {
      return slot;
    }
  }
  slot = std::make_shared<MetricFamily>(std::move(spec));
  return slot;
}

std::shared_ptr<void> MetricRegistry::contribute(std::string name, std::string help,
                                                 std::string type, SampleWriter write) {
  std::uint64_t token;
  {
    std::lock_guard lock(mutex_);
    token = next_token_++;
    auto& c = contributions_[name];
    c.help = std::move(help);
    c.type = std::move(type);
    c.writers.emplace(token, std::move(write));
  }
  std::weak_ptr<MetricRegistry> weak = weak_from_this();
  return std::shared_ptr<void>(nullptr, [weak, name, token](void*) {
    if (auto registry = weak.lock()) {
      std::lock_guard lock(registry->mutex_);
      auto it = registry->contributions_.find(name);
      if (it == registry->contributions_.end()) return;
      it->second.writers.erase(token);
      if (it->second.writers.empty()) registry->contributions_.erase(it);
    }
  });
}

void MetricRegistry::write(std::string& out) const {
  std::lock_guard lock(mutex_);
  bool any_overflow_metric = false;
  for (const auto& [name, family] : families_) {
    family->write(out);
    any_overflow_metric = true;
  }
  if (any_overflow_metric) {
    out +=
        "# HELP sluice_metrics_series_overflow_total Observations whose label set was folded "
        "into \"other\" because the metric reached its series cap.\n";
    out += "# TYPE sluice_metrics_series_overflow_total counter\n";
    for (const auto& [name, family] : families_) {
      out += "sluice_metrics_series_overflow_total{metric=\"" + name + "\"} ";
      append_uint(out, family->overflow());
      out.push_back('\n');
    }
  }
  for (const auto& [name, c] : contributions_) {
    out += "# HELP " + name + " " + c.help + "\n";
    out += "# TYPE " + name + " " + c.type + "\n";
    for (const auto& [token, write] : c.writers) write(out);
  }
}

}  // namespace sluice::usage
