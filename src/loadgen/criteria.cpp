#include "sluice/loadgen/criteria.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace sluice::loadgen {
namespace {

core::Error invalid(std::string message) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(message)};
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

struct MetricInfo {
  const char* name;
  bool timing;      // avg/min/max/pNN allowed
  bool fraction;    // percentage/count allowed
  bool rate;        // avg only
  bool count_only;  // count only
};
constexpr std::array kMetrics = {
    MetricInfo{"response_time_ms", true, false, false, false},
    MetricInfo{"latency", true, false, false, false},
    MetricInfo{"error", false, true, false, false},
    MetricInfo{"requests_per_sec", false, false, true, false},
    MetricInfo{"requests", false, false, false, true},
    MetricInfo{"ttft_ms", true, false, false, false},
    MetricInfo{"itl_ms", true, false, false, false},
    MetricInfo{"tokens_per_sec", true, false, false, false},
    MetricInfo{"tokens_per_min", false, false, true, false},
    MetricInfo{"throttled", false, true, false, false},
};

std::string metric_list() {
  std::string out;
  for (const auto& m : kMetrics) out += (out.empty() ? "" : ", ") + std::string(m.name);
  return out;
}

}  // namespace

core::Result<Criterion> parse_criterion(std::string_view raw) {
  Criterion c;
  c.text = trim(raw);
  std::string_view text = c.text;
  auto open = text.find('(');
  if (open == std::string_view::npos) {
    return invalid("criterion \"" + c.text +
                   "\" is not of the form [Request:] aggregate(metric) op value, e.g. "
                   "\"p95(response_time_ms) > 500\"");
  }
  // A label prefix ends at the last ':' before the aggregate's '('.
  std::string_view head = text.substr(0, open);
  auto colon = head.rfind(':');
  if (colon != std::string_view::npos) {
    c.label = trim(head.substr(0, colon));
    head = head.substr(colon + 1);
    if (c.label.empty())
      return invalid("criterion \"" + c.text + "\": empty request name before ':'");
  }
  c.aggregate = trim(head);
  for (auto& ch : c.aggregate) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto close = text.find(')', open);
  if (close == std::string_view::npos) return invalid("criterion \"" + c.text + "\": missing ')'");
  c.metric = trim(text.substr(open + 1, close - open - 1));
  std::string rest = trim(text.substr(close + 1));
  for (const char* op : {">=", "<=", ">", "<", "="}) {
    if (rest.starts_with(op)) {
      c.op = op;
      rest = trim(std::string_view(rest).substr(c.op.size()));
      break;
    }
  }
  if (c.op.empty()) {
    return invalid("criterion \"" + c.text +
                   "\": expected an operator (>, <, >=, <=, =) after ')'");
  }
  {
    const char* begin = rest.c_str();
    char* end = nullptr;
    c.threshold = std::strtod(begin, &end);
    if (rest.empty() || end != begin + rest.size()) {
      return invalid("criterion \"" + c.text + "\": threshold \"" + rest + "\" is not a number");
    }
  }
  const MetricInfo* info = nullptr;
  for (const auto& m : kMetrics) {
    if (c.metric == m.name) info = &m;
  }
  if (!info) {
    return invalid("criterion \"" + c.text + "\": unknown metric \"" + c.metric +
                   "\" (known: " + metric_list() + ")");
  }
  bool ok = false;
  if (c.aggregate == "avg") ok = info->timing || info->rate;
  if (c.aggregate == "min" || c.aggregate == "max") ok = info->timing;
  if (c.aggregate == "percentage") ok = info->fraction;
  if (c.aggregate == "count") ok = info->fraction || info->count_only;
  if (c.aggregate.size() > 1 && c.aggregate[0] == 'p' && info->timing) {
    std::string num = c.aggregate.substr(1);
    char* end = nullptr;
    double p = std::strtod(num.c_str(), &end);
    if (!num.empty() && end == num.c_str() + num.size() && p > 0 && p <= 100) {
      c.percentile = p;
      ok = true;
    }
  }
  if (!ok) {
    std::string allowed = info->timing     ? "avg, min, max, p50, p90, p95, p99, p99.9 ..."
                          : info->fraction ? "percentage, count"
                          : info->rate     ? "avg"
                                           : "count";
    return invalid("criterion \"" + c.text + "\": aggregate \"" + c.aggregate +
                   "\" does not apply to " + c.metric + " (use " + allowed + ")");
  }
  return c;
}

std::optional<double> aggregate_value(const Criterion& c, const Stats& s, double duration_s) {
  const core::Histogram* h = nullptr;
  double scale = 1.0 / 1000.0;  // µs → ms
  if (c.metric == "response_time_ms") h = &s.e2e;
  if (c.metric == "latency") h = &s.ttfb;
  if (c.metric == "ttft_ms") h = &s.ttft;
  if (c.metric == "itl_ms") h = &s.itl;
  if (c.metric == "tokens_per_sec") h = &s.tokens_per_sec;  // milli-tokens/s → tokens/s
  if (h) {
    if (h->count() == 0) return std::nullopt;
    if (c.aggregate == "avg") return h->mean() * scale;
    if (c.aggregate == "min") return static_cast<double>(h->min()) * scale;
    if (c.aggregate == "max") return static_cast<double>(h->max()) * scale;
    return static_cast<double>(h->percentile(c.percentile)) * scale;
  }
  if (s.requests == 0) return std::nullopt;
  if (c.metric == "error" || c.metric == "throttled") {
    double n = static_cast<double>(c.metric == "error" ? s.errors : s.throttled);
    if (c.aggregate == "count") return n;
    return 100.0 * n / static_cast<double>(s.requests);
  }
  if (c.metric == "requests") return static_cast<double>(s.requests);
  if (duration_s <= 0) return std::nullopt;
  if (c.metric == "requests_per_sec") return static_cast<double>(s.requests) / duration_s;
  if (c.metric == "tokens_per_min") {
    return static_cast<double>(s.prompt_tokens + s.completion_tokens) * 60.0 / duration_s;
  }
  return std::nullopt;
}

std::vector<CriterionOutcome> evaluate_criteria(const std::vector<Criterion>& criteria,
                                                const Results& results, double duration_s) {
  std::vector<CriterionOutcome> out;
  for (const auto& c : criteria) {
    CriterionOutcome o{c, std::nullopt, false};
    const Stats* stats = &results.total;
    if (!c.label.empty()) {
      auto it = results.labels.find(c.label);
      stats = it == results.labels.end() ? nullptr : &it->second;
    }
    if (stats) o.actual = aggregate_value(c, *stats, duration_s);
    if (o.actual) {
      double a = *o.actual, t = c.threshold;
      if (c.op == ">") o.failed = a > t;
      if (c.op == "<") o.failed = a < t;
      if (c.op == ">=") o.failed = a >= t;
      if (c.op == "<=") o.failed = a <= t;
      if (c.op == "=") o.failed = a == t;
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace sluice::loadgen
