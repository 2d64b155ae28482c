#pragma once
// Runs a Plan: worker threads (one event loop and one HTTP ClientPool each), virtual users as
// coroutines spread over the workers, a controller on the calling thread that reports progress
// once a second, applies autoStop and the deadline, and collects the results.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/http/client.hpp"
#include "sluice/http/proxy_selection.hpp"
#include "sluice/loadgen/data_set.hpp"
#include "sluice/loadgen/metrics.hpp"
#include "sluice/loadgen/plan.hpp"

namespace sluice::loadgen {

// Stop the test when the error percentage over the last `time_window` reaches `error_percentage`
// (Azure Load Testing autoStop; its defaults).
struct AutoStop {
  bool enabled = true;
  double error_percentage = 90.0;
  std::chrono::seconds time_window{60};
};

// A Prometheus endpoint scraped during the run (server-side metrics).
struct ScrapeTarget {
  std::string name;
  std::string url;
  Millis interval{1'000};
  // Metric family names to keep ("x_total", or a prefix ending in '*'); empty keeps all, up to
  // max_series series.
  std::vector<std::string> metrics;
  std::size_t max_series = 64;
};

struct ScrapedSeries {
  std::string target;
  std::string metric;                                   // name{labels}
  std::vector<std::pair<std::int64_t, double>> points;  // epoch ms, value
};

// Once a second, from the controller thread.
struct Progress {
  double elapsed_s = 0;
  double total_s = 0;  // planned duration, 0 when the run ends by loop count
  std::uint64_t active_vus = 0;
  std::uint64_t max_vus = 0;
  double requests_per_sec = 0;  // over the last second
  double tokens_per_min = 0;    // prompt+completion, over the last second, × 60
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::uint64_t throttled = 0;
  double p95_ttft_ms = -1;  // cumulative; -1 when no token yet
  double p95_e2e_ms = -1;
};

struct EngineOptions {
  int threads = 0;  // 0 = hardware concurrency
  int engine_index = 0;
  int engine_count = 1;
  http::ClientSettings client;
  http::ProxySelection proxies;  // which targets go through which proxy (default: none)
  std::string jtl_path;          // empty: no JTL
  AutoStop auto_stop;
  std::vector<ScrapeTarget> scrape;
  std::function<void(const Progress&)> on_progress;
  // Extra time in-flight requests get after the planned end before they are cut off.
  Millis grace{30'000};
  // After a sample that could not connect (refused, DNS, TLS handshake), its virtual user waits
  // this long before going on, doubling with each failure in a row up to connect_backoff_max;
  // a sample that connects resets it. Without it, users hammer a dead target in a tight loop
  // (tens of thousands of failures a second). 0 = go on at once, as JMeter does.
  Millis connect_backoff{100};
  Millis connect_backoff_max{2'000};
  // W3C trace context: every request gets a `traceparent` (unless the plan sets its own) with a
  // fresh trace id whose first 16 hex digits are this prefix, so all of a run's traces (across
  // engines given the same prefix) can be found in a tracing backend. Empty: no traceparent.
  // Must be 16 lower-case hex digits, not all zero (run_plan refuses anything else).
  std::string trace_id_prefix;
};

struct RunOutcome {
  Results results;
  std::int64_t started_at_ms = 0;
  std::int64_t ended_at_ms = 0;
  std::uint64_t max_vus = 0;
  bool auto_stopped = false;
  bool stopped_by_test = false;  // a sampler error with OnError::kStopTest*
  std::string stop_reason;
  std::vector<ScrapedSeries> server_metrics;
};

// Loads the plan's data sets (this engine's slice). Errors name the file and line.
core::Result<std::vector<std::shared_ptr<const DataSet>>> load_data_sets(const Plan& plan,
                                                                         int engine_index,
                                                                         int engine_count);

// Runs `plan` to completion on the calling thread (which becomes the controller). `stop`, when
// given, ends the run early when it becomes true (signal handlers set it). Never throws on network
// errors: they are samples. Returns an error only when the run could not start (bad proxy, ...).
core::Result<RunOutcome> run_plan(const Plan& plan,
                                  const std::vector<std::shared_ptr<const DataSet>>& data,
                                  const EngineOptions& options,
                                  const std::atomic<bool>* stop = nullptr);

}  // namespace sluice::loadgen
