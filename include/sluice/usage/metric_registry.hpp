#pragma once
// Prometheus metrics that cost the request path next to nothing: every thread bumps its own
// shard of each metric (plain relaxed stores, no lock, no shared cache line), and /metrics sums the
// shards when it is scraped. Label cardinality is capped per metric: once `max_series` label sets
// exist, new ones are folded into a series whose labels all read "other", and the fold is counted
// in sluice_metrics_series_overflow_total{metric="..."}.
//
//   auto tokens = registry.family({.name = "sluice_tokens_total", .help = "...",
//                                  .type = MetricType::kCounter, .variant_label = "type",
//                                  .variants = {"prompt", "completion"}, .labels = {"app"}});
//   std::string_view values[] = {app};
//   auto series = tokens->series(values);   // this thread's cells for that label set
//   tokens->add(series, 0, prompt_tokens);  // variant 0 = type="prompt"
//
// A family has free labels (values chosen at run time, capped) and optionally one variant label
// whose few values are fixed up front (token type, status class), so one label lookup serves all
// of them. Histograms use fixed bucket bounds in integer units (microseconds, tokens) and a scale
// to render them (1e-6 → seconds).
//
// Threads: family() and write() from any thread (they lock); series(), add() and observe() from
// any thread, lock-free once a label set was seen on that thread. A Series is valid only on the
// thread that got it, for the life of its family.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::usage {

enum class MetricType { kCounter, kHistogram };

struct FamilySpec {
  std::string name;  // counters end in _total
  std::string help;
  MetricType type = MetricType::kCounter;
  std::string variant_label;          // "" for none
  std::vector<std::string> variants;  // its values; one implicit variant when none
  std::vector<std::string> labels;    // free labels
  std::size_t max_series = 1000;
  std::vector<std::uint64_t> bounds;  // histograms: ascending upper bounds, integer units
  double scale = 1.0;                 // rendered value = stored integer * scale
};

class MetricFamily {
 public:
  using Cell = std::atomic<std::uint64_t>;
  // One label set's cells on one thread. `folded`: the label set was past the cap and these are
  // the "other" series' cells; each look-up of it counts an overflow, so a caller that keeps
  // series between look-ups keeps only those not folded.
  struct Series {
    Cell* cells = nullptr;
    bool folded = false;
  };

  explicit MetricFamily(FamilySpec spec);
  ~MetricFamily();
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  // The calling thread's cells for `values` (one per free label, in order). Never fails: past the
  // cap it returns the "other" series. Allocates only the first time a label set is seen on a
  // thread.
  Series series(std::span<const std::string_view> values);
  // Counter: adds `delta` to variant `variant`.
  static void add(Series series, std::size_t variant, std::uint64_t delta) noexcept {
    auto& cell = series.cells[variant];
    cell.store(cell.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  // Histogram: records `value` (integer units) in variant `variant`.
  void observe(Series series, std::size_t variant, std::uint64_t value) const noexcept;

  const FamilySpec& spec() const noexcept { return spec_; }
  std::uint64_t overflow() const noexcept { return overflow_.load(std::memory_order_relaxed); }
  // Appends HELP, TYPE and every series in the Prometheus text format.
  void write(std::string& out) const;

 private:
  struct Shard;
  Shard& shard();
  std::size_t cells_per_variant() const noexcept {
    return spec_.type == MetricType::kCounter ? 1 : spec_.bounds.size() + 2;  // buckets, +Inf, sum
  }
  std::uint32_t resolve(const std::string& key, bool& cacheable);

  const FamilySpec spec_;
  const std::uint64_t uid_;
  const std::size_t cells_per_series_;
  const std::size_t max_chunks_;
  mutable std::mutex mutex_;
  std::map<std::string, std::uint32_t, std::less<>> index_;  // label key → series id
  std::vector<std::string> keys_;                            // series id → label key
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::uint64_t> overflow_{0};
};

// Hold it in a std::shared_ptr (contribute() tokens refer back to it weakly).
class MetricRegistry : public std::enable_shared_from_this<MetricRegistry> {
 public:
  // The family called spec.name. An existing family with the same spec is returned as it is (so
  // a config reload keeps counting); a different spec replaces it (the old one keeps working for
  // whoever holds it but is no longer exported). Any thread.
  std::shared_ptr<MetricFamily> family(FamilySpec spec);

  // Samples produced at scrape time by someone else (journal backlog, queue drops), under one
  // HELP/TYPE header per name however many contributors there are. `write` appends complete sample
  // lines. Returns a token; the contribution ends when the token is destroyed.
  using SampleWriter = std::function<void(std::string& out)>;
  [[nodiscard]] std::shared_ptr<void> contribute(std::string name, std::string help,
                                                 std::string type, SampleWriter write);

  // The whole exposition (Prometheus text format 0.0.4). Any thread.
  void write(std::string& out) const;

 private:
  struct Contribution {
    std::string help;
    std::string type;
    std::map<std::uint64_t, SampleWriter> writers;
  };
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<MetricFamily>> families_;
  std::map<std::string, Contribution> contributions_;
  std::uint64_t next_token_ = 1;
};

// Appends `value` escaped for a Prometheus label value (backslash, quote, newline).
void append_label_value(std::string& out, std::string_view value);

}  // namespace sluice::usage
