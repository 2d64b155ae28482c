#include "sluice/loadgen/metrics.hpp"

#include <boost/json.hpp>

namespace sluice::loadgen {
namespace json = boost::json;

void Stats::record(const Sample& s) {
  ++requests;
  if (!s.success) ++errors;
  if (s.throttled) ++throttled;
  if (s.prompt_tokens > 0) prompt_tokens += static_cast<std::uint64_t>(s.prompt_tokens);
  if (s.completion_tokens > 0) completion_tokens += static_cast<std::uint64_t>(s.completion_tokens);
  if (s.tokens_estimated) ++estimated;
  bytes += s.bytes;
  sent_bytes += s.sent_bytes;
  e2e.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.e2e_us)));
  if (s.ttfb_us >= 0) ttfb.record(static_cast<std::uint64_t>(s.ttfb_us));
  if (s.ttft_us >= 0) ttft.record(static_cast<std::uint64_t>(s.ttft_us));
  if (s.queue_us > 0) queue.record(static_cast<std::uint64_t>(s.queue_us));
  for (auto gap : s.itl_us) itl.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, gap)));
  if (s.success && s.ttft_us >= 0 && s.completion_tokens > 1 && s.e2e_us > s.ttft_us) {
    double per_sec = static_cast<double>(s.completion_tokens - 1) * 1e6 /
                     static_cast<double>(s.e2e_us - s.ttft_us);
    tokens_per_sec.record(static_cast<std::uint64_t>(per_sec * 1000.0));
  }
  ++statuses[s.status];
}

void Stats::merge(const Stats& o) {
  requests += o.requests;
  errors += o.errors;
  throttled += o.throttled;
  prompt_tokens += o.prompt_tokens;
  completion_tokens += o.completion_tokens;
  estimated += o.estimated;
  bytes += o.bytes;
  sent_bytes += o.sent_bytes;
  e2e.merge(o.e2e);
  ttfb.merge(o.ttfb);
  ttft.merge(o.ttft);
  itl.merge(o.itl);
  tokens_per_sec.merge(o.tokens_per_sec);
  queue.merge(o.queue);
  for (const auto& [code, n] : o.statuses) statuses[code] += n;
}

json::value Stats::to_json() const {
  json::object o;
  o["requests"] = requests;
  o["errors"] = errors;
  o["throttled"] = throttled;
  o["prompt_tokens"] = prompt_tokens;
  o["completion_tokens"] = completion_tokens;
  o["estimated_token_samples"] = estimated;
  o["bytes"] = bytes;
  o["sent_bytes"] = sent_bytes;
  json::object st;
  for (const auto& [code, n] : statuses) st[std::to_string(code)] = n;
  o["statuses"] = std::move(st);
  json::object h;
  h["e2e_us"] = e2e.to_json();
  h["ttfb_us"] = ttfb.to_json();
  h["ttft_us"] = ttft.to_json();
  h["itl_us"] = itl.to_json();
  h["tokens_per_sec_milli"] = tokens_per_sec.to_json();
  h["queue_us"] = queue.to_json();
  o["histograms"] = std::move(h);
  return o;
}

namespace {
core::Error bad(std::string what) {
  return core::Error{core::ErrorCode::kInvalidArgument, "results: " + std::move(what)};
}
core::Result<std::uint64_t> get_u64(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return bad("missing \"" + std::string(key) + "\"");
  if (auto* u = v->if_uint64()) return *u;
  if (auto* i = v->if_int64(); i && *i >= 0) return static_cast<std::uint64_t>(*i);
  return bad("\"" + std::string(key) + "\" is not a non-negative integer");
}
}  // namespace

core::Result<Stats> Stats::from_json(const json::value& value) {
  const auto* o = value.if_object();
  if (!o) return bad("stats is not an object");
  Stats s;
  struct Field {
    const char* key;
    std::uint64_t* out;
  } fields[] = {{"requests", &s.requests},
                {"errors", &s.errors},
                {"throttled", &s.throttled},
                {"prompt_tokens", &s.prompt_tokens},
                {"completion_tokens", &s.completion_tokens},
                {"estimated_token_samples", &s.estimated},
                {"bytes", &s.bytes},
                {"sent_bytes", &s.sent_bytes}};
  for (auto& f : fields) {
    auto v = get_u64(*o, f.key);
    if (!v) return v.error();
    *f.out = *v;
  }
  if (auto* st = o->if_contains("statuses"); st && st->is_object()) {
    for (const auto& [code, n] : st->as_object()) {
      if (!n.is_number()) return bad("status count is not a number");
      s.statuses[std::atoi(std::string(code).c_str())] = n.to_number<std::uint64_t>();
    }
  }
  const auto* h = o->if_contains("histograms");
  if (!h || !h->is_object()) return bad("missing \"histograms\"");
  struct Hist {
    const char* key;
    core::Histogram* out;
  } hists[] = {{"e2e_us", &s.e2e},
               {"ttfb_us", &s.ttfb},
               {"ttft_us", &s.ttft},
               {"itl_us", &s.itl},
               {"tokens_per_sec_milli", &s.tokens_per_sec},
               {"queue_us", &s.queue}};
  for (auto& hh : hists) {
    const auto* v = h->as_object().if_contains(hh.key);
    if (!v) return bad(std::string("missing histogram ") + hh.key);
    auto parsed = core::Histogram::from_json(*v);
    if (!parsed) return bad(std::string(hh.key) + ": " + parsed.error().message);
    *hh.out = std::move(*parsed);
  }
  return s;
}

void Second::record(const Sample& s) {
  ++requests;
  if (!s.success) ++errors;
  if (s.throttled) ++throttled;
  if (s.prompt_tokens > 0) prompt_tokens += static_cast<std::uint64_t>(s.prompt_tokens);
  if (s.completion_tokens > 0) completion_tokens += static_cast<std::uint64_t>(s.completion_tokens);
  e2e.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.e2e_us)));
  if (s.ttft_us >= 0) ttft.record(static_cast<std::uint64_t>(s.ttft_us));
}

void Second::merge(const Second& o) {
  requests += o.requests;
  errors += o.errors;
  throttled += o.throttled;
  prompt_tokens += o.prompt_tokens;
  completion_tokens += o.completion_tokens;
  vus += o.vus;
  e2e.merge(o.e2e);
  ttft.merge(o.ttft);
}

void Results::record(const std::string& label, const Sample& sample) {
  total.record(sample);
  if (!cache_.stats || cache_.label != label) {
    auto it = labels.find(label);
    if (it == labels.end()) it = labels.emplace(label, Stats{}).first;
    cache_.label = label;
    cache_.stats = &it->second;
  }
  cache_.stats->record(sample);
  std::int64_t second = sample.timestamp_ms / 1000;
  if (!cache_.second || second != cache_.second_key) {
    cache_.second = &timeline[second];
    cache_.second_key = second;
  }
  cache_.second->record(sample);
}

void Results::merge(const Results& other) {
  total.merge(other.total);
  for (const auto& [label, stats] : other.labels) labels[label].merge(stats);
  for (const auto& [second, stats] : other.timeline) timeline[second].merge(stats);
  dropped_iterations += other.dropped_iterations;
  connect_failures += other.connect_failures;
  backoff_waits += other.backoff_waits;
  connect_backoff_ms = std::max(connect_backoff_ms, other.connect_backoff_ms);
}

}  // namespace sluice::loadgen
