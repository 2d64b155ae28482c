#pragma once
// Per-request samples and their aggregation: totals per label and a per-second timeline, in
// mergeable histograms (sluice/core/histogram.hpp) so engines and threads merge exactly.
//
// Threads: Results is thread-compatible. Each worker thread records into its own Results; the
// controller merges them (under the worker's lock) for progress and at the end.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "sluice/core/histogram.hpp"
#include "sluice/core/result.hpp"

namespace sluice::loadgen {

// One HTTP exchange as measured by a VU. Times are microseconds; -1 means "did not happen"
// (no first token on a non-streaming or failed request).
struct Sample {
  std::int64_t timestamp_ms = 0;     // epoch ms of the (intended) start: JTL timeStamp
  std::int64_t e2e_us = 0;           // intended start → last byte (JTL elapsed)
  std::int64_t ttfb_us = -1;         // intended start → response header (JTL Latency)
  std::int64_t ttft_us = -1;         // intended start → first content token
  std::int64_t connect_us = -1;      // connection set-up when a new one was opened (JTL Connect)
  std::int64_t queue_us = 0;         // intended start → actual send (open model only)
  std::vector<std::int64_t> itl_us;  // gaps between content events
  int status = 0;                    // 0 = no response (connect error, timeout)
  bool success = false;
  bool throttled = false;  // 429
  std::int64_t retry_after_ms = -1;
  std::int64_t prompt_tokens = -1;
  std::int64_t completion_tokens = -1;
  bool tokens_estimated = false;  // counted with the tokenizer, no `usage` in the response
  std::uint64_t bytes = 0;        // response bytes received (header + body)
  std::uint64_t sent_bytes = 0;
  std::string response_message;  // HTTP reason or client error kind
  std::string failure_message;   // why success is false
  std::string url;
};

// Aggregate of many samples. Histograms hold microseconds, except tokens_per_sec (milli-tokens/s,
// per request: completion tokens over the generation time after the first token).
struct Stats {
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::uint64_t throttled = 0;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t estimated = 0;  // samples whose tokens came from the tokenizer
  std::uint64_t bytes = 0;
  std::uint64_t sent_bytes = 0;
  core::Histogram e2e, ttfb, ttft, itl, tokens_per_sec, queue;
  std::map<int, std::uint64_t> statuses;

  void record(const Sample& sample);
  void merge(const Stats& other);
  boost::json::value to_json() const;
  static core::Result<Stats> from_json(const boost::json::value& json);
};

// One second of the run (by wall-clock epoch second, so engines line up when merged).
struct Second {
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::uint64_t throttled = 0;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t vus = 0;  // active VUs at the end of the second (summed across engines)
  core::Histogram e2e, ttft;

  void record(const Sample& sample);
  void merge(const Second& other);
};

struct Results {
  std::map<std::string, Stats> labels;
  Stats total;
  std::map<std::int64_t, Second> timeline;  // epoch second → stats of samples started then
  std::uint64_t dropped_iterations = 0;     // open model: arrivals with no VU and a full queue
  std::uint64_t connect_failures = 0;       // samples that could not connect
  std::uint64_t backoff_waits = 0;          // pauses after them (EngineOptions::connect_backoff)
  std::int64_t connect_backoff_ms = -1;     // the first pause's length; 0 = off; -1 = unknown

  void record(const std::string& label, const Sample& sample);
  void merge(const Results& other);

 private:
  // The label and second of the previous sample: consecutive samples mostly share both, so the
  // map lookups are skipped (map nodes do not move). Copies start with an empty cache.
  struct Cache {
    Cache() = default;
    Cache(const Cache&) {}
    Cache& operator=(const Cache&) {
      *this = Cache{};
      return *this;
    }
    Cache& operator=(Cache&&) = default;
    std::string label;
    Stats* stats = nullptr;
    std::int64_t second_key = -1;
    Second* second = nullptr;
  } cache_;
};

}  // namespace sluice::loadgen
