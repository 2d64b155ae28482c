#pragma once
// What a run leaves behind: results.json (summary, per-label stats, per-second timeline, all as
// mergeable histograms), and what `merge`, `compare` and the HTML report read back.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "sluice/core/result.hpp"
#include "sluice/loadgen/criteria.hpp"
#include "sluice/loadgen/engine.hpp"
#include "sluice/loadgen/metrics.hpp"

namespace sluice::loadgen {

inline constexpr const char* kResultsFormat = "sluice-load-results/1";

struct RunReport {
  std::string test_id;
  std::string display_name;
  std::string description;
  int engine_index = 0;  // -1 after a merge
  int engine_count = 1;
  int engines_merged = 1;
  std::int64_t started_at_ms = 0;
  std::int64_t ended_at_ms = 0;
  std::uint64_t max_vus = 0;
  std::vector<std::string> criteria;  // as written, re-evaluated after a merge
  AutoStop auto_stop;
  bool auto_stopped = false;
  bool stopped_by_test = false;
  std::string stop_reason;
  Results results;
  std::vector<CriterionOutcome> outcomes;
  std::vector<ScrapedSeries> server_metrics;

  double duration_s() const { return static_cast<double>(ended_at_ms - started_at_ms) / 1000.0; }
  // Evaluates `criteria` into `outcomes`. Criteria were validated when the test loaded.
  void evaluate();
  // Passed: no criterion failed and autoStop did not fire.
  bool passed() const;
};

boost::json::value to_json(const RunReport& report);
core::Result<RunReport> report_from_json(const boost::json::value& json);

// Reads `path` (a results.json, or a directory holding one).
core::Result<RunReport> read_results(const std::filesystem::path& path);
core::Result<void> write_results(const RunReport& report, const std::filesystem::path& path);

// Exact merge of engine results: histograms and counts add, timelines line up by wall-clock
// second, the run spans the earliest start to the latest end; criteria re-evaluated.
RunReport merge_reports(const std::vector<RunReport>& reports);

// Plain-text summary table (per label: requests, errors, throttled, rps, latency and TTFT
// percentiles, tokens) and the criteria verdicts.
std::string summary_text(const RunReport& report);

// One line on the samples that could not connect and the pauses the users took after them, e.g.
// "connection failures: 42 samples; after each, the user paused (100 ms, doubling to 2 s) ...".
std::string connect_failure_note(const Results& results);

// Side-by-side table of two runs with the relative change of each figure.
std::string compare_text(const RunReport& a, const RunReport& b);

// Self-contained HTML report (inline CSS/JS, charts drawn on <canvas>; no network).
std::string render_html_report(const RunReport& report);

}  // namespace sluice::loadgen
