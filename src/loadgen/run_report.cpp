#include "sluice/loadgen/run_report.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

namespace sluice::loadgen {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

core::Error bad(std::string what) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(what)};
}

std::string fmt_num(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

double ms(std::uint64_t us) {
  return static_cast<double>(us) / 1000.0;
}

json::object readable(const Stats& s, double duration_s) {
  json::object o;
  o["requests"] = s.requests;
  o["errors"] = s.errors;
  o["error_pct"] =
      s.requests ? 100.0 * static_cast<double>(s.errors) / static_cast<double>(s.requests) : 0.0;
  o["throttled"] = s.throttled;
  o["requests_per_sec"] = duration_s > 0 ? static_cast<double>(s.requests) / duration_s : 0.0;
  o["prompt_tokens"] = s.prompt_tokens;
  o["completion_tokens"] = s.completion_tokens;
  o["tokens_per_min"] =
      duration_s > 0
          ? static_cast<double>(s.prompt_tokens + s.completion_tokens) * 60.0 / duration_s
          : 0.0;
  auto pct = [](const core::Histogram& h) {
    json::object p;
    if (h.count() == 0) return p;
    p["avg"] = h.mean() / 1000.0;
    p["min"] = ms(h.min());
    p["p50"] = ms(h.percentile(50));
    p["p90"] = ms(h.percentile(90));
    p["p95"] = ms(h.percentile(95));
    p["p99"] = ms(h.percentile(99));
    p["max"] = ms(h.max());
    return p;
  };
  o["response_time_ms"] = pct(s.e2e);
  o["latency_ms"] = pct(s.ttfb);
  o["ttft_ms"] = pct(s.ttft);
  o["itl_ms"] = pct(s.itl);
  o["tokens_per_sec"] = pct(s.tokens_per_sec);  // same /1000 scale: milli-tokens/s → tokens/s
  return o;
}

}  // namespace

void RunReport::evaluate() {
  std::vector<Criterion> parsed;
  for (const auto& text : criteria) {
    if (auto c = parse_criterion(text)) parsed.push_back(std::move(*c));
  }
  outcomes = evaluate_criteria(parsed, results, duration_s());
}

bool RunReport::passed() const {
  if (auto_stopped || stopped_by_test) return false;
  for (const auto& o : outcomes) {
    if (o.failed) return false;
  }
  return true;
}

json::value to_json(const RunReport& r) {
  json::object o;
  o["format"] = kResultsFormat;
  o["test_id"] = r.test_id;
  o["display_name"] = r.display_name;
  o["description"] = r.description;
  o["engine_index"] = r.engine_index;
  o["engine_count"] = r.engine_count;
  o["engines_merged"] = r.engines_merged;
  o["started_at_ms"] = r.started_at_ms;
  o["ended_at_ms"] = r.ended_at_ms;
  o["duration_s"] = r.duration_s();
  o["max_vus"] = r.max_vus;
  o["verdict"] = r.passed() ? "passed" : "failed";
  json::object stop;
  stop["auto_stopped"] = r.auto_stopped;
  stop["stopped_by_test"] = r.stopped_by_test;
  stop["reason"] = r.stop_reason;
  stop["auto_stop_enabled"] = r.auto_stop.enabled;
  stop["auto_stop_error_percentage"] = r.auto_stop.error_percentage;
  stop["auto_stop_time_window_s"] = r.auto_stop.time_window.count();
  o["stop"] = std::move(stop);
  o["summary"] = readable(r.results.total, r.duration_s());
  json::object labels_summary;
  for (const auto& [label, s] : r.results.labels)
    labels_summary[label] = readable(s, r.duration_s());
  o["labels_summary"] = std::move(labels_summary);
  o["dropped_iterations"] = r.results.dropped_iterations;
  o["connect_failures"] = r.results.connect_failures;
  o["backoff_waits"] = r.results.backoff_waits;
  o["connect_backoff_ms"] = r.results.connect_backoff_ms;
  json::array criteria;
  for (std::size_t i = 0; i < r.criteria.size(); ++i) {
    json::object c;
    c["criterion"] = r.criteria[i];
    if (i < r.outcomes.size()) {
      const auto& oc = r.outcomes[i];
      if (oc.actual) {
        c["actual"] = *oc.actual;
      } else {
        c["actual"] = nullptr;
      }
      c["result"] = oc.failed ? "failed" : (oc.actual ? "passed" : "no data");
    }
    criteria.push_back(std::move(c));
  }
  o["criteria"] = std::move(criteria);
  // Exact aggregates for merging.
  o["total"] = r.results.total.to_json();
  json::object labels;
  for (const auto& [label, s] : r.results.labels) labels[label] = s.to_json();
  o["labels"] = std::move(labels);
  json::array timeline;
  for (const auto& [second, s] : r.results.timeline) {
    json::object t;
    t["t"] = second;
    t["requests"] = s.requests;
    t["errors"] = s.errors;
    t["throttled"] = s.throttled;
    t["prompt_tokens"] = s.prompt_tokens;
    t["completion_tokens"] = s.completion_tokens;
    t["vus"] = s.vus;
    t["e2e_us"] = s.e2e.to_json();
    t["ttft_us"] = s.ttft.to_json();
    timeline.push_back(std::move(t));
  }
  o["timeline"] = std::move(timeline);
  json::array server;
  for (const auto& series : r.server_metrics) {
    json::object s;
    s["target"] = series.target;
    s["metric"] = series.metric;
    json::array points;
    for (const auto& [t, v] : series.points) points.push_back(json::array{t, v});
    s["points"] = std::move(points);
    server.push_back(std::move(s));
  }
  o["server_metrics"] = std::move(server);
  return o;
}

std::string connect_failure_note(const Results& r) {
  std::string note = "connection failures: " + std::to_string(r.connect_failures) + " samples";
  if (r.connect_backoff_ms > 0) {
    note += "; after each the virtual user paused (" + std::to_string(r.connect_backoff_ms) +
            " ms, doubling while they kept failing) before going on, " +
            std::to_string(r.backoff_waits) +
            " pauses in all (--connect-backoff 0 goes on at once, as JMeter does)";
  } else if (r.connect_backoff_ms == 0) {
    note += "; no pause after them (--connect-backoff 0, as JMeter)";
  }
  return note;
}

core::Result<RunReport> report_from_json(const json::value& value) {
  const auto* o = value.if_object();
  if (!o) return bad("results: not a JSON object");
  auto* format = o->if_contains("format");
  if (!format || !format->is_string() || format->as_string() != kResultsFormat) {
    return bad(std::string("results: not a ") + kResultsFormat + " file");
  }
  RunReport r;
  auto str = [&](const char* key) -> std::string {
    auto* v = o->if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  auto num = [&](const char* key) -> std::int64_t {
    auto* v = o->if_contains(key);
    return v && v->is_number() ? v->to_number<std::int64_t>() : 0;
  };
  r.test_id = str("test_id");
  r.display_name = str("display_name");
  r.description = str("description");
  r.engine_index = static_cast<int>(num("engine_index"));
  r.engine_count = static_cast<int>(num("engine_count"));
  r.engines_merged = static_cast<int>(num("engines_merged"));
  r.started_at_ms = num("started_at_ms");
  r.ended_at_ms = num("ended_at_ms");
  r.max_vus = static_cast<std::uint64_t>(num("max_vus"));
  if (auto* stop = o->if_contains("stop"); stop && stop->is_object()) {
    const auto& s = stop->as_object();
    if (auto* v = s.if_contains("auto_stopped")) r.auto_stopped = v->is_bool() && v->as_bool();
    if (auto* v = s.if_contains("stopped_by_test"))
      r.stopped_by_test = v->is_bool() && v->as_bool();
    if (auto* v = s.if_contains("reason"); v && v->is_string())
      r.stop_reason = std::string(v->as_string());
  }
  if (auto* c = o->if_contains("criteria"); c && c->is_array()) {
    for (const auto& item : c->as_array()) {
      if (auto* io = item.if_object()) {
        if (auto* t = io->if_contains("criterion"); t && t->is_string()) {
          r.criteria.emplace_back(t->as_string());
        }
      }
    }
  }
  auto* total = o->if_contains("total");
  if (!total) return bad("results: missing \"total\"");
  auto t = Stats::from_json(*total);
  if (!t) return t.error();
  r.results.total = std::move(*t);
  if (auto* labels = o->if_contains("labels"); labels && labels->is_object()) {
    for (const auto& [label, v] : labels->as_object()) {
      auto s = Stats::from_json(v);
      if (!s) return bad(std::string(label) + ": " + s.error().message);
      r.results.labels[std::string(label)] = std::move(*s);
    }
  }
  r.results.dropped_iterations = static_cast<std::uint64_t>(num("dropped_iterations"));
  r.results.connect_failures = static_cast<std::uint64_t>(num("connect_failures"));
  r.results.backoff_waits = static_cast<std::uint64_t>(num("backoff_waits"));
  r.results.connect_backoff_ms = o->if_contains("connect_backoff_ms")
                                     ? static_cast<std::int64_t>(num("connect_backoff_ms"))
                                     : -1;
  if (auto* tl = o->if_contains("timeline"); tl && tl->is_array()) {
    for (const auto& item : tl->as_array()) {
      const auto* io = item.if_object();
      if (!io) return bad("results: bad timeline entry");
      Second s;
      auto u = [&](const char* key) -> std::uint64_t {
        auto* v = io->if_contains(key);
        return v && v->is_number() ? v->to_number<std::uint64_t>() : 0;
      };
      s.requests = u("requests");
      s.errors = u("errors");
      s.throttled = u("throttled");
      s.prompt_tokens = u("prompt_tokens");
      s.completion_tokens = u("completion_tokens");
      s.vus = u("vus");
      for (auto [key, hist] : {std::pair{"e2e_us", &s.e2e}, std::pair{"ttft_us", &s.ttft}}) {
        auto* hv = io->if_contains(key);
        if (!hv) return bad(std::string("results: timeline entry without ") + key);
        auto h = core::Histogram::from_json(*hv);
        if (!h) return bad("results: timeline " + std::string(key) + ": " + h.error().message);
        *hist = std::move(*h);
      }
      auto* tv = io->if_contains("t");
      if (!tv || !tv->is_number()) return bad("results: timeline entry without t");
      r.results.timeline[tv->to_number<std::int64_t>()] = std::move(s);
    }
  }
  if (auto* sm = o->if_contains("server_metrics"); sm && sm->is_array()) {
    for (const auto& item : sm->as_array()) {
      const auto* io = item.if_object();
      if (!io) continue;
      ScrapedSeries s;
      if (auto* v = io->if_contains("target"); v && v->is_string())
        s.target = std::string(v->as_string());
      if (auto* v = io->if_contains("metric"); v && v->is_string())
        s.metric = std::string(v->as_string());
      if (auto* pts = io->if_contains("points"); pts && pts->is_array()) {
        for (const auto& p : pts->as_array()) {
          if (p.is_array() && p.as_array().size() == 2) {
            s.points.emplace_back(p.as_array()[0].to_number<std::int64_t>(),
                                  p.as_array()[1].to_number<double>());
          }
        }
      }
      r.server_metrics.push_back(std::move(s));
    }
  }
  r.evaluate();
  return r;
}

core::Result<RunReport> read_results(const fs::path& given) {
  fs::path path = given;
  if (fs::is_directory(path)) path /= "results.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Error{core::ErrorCode::kNotFound, path.string() + ": cannot open"};
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(ss.str(), ec);
  if (ec) return bad(path.string() + ": not JSON: " + ec.message());
  auto r = report_from_json(v);
  if (!r) return bad(path.string() + ": " + r.error().message);
  return r;
}

core::Result<void> write_results(const RunReport& report, const fs::path& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) return core::Error{core::ErrorCode::kInvalidArgument, "cannot write " + path.string()};
  out << json::serialize(to_json(report)) << '\n';
  if (!out) return core::Error{core::ErrorCode::kDataLoss, "write failed: " + path.string()};
  return {};
}

RunReport merge_reports(const std::vector<RunReport>& reports) {
  RunReport m;
  if (reports.empty()) return m;
  m = reports.front();
  m.results = Results{};
  m.server_metrics.clear();
  m.engine_index = -1;
  m.engines_merged = 0;
  m.max_vus = 0;
  m.auto_stopped = false;
  m.stopped_by_test = false;
  m.stop_reason.clear();
  for (const auto& r : reports) {
    m.results.merge(r.results);
    m.started_at_ms = std::min(m.started_at_ms, r.started_at_ms);
    m.ended_at_ms = std::max(m.ended_at_ms, r.ended_at_ms);
    m.max_vus += r.max_vus;
    m.engines_merged += r.engines_merged;
    m.auto_stopped |= r.auto_stopped;
    m.stopped_by_test |= r.stopped_by_test;
    if (m.stop_reason.empty()) m.stop_reason = r.stop_reason;
    m.server_metrics.insert(m.server_metrics.end(), r.server_metrics.begin(),
                            r.server_metrics.end());
  }
  m.evaluate();
  return m;
}

std::string summary_text(const RunReport& r) {
  std::ostringstream out;
  double d = r.duration_s();
  char line[512];
  std::snprintf(line, sizeof line, "%-24s %9s %7s %9s %8s %9s %9s %9s %9s %9s %10s\n", "label",
                "requests", "errors", "throttled", "req/s", "p50 ms", "p95 ms", "p99 ms",
                "ttft p95", "itl p95", "tokens/min");
  out << line;
  auto row = [&](const std::string& name, const Stats& s) {
    auto p = [](const core::Histogram& h, double q) {
      return h.count() ? fmt_num(ms(h.percentile(q)), 1) : std::string("-");
    };
    std::snprintf(
        line, sizeof line, "%-24s %9llu %7llu %9llu %8s %9s %9s %9s %9s %9s %10s\n",
        name.substr(0, 24).c_str(), static_cast<unsigned long long>(s.requests),
        static_cast<unsigned long long>(s.errors), static_cast<unsigned long long>(s.throttled),
        fmt_num(d > 0 ? static_cast<double>(s.requests) / d : 0, 1).c_str(), p(s.e2e, 50).c_str(),
        p(s.e2e, 95).c_str(), p(s.e2e, 99).c_str(), p(s.ttft, 95).c_str(), p(s.itl, 95).c_str(),
        fmt_num(d > 0 ? static_cast<double>(s.prompt_tokens + s.completion_tokens) * 60 / d : 0, 0)
            .c_str());
    out << line;
  };
  for (const auto& [label, s] : r.results.labels) row(label, s);
  if (r.results.labels.size() != 1) row("TOTAL", r.results.total);
  if (r.results.dropped_iterations) {
    out << "dropped iterations (no free VU, queue full or run ended): "
        << r.results.dropped_iterations << "\n";
  }
  if (r.results.connect_failures) out << connect_failure_note(r.results) << "\n";
  if (!r.criteria.empty()) out << "\ncriteria:\n";
  for (std::size_t i = 0; i < r.outcomes.size(); ++i) {
    const auto& o = r.outcomes[i];
    out << "  " << (o.failed ? "FAIL " : (o.actual ? "pass " : "n/a  ")) << o.criterion.text
        << "  (actual " << (o.actual ? fmt_num(*o.actual, 2) : std::string("no data")) << ")\n";
  }
  if (!r.stop_reason.empty()) out << "stopped: " << r.stop_reason << "\n";
  out << "verdict: " << (r.passed() ? "PASSED" : "FAILED") << "\n";
  return out.str();
}

std::string compare_text(const RunReport& a, const RunReport& b) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-26s %14s %14s %9s\n", "metric", "A", "B", "change");
  out << "A: " << a.test_id << " (" << a.started_at_ms << ")\nB: " << b.test_id << " ("
      << b.started_at_ms << ")\n";
  out << line;
  auto add = [&](const char* name, double va, double vb, int decimals) {
    std::string change = va != 0 ? fmt_num(100.0 * (vb - va) / va, 1) + "%" : "-";
    if (va != 0 && vb >= va) change = "+" + change;
    std::snprintf(line, sizeof line, "%-26s %14s %14s %9s\n", name, fmt_num(va, decimals).c_str(),
                  fmt_num(vb, decimals).c_str(), change.c_str());
    out << line;
  };
  const auto& sa = a.results.total;
  const auto& sb = b.results.total;
  double da = a.duration_s(), db = b.duration_s();
  add("requests", static_cast<double>(sa.requests), static_cast<double>(sb.requests), 0);
  add("errors", static_cast<double>(sa.errors), static_cast<double>(sb.errors), 0);
  add("throttled", static_cast<double>(sa.throttled), static_cast<double>(sb.throttled), 0);
  add("requests/s", da > 0 ? static_cast<double>(sa.requests) / da : 0,
      db > 0 ? static_cast<double>(sb.requests) / db : 0, 2);
  add("tokens/min",
      da > 0 ? static_cast<double>(sa.prompt_tokens + sa.completion_tokens) * 60 / da : 0,
      db > 0 ? static_cast<double>(sb.prompt_tokens + sb.completion_tokens) * 60 / db : 0, 0);
  for (double q : {50.0, 95.0, 99.0}) {
    std::string n = "response p" + fmt_num(q, 0) + " ms";
    add(n.c_str(), ms(sa.e2e.percentile(q)), ms(sb.e2e.percentile(q)), 1);
  }
  for (double q : {50.0, 95.0}) {
    std::string n = "ttft p" + fmt_num(q, 0) + " ms";
    add(n.c_str(), ms(sa.ttft.percentile(q)), ms(sb.ttft.percentile(q)), 1);
  }
  add("itl p95 ms", ms(sa.itl.percentile(95)), ms(sb.itl.percentile(95)), 2);
  out << "verdict A: " << (a.passed() ? "passed" : "failed")
      << ", B: " << (b.passed() ? "passed" : "failed") << "\n";
  return out.str();
}

}  // namespace sluice::loadgen
