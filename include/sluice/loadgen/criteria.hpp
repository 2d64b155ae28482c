#pragma once
// Pass/fail criteria in Azure Load Testing syntax, with LLM extensions:
//
//   [Request:] aggregate(metric) op threshold
//
// e.g. "percentage(error) > 80", "avg(response_time_ms) > 300", "p95(latency) > 500",
// "chat: p99(ttft_ms) > 2000". The optional "Request:" prefix is a sampler label; without it the
// criterion applies to all requests.
//
//   metric              aggregates                          meaning
//   response_time_ms    avg min max p50..p99.99             end-to-end time
//   latency             avg min max p50..p99.99             time to first byte (JMeter Latency)
//   error               percentage count                    failed samples
//   requests_per_sec    avg                                 throughput over the run
//   requests            count                               samples
//   ttft_ms             avg min max pNN                     time to first token
//   itl_ms              avg min max pNN                     inter-token latency
//   tokens_per_sec      avg min max pNN                     per-request output speed
//   tokens_per_min      avg                                 prompt+completion tokens per minute
//   throttled           percentage count                    429 responses
//
// ops: > < >= <= = (Azure uses > and <). Percentiles: pNN with NN any number in (0,100], e.g.
// p99.9.
#include <optional>
#include <string>
#include <vector>

#include "sluice/core/result.hpp"
#include "sluice/loadgen/metrics.hpp"

namespace sluice::loadgen {

struct Criterion {
  std::string text;   // as written
  std::string label;  // empty = all requests
  std::string aggregate;
  double percentile = 0;  // for pNN
  std::string metric;
  std::string op;
  double threshold = 0;
};

struct CriterionOutcome {
  Criterion criterion;
  std::optional<double> actual;  // nullopt: no data (e.g. label never sampled) → not failed
  bool failed = false;
};

// Parses one criterion; errors say what is wrong and list what is accepted.
core::Result<Criterion> parse_criterion(std::string_view text);

// Evaluates every criterion on `results` of a run that lasted `duration_s` seconds.
std::vector<CriterionOutcome> evaluate_criteria(const std::vector<Criterion>& criteria,
                                                const Results& results, double duration_s);

// The value of aggregate(metric) over `stats`, or nullopt when there is no data.
std::optional<double> aggregate_value(const Criterion& c, const Stats& stats, double duration_s);

}  // namespace sluice::loadgen
