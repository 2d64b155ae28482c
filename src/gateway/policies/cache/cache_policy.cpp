#include "gateway/policies/cache/cache_policy.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json.hpp>

#include "gateway/policies/cache/answer_codec.hpp"
#include "gateway/policies/cache/request_key.hpp"
#include "sluice/usage/metric_registry.hpp"

namespace sluice::gateway {

namespace {

using cache::cache_stats;
constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr std::string_view kCacheHeader = "x-sluice-cache";

// The Cache-Control directives a client may send that concern the cache (RFC 9111 5.2.1).
struct ClientDirectives {
  bool no_cache = false;  // do not answer from the cache (the fresh answer may be kept)
  bool no_store = false;  // neither answer from the cache nor keep the answer
};

ClientDirectives directives_of(const http::Request& request) {
  ClientDirectives d;
  for (auto it = request.find(http::Field::cache_control);
       it != request.end() && it->name() == http::Field::cache_control; ++it) {
    std::string value(it->value());
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (value.find("no-store") != std::string::npos) d.no_store = true;
    if (value.find("no-cache") != std::string::npos) d.no_cache = true;
  }
  return d;
}

// Whether the request samples (temperature > 0). The API's default temperature is 1.
bool samples(const boost::json::object& body) {
  auto* t = body.if_contains("temperature");
  if (!t || t->is_null()) return true;
  if (t->is_double()) return t->get_double() > 0;
  if (t->is_int64()) return t->get_int64() > 0;
  if (t->is_uint64()) return t->get_uint64() > 0;
  return true;
}

void append_part(std::string& out, std::string_view part) {
  out += std::to_string(part.size());
  out += ':';
  out += part;
}

// The sluice_cache_* metrics, declared in one place; contributed once per registry.
struct Contributions {
  std::vector<std::shared_ptr<void>> tokens;
};

std::shared_ptr<Contributions> contribute_metrics(usage::MetricRegistry& registry) {
  auto shared = std::make_shared<Contributions>();
  auto& s = cache_stats();
  auto add = [&](const char* name, const char* help, const char* type, std::string labels,
                 auto value) {
    shared->tokens.push_back(registry.contribute(
        name, help, type, [name = std::string(name), labels, value](std::string& out) {
          out += name + labels + " " + std::to_string(value()) + "\n";
        }));
  };
  add("sluice_cache_hits_total", "Requests answered from the response cache.", "counter", "",
      [&s] { return s.hits.load(kRelaxed); });
  add("sluice_cache_misses_total", "Requests looked up in the response cache and not found.",
      "counter", "", [&s] { return s.misses.load(kRelaxed); });
  const char* bypass = "Requests the response cache stepped aside for, by reason.";
  add("sluice_cache_bypassed_total", bypass, "counter", "{reason=\"no_store\"}",
      [&s] { return s.bypass_no_store.load(kRelaxed); });
  add("sluice_cache_bypassed_total", bypass, "counter", "{reason=\"sampling\"}",
      [&s] { return s.bypass_sampling.load(kRelaxed); });
  add("sluice_cache_bypassed_total", bypass, "counter", "{reason=\"unparsable\"}",
      [&s] { return s.bypass_unparsable.load(kRelaxed); });
  add("sluice_cache_bypassed_total", bypass, "counter", "{reason=\"store_unavailable\"}",
      [&s] { return s.bypass_store_unavailable.load(kRelaxed); });
  add("sluice_cache_store_failures_total",
      "Redis look-ups and writes of the response cache that failed (down, timeout, error).",
      "counter", "", [&s] { return s.store_failures.load(kRelaxed); });
  add("sluice_cache_stores_total", "Answers kept in the response cache.", "counter", "",
      [&s] { return s.stores.load(kRelaxed); });
  add("sluice_cache_not_stored_total",
      "Answers of cache misses not kept (errors, content-filter hits, tool calls, too large).",
      "counter", "", [&s] { return s.not_stored.load(kRelaxed); });
  add("sluice_cache_evictions_total", "Entries removed to keep the store within max_bytes.",
      "counter", "", [&s] { return s.evictions.load(kRelaxed); });
  add("sluice_cache_expirations_total", "Entries removed because their TTL ran out.", "counter", "",
      [&s] { return s.expirations.load(kRelaxed); });
  add("sluice_cache_tokens_saved_total",
      "Total tokens the answers served from the cache cost when they were made.", "counter", "",
      [&s] { return s.tokens_saved.load(kRelaxed); });
  add("sluice_cache_bytes", "Bytes held by the response cache stores.", "gauge", "",
      [&s] { return s.bytes.load(kRelaxed); });
  add("sluice_cache_entries", "Entries held by the response cache stores.", "gauge", "",
      [&s] { return s.entries.load(kRelaxed); });
  return shared;
}

}  // namespace

namespace cache {
CacheStats& cache_stats() {
  static CacheStats stats;
  return stats;
}
}  // namespace cache

struct CachePolicy::Pending : RequestContext::PolicyState {
  std::string key;
  bool capture_failed = false;  // the stream grew past max_entry_bytes
  std::size_t captured_bytes = 0;
  std::vector<std::string> events;  // a streamed answer's data payloads
};

CachePolicy::CachePolicy(cache::CacheSettings settings, const core::Clock& clock,
                         std::shared_ptr<void> keep_alive,
                         std::shared_ptr<usage::MetricFamily> lookup_seconds)
    : settings_(std::move(settings)),
      clock_(clock),
      store_(settings_.max_bytes, cache_stats()),
      keep_alive_(std::move(keep_alive)),
      lookup_seconds_(std::move(lookup_seconds)) {
  if (settings_.store == cache::CacheSettings::Store::kRedis) {
    redis_ = std::make_unique<cache::RedisAnswerStore>(settings_.redis);
  }
}

std::string CachePolicy::partition_of(const RequestContext& context) const {
  std::string out;
  for (const auto& part : settings_.vary_by) append_part(out, part.value_in(context));
  return out;
}

http::Task<std::optional<http::Response>> CachePolicy::on_request(RequestContext& context) {
  if (context.target.operation != Operation::kChatCompletions || !context.body.parsed) {
    co_return std::nullopt;
  }
  auto& stats = cache_stats();
  const auto& request = context.exchange.request();
  auto directives = directives_of(request);
  auto bypass = [&](std::atomic<std::uint64_t>& counter) {
    counter.fetch_add(1, kRelaxed);
    context.response_headers.emplace_back(kCacheHeader, "bypass");
    context.cache_decision = "bypass";
  };
  if (directives.no_store) {
    bypass(stats.bypass_no_store);
    co_return std::nullopt;
  }
  boost::json::error_code ec;
  auto body = boost::json::parse(request.body(), ec);
  if (ec || !body.is_object()) {
    bypass(stats.bypass_unparsable);
    co_return std::nullopt;
  }
  if (!settings_.allow_sampling && samples(body.get_object())) {
    bypass(stats.bypass_sampling);
    co_return std::nullopt;
  }
  // Look-up latency: key (normalise, hash) and store round trip, what a hit costs before sending.
  auto lookup_started = std::chrono::steady_clock::now();
  auto partition = partition_of(context);
  auto normalised = cache::normalised_body(
      body.get_object(), cache::KeyFields{settings_.ignore_fields, settings_.match_fields});
  auto key = cache::request_key(cache::KeyParts{context.route ? context.route->name : "",
                                                context.deployment, context.target.operation_path,
                                                partition, normalised});
  if (!directives.no_cache) {
    std::shared_ptr<const cache::CachedAnswer> answer;
    if (redis_) {
      auto found = co_await redis_->find(key, clock_.steady_now());
      if (!found.reachable) {
        stats.store_failures.fetch_add(1, kRelaxed);
        if (redis_->settings().on_failure == token_limit::FailureMode::kFailClosed) {
          context.error_code = "cache_unavailable";
          context.cache_decision = "unavailable";
          co_return http::openai_error_response(
              http::Status::service_unavailable, "cache_unavailable",
              "The response cache cannot be reached right now. Please retry shortly.", 11);
        }
        // Fail open: the backend answers, and its answer is not kept (Redis is down anyway).
        bypass(stats.bypass_store_unavailable);
        co_return std::nullopt;
      }
      answer = std::move(found.answer);
    } else {
      answer = store_.find(key, clock_.steady_now());
    }
    if (lookup_seconds_) {
      auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - lookup_started)
                        .count();
      lookup_seconds_->observe(lookup_seconds_->series({}), redis_ ? 1 : 0,
                               static_cast<std::uint64_t>(micros));
    }
    if (answer) {
      stats.hits.fetch_add(1, kRelaxed);
      stats.tokens_saved.fetch_add(
          static_cast<std::uint64_t>(std::max<std::int64_t>(0, answer->total_tokens)), kRelaxed);
      co_return hit_response(context, *answer);
    }
  }
  stats.misses.fetch_add(1, kRelaxed);
  context.response_headers.emplace_back(kCacheHeader, "miss");
  context.cache_decision = "miss";
  auto pending = std::make_unique<Pending>();
  pending->key = std::move(key);
  context.policy_state.emplace_back(this, std::move(pending));
  co_return std::nullopt;
}

http::Response CachePolicy::hit_response(RequestContext& context,
                                         const cache::CachedAnswer& answer) {
  context.cache.kind = "exact";
  context.cache_decision = "hit";
  context.cache.tokens_saved = answer.total_tokens;
  context.response_model = answer.model;
  context.usage = TokenUsage{};  // no backend tokens
  http::Response response{http::Status::ok, 11};
  if (context.body.stream) {
    context.streamed = true;
    // What the prompt log keeps of a stream (it has no body to read).
    context.completion_text = cache::first_content(answer);
    response.set(http::Field::content_type, "text/event-stream; charset=utf-8");
    response.set(http::Field::cache_control, "no-cache");
    response.body() = cache::render_stream(answer, context.body.include_usage);
  } else {
    response.set(http::Field::content_type, "application/json");
    response.body() = answer.body;
  }
  auto age =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.steady_now() - answer.stored_at);
  response.set(http::Field::age, std::to_string(std::max<std::int64_t>(0, age.count())));
  response.set(kCacheHeader, "hit");
  response.prepare_payload();
  return response;
}

void CachePolicy::on_stream_event(RequestContext& context, std::string_view data) {
  auto* pending = context.state_for<Pending>(this);
  if (!pending || pending->capture_failed) return;
  pending->captured_bytes += data.size();
  if (pending->captured_bytes > settings_.max_entry_bytes) {
    pending->capture_failed = true;
    pending->events.clear();
    return;
  }
  pending->events.emplace_back(data);
}

void CachePolicy::on_response_end(RequestContext& context, std::string_view body) {
  auto* pending = context.state_for<Pending>(this);
  if (!pending) return;
  auto& stats = cache_stats();
  // Only a whole 200 answer is kept; a stream that broke or was cut short never is.
  if (context.status != 200 || context.upstream_truncated || context.client_disconnected ||
      pending->capture_failed || (!context.streamed && body.size() > settings_.max_entry_bytes)) {
    stats.not_stored.fetch_add(1, kRelaxed);
    return;
  }
  std::string why_not;
  auto answer = context.streamed
                    ? cache::answer_from_stream(pending->events, settings_.allow_tool_calls,
                                                why_not, &context.usage)
                    : cache::answer_from_body(body, settings_.allow_tool_calls, why_not);
  if (!answer) {
    stats.not_stored.fetch_add(1, kRelaxed);
    return;
  }
  if (answer->total_tokens == 0) answer->total_tokens = context.usage.total_tokens;
  if (answer->model.empty()) answer->model = context.response_model;
  auto now = clock_.steady_now();
  answer->stored_at = now;
  if (redis_) {
    redis_->insert(pending->key, *answer, settings_.ttl, [](bool ok) {
      (ok ? cache_stats().stores : cache_stats().store_failures).fetch_add(1, kRelaxed);
    });
    return;
  }
  auto shared = std::make_shared<const cache::CachedAnswer>(std::move(*answer));
  if (store_.insert(pending->key, std::move(shared), now + settings_.ttl)) {
    stats.stores.fetch_add(1, kRelaxed);
  } else {
    stats.not_stored.fetch_add(1, kRelaxed);
  }
}

PolicyPtr make_cache_policy(const core::ConfigNode& section, PolicyServices& services) {
  auto settings = cache::CacheSettings::from_config(section);
  // The metrics are process-wide (cache_stats()); contributed once while any cache policy lives.
  auto& slot = services.shared["cache.metrics"];
  auto contributions = slot.lock();
  if (!contributions) {
    contributions = contribute_metrics(*services.metrics);
    slot = contributions;
  }
  // The registry returns the same family to every cache policy and across reloads.
  auto lookup_seconds = services.metrics->family(
      {.name = "sluice_cache_lookup_seconds",
       .help = "Response cache look-ups (key and store round trip), by store.",
       .type = usage::MetricType::kHistogram,
       .variant_label = "store",
       .variants = {"memory", "redis"},
       .bounds = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000},
       .scale = 1e-6});
  return std::make_shared<CachePolicy>(std::move(settings), *services.clock,
                                       std::move(contributions), std::move(lookup_seconds));
}

}  // namespace sluice::gateway
