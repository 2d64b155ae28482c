#include "gateway/policies/metrics/metrics_policy.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>

namespace sluice::gateway {

namespace {

using Clock = std::chrono::steady_clock;
using Kind = MetricDimension::Kind;
constexpr std::size_t kMaxDimensions = 16;

std::uint64_t micros(Clock::duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string label_from(std::string_view name) {
  std::string out;
  for (char c : name) {
    out.push_back((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c
                  : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a')
                                           : '_');
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(0, "_");
  return out;
}

std::vector<std::string> with(std::vector<std::string> labels, std::string extra) {
  labels.push_back(std::move(extra));
  return labels;
}

}  // namespace

const std::vector<std::uint64_t>& MetricBuckets::duration() {
  // OpenTelemetry's advice for gen_ai.client.operation.duration (seconds), in microseconds.
  static const std::vector<std::uint64_t> b = {
      10'000,    20'000,    40'000,    80'000,     160'000,    320'000,    640'000,
      1'280'000, 2'560'000, 5'120'000, 10'240'000, 20'480'000, 40'960'000, 81'920'000};
  return b;
}
const std::vector<std::uint64_t>& MetricBuckets::time_to_first_token() {
  static const std::vector<std::uint64_t> b = {
      1'000,   5'000,   10'000,  20'000,    40'000,    60'000,    80'000,    100'000,
      250'000, 500'000, 750'000, 1'000'000, 2'500'000, 5'000'000, 7'500'000, 10'000'000};
  return b;
}
const std::vector<std::uint64_t>& MetricBuckets::time_per_output_token() {
  static const std::vector<std::uint64_t> b = {1'000,   5'000,   10'000,  25'000,    50'000,
                                               75'000,  100'000, 150'000, 200'000,   300'000,
                                               400'000, 500'000, 750'000, 1'000'000, 2'500'000};
  return b;
}
const std::vector<std::uint64_t>& MetricBuckets::overhead() {
  static const std::vector<std::uint64_t> b = {25,    50,    100,    250,    500,    1'000,
                                               2'500, 5'000, 10'000, 25'000, 50'000, 100'000};
  return b;
}
const std::vector<std::uint64_t>& MetricBuckets::tokens() {
  // OpenTelemetry's advice for gen_ai.client.token.usage.
  static const std::vector<std::uint64_t> b = {
      1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};
  return b;
}

MetricsSettings MetricsSettings::from_config(const core::ConfigNode& node) {
  static const std::pair<std::string_view, MetricDimension> kNamed[] = {
      {"app", {Kind::kApp, "app", ""}},
      {"key", {Kind::kKey, "key_id", ""}},
      {"client_ip", {Kind::kClientIp, "client_address", ""}},
      {"route", {Kind::kRoute, "route", ""}},
      {"deployment", {Kind::kDeployment, "deployment", ""}},
      {"model", {Kind::kModel, "gen_ai_response_model", ""}},
      {"backend", {Kind::kBackend, "backend", ""}},
      {"operation", {Kind::kOperation, "gen_ai_operation_name", ""}},
  };
  MetricsSettings s;
  s.max_series = node.optional<std::size_t>("max_series", s.max_series);
  if (s.max_series < 1) node.fail_at("max_series", "must be at least 1");
  auto dimensions = node.find("dimensions");
  if (!dimensions) {
    for (const char* name : {"app", "deployment", "model", "backend", "operation"}) {
      for (const auto& [key, d] : kNamed) {
        if (key == name) s.dimensions.push_back(d);
      }
    }
  } else {
    for (const auto& item : dimensions->items()) {
      MetricDimension d;
      if (item.is_scalar()) {
        const auto& name = item.scalar();
        bool found = false;
        for (const auto& [key, named] : kNamed) {
          if (key == name) {
            d = named;
            found = true;
          }
        }
        if (!found) {
          item.fail("unknown dimension '" + name +
                    "' (use app, key, client_ip, route, deployment, model, backend, operation, "
                    "{header: NAME} or {claim: NAME})");
        }
      } else {
        auto header = item.get<std::string>("header");
        auto claim = item.get<std::string>("claim");
        if (header.has_value() == claim.has_value()) {
          item.fail("a custom dimension names exactly one of `header` or `claim`");
        }
        d.kind = header ? Kind::kHeader : Kind::kClaim;
        d.name = header ? *header : *claim;
        d.label = item.optional<std::string>("label", label_from(d.name));
        if (!valid_label_name(d.label)) {
          item.fail_at("label", "'" + d.label + "' is not a valid Prometheus label name");
        }
        item.finish();
      }
      for (const auto& other : s.dimensions) {
        if (other.label == d.label) item.fail("duplicate dimension label '" + d.label + "'");
      }
      if (d.label == "le" || d.label == "type" || d.label == "status" ||
          d.label == "gen_ai_token_type" || d.label == "usage_source") {
        item.fail("label '" + d.label + "' is reserved by the metrics themselves");
      }
      s.dimensions.push_back(std::move(d));
    }
    if (s.dimensions.size() > kMaxDimensions) dimensions->fail("at most 16 dimensions");
  }
  node.finish();
  return s;
}

namespace {
std::atomic<std::uint64_t> next_policy_uid{1};
}  // namespace

MetricsPolicy::MetricsPolicy(MetricsSettings settings, usage::MetricRegistry& registry)
    : uid_(next_policy_uid.fetch_add(1, std::memory_order_relaxed)),
      settings_(std::move(settings)) {
  std::vector<std::string> labels;
  for (const auto& d : settings_.dimensions) labels.push_back(d.label);
  using usage::MetricType;
  auto n = settings_.max_series;
  tokens_ = registry.family({.name = "sluice_tokens_total",
                             .help = "Tokens used, by type; usage_source says whether the backend "
                                     "reported them or sluice counted them.",
                             .variant_label = "type",
                             .variants = {"prompt", "completion", "total", "cached", "reasoning"},
                             .labels = with(labels, "usage_source"),
                             .max_series = n});
  token_usage_ =
      registry.family({.name = "gen_ai_client_token_usage",
                       .help = "Tokens per request (OpenTelemetry gen_ai.client.token.usage).",
                       .type = MetricType::kHistogram,
                       .variant_label = "gen_ai_token_type",
                       .variants = {"input", "output"},
                       .labels = labels,
                       .max_series = n,
                       .bounds = MetricBuckets::tokens()});
  requests_ = registry.family({.name = "sluice_requests_total",
                               .help = "Requests answered, by HTTP status sent to the client.",
                               .labels = with(labels, "status"),
                               .max_series = n});
  duration_ = registry.family(
      {.name = "gen_ai_client_operation_duration_seconds",
       .help =
           "Request duration from its headers to the end of the response, as the gateway saw it.",
       .type = MetricType::kHistogram,
       .labels = labels,
       .max_series = n,
       .bounds = MetricBuckets::duration(),
       .scale = 1e-6});
  ttft_ = registry.family({.name = "gen_ai_server_time_to_first_token_seconds",
                           .help = "Time to the first streamed token, from the request's headers.",
                           .type = MetricType::kHistogram,
                           .labels = labels,
                           .max_series = n,
                           .bounds = MetricBuckets::time_to_first_token(),
                           .scale = 1e-6});
  tpot_ = registry.family({.name = "gen_ai_server_time_per_output_token_seconds",
                           .help = "Time per output token after the first, for streamed responses.",
                           .type = MetricType::kHistogram,
                           .labels = labels,
                           .max_series = n,
                           .bounds = MetricBuckets::time_per_output_token(),
                           .scale = 1e-6});
  overhead_ = registry.family({.name = "sluice_gateway_overhead_seconds",
                               .help = "Time the gateway adds before the first upstream send "
                                       "(identity, limits, routing).",
                               .type = MetricType::kHistogram,
                               .max_series = 1,
                               .bounds = MetricBuckets::overhead(),
                               .scale = 1e-6});
}

// The series a worker thread looked up for its last request, kept for its next: a look-up joins
// the label values, hashes them and searches the thread's map (~430 instructions), a request
// makes five or six, and consecutive requests mostly share their app, deployment and backend.
// One per thread, holding the series of the policy that ran on it last (a thread that serves two
// metrics policies in turn looks its series up each time, as before).
struct MetricsPolicy::LastSeries {
  using Series = usage::MetricFamily::Series;
  std::uint64_t policy = 0;         // uid of the policy these series belong to; 0: none
  std::vector<std::string> values;  // the dimension values they were looked up for
  // cells == nullptr: not looked up since the values last changed.
  Series token_usage, duration, ttft, tpot, overhead;
  Series requests;  // for requests_status
  unsigned requests_status = 0;
  Series tokens;  // for tokens_source
  UsageSource tokens_source = UsageSource::kNone;
};

MetricsPolicy::LastSeries& MetricsPolicy::last_series(
    std::span<const std::string_view> values) const {
  thread_local LastSeries last;
  const bool same = last.policy == uid_ && last.values.size() == values.size() &&
                    std::equal(values.begin(), values.end(), last.values.begin());
  if (!same) {
    std::vector<std::string> kept = std::move(last.values);  // its strings' space is reused
    kept.resize(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) kept[i].assign(values[i]);
    last = LastSeries{};
    last.policy = uid_;
    last.values = std::move(kept);
  }
  return last;
}

namespace {

// `slot` if it holds series, else the family's look-up, kept in `slot` unless it was folded past
// the cap (each look-up of a folded label set counts an overflow, so it is looked up every time).
usage::MetricFamily::Series remembered(usage::MetricFamily& family,
                                       usage::MetricFamily::Series& slot,
                                       std::span<const std::string_view> values) {
  if (slot.cells) return slot;
  auto series = family.series(values);
  if (!series.folded) slot = series;
  return series;
}

}  // namespace

void MetricsPolicy::on_complete(RequestContext& c) {
  std::array<std::string_view, kMaxDimensions + 1> values{};
  std::size_t count = 0;
  for (const auto& d : settings_.dimensions) {
    std::string_view value;
    switch (d.kind) {
      case Kind::kApp:
        value = c.identity().app_id;
        break;
      case Kind::kKey:
        value = c.identity().key_id;
        break;
      case Kind::kClientIp:
        value = c.client_ip;
        break;
      case Kind::kRoute:
        value = c.route ? std::string_view(c.route->name) : std::string_view();
        break;
      case Kind::kDeployment:
        value = c.deployment;
        break;
      case Kind::kModel:
        value = c.response_model;
        break;
      case Kind::kBackend:
        value = c.backend;
        break;
      case Kind::kOperation:
        value = to_string(c.target.operation);
        break;
      case Kind::kHeader: {
        const auto& request = c.exchange.request();
        if (auto it = request.find(d.name); it != request.end()) {
          value = std::string_view(it->value().data(), it->value().size());
        }
        break;
      }
      case Kind::kClaim:
        if (auto it = c.identity().claims.find(d.name); it != c.identity().claims.end())
          value = it->second;
        break;
    }
    values[count++] = value;
  }
  std::span<const std::string_view> dims(values.data(), count);
  LastSeries& last = last_series(dims);

  // Requests by status.
  if (last.requests_status != c.status) {
    last.requests = {};
    last.requests_status = c.status;
  }
  char status_text[8];
  auto [end, ec] = std::to_chars(status_text, status_text + sizeof status_text, c.status);
  values[count] = std::string_view(status_text, static_cast<std::size_t>(end - status_text));
  usage::MetricFamily::add(remembered(*requests_, last.requests, {values.data(), count + 1}), 0, 1);

  const auto& u = c.usage;
  if (u.source != UsageSource::kNone || u.total_tokens > 0) {
    if (last.tokens_source != u.source) {
      last.tokens = {};
      last.tokens_source = u.source;
    }
    values[count] = to_string(u.source);
    auto series = remembered(*tokens_, last.tokens, {values.data(), count + 1});
    auto positive = [](std::int64_t v) { return v > 0 ? static_cast<std::uint64_t>(v) : 0; };
    usage::MetricFamily::add(series, 0, positive(u.prompt_tokens));
    usage::MetricFamily::add(series, 1, positive(u.completion_tokens));
    usage::MetricFamily::add(series, 2, positive(u.total_tokens));
    usage::MetricFamily::add(series, 3, positive(u.cached_tokens));
    usage::MetricFamily::add(series, 4, positive(u.reasoning_tokens));
    auto histogram = remembered(*token_usage_, last.token_usage, dims);
    token_usage_->observe(histogram, 0, positive(u.prompt_tokens));
    token_usage_->observe(histogram, 1, positive(u.completion_tokens));
  }

  auto received = c.received_at;
  if (received != Clock::time_point{} && c.completed_at >= received) {
    duration_->observe(remembered(*duration_, last.duration, dims), 0,
                       micros(c.completed_at - received));
    if (c.upstream_sent_at != Clock::time_point{}) {
      overhead_->observe(remembered(*overhead_, last.overhead, {}), 0,
                         micros(c.upstream_sent_at - received));
    }
    if (c.first_token_at != Clock::time_point{}) {
      ttft_->observe(remembered(*ttft_, last.ttft, dims), 0, micros(c.first_token_at - received));
      if (u.completion_tokens > 1 && c.completed_at > c.first_token_at) {
        tpot_->observe(remembered(*tpot_, last.tpot, dims), 0,
                       micros(c.completed_at - c.first_token_at) /
                           static_cast<std::uint64_t>(u.completion_tokens - 1));
      }
    }
  }
}

PolicyPtr make_metrics_policy(const core::ConfigNode& section, PolicyServices& services) {
  return std::make_shared<MetricsPolicy>(MetricsSettings::from_config(section), *services.metrics);
}

}  // namespace sluice::gateway
