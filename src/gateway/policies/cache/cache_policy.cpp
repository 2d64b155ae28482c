#include "gateway/policies/cache/cache_policy.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include <boost/json.hpp>

#include "gateway/policies/cache/answer_codec.hpp"
#include "gateway/policies/cache/request_key.hpp"
#include "gateway/policies/cache/semantic_question.hpp"
#include "sluice/usage/metric_registry.hpp"

namespace sluice::gateway {

namespace {

using cache::cache_stats;
constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr std::string_view kCacheHeader = "x-sluice-cache";
constexpr std::string_view kSimilarityHeader = "x-sluice-cache-similarity";
// The api-version of the semantic cache's embedding call (Azure path style, which routes match
// by deployment).
constexpr std::string_view kEmbeddingsApiVersion = "2024-10-21";

std::uint64_t micros_since(std::chrono::steady_clock::time_point started) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now() - started)
                                        .count());
}

// The first embedding of an embeddings response, as a unit vector; nullopt when there is none.
std::optional<std::vector<float>> embedding_of(std::string_view body) {
  boost::json::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto* data = value.get_object().if_contains("data");
  if (!data || !data->is_array() || data->get_array().empty()) return std::nullopt;
  const auto* first = data->get_array().front().if_object();
  const auto* embedding = first ? first->if_contains("embedding") : nullptr;
  if (!embedding || !embedding->is_array() || embedding->get_array().empty()) return std::nullopt;
  std::vector<float> vector;
  vector.reserve(embedding->get_array().size());
  double norm = 0;
  for (const auto& x : embedding->get_array()) {
    if (!x.is_number()) return std::nullopt;
    double d = x.to_number<double>();
    norm += d * d;
    vector.push_back(static_cast<float>(d));
  }
  if (!(norm > 0) || !std::isfinite(norm)) return std::nullopt;
  // Cosine similarity is the inner product of unit vectors; OpenAI's are unit already.
  const double scale = 1.0 / std::sqrt(norm);
  for (auto& x : vector) x = static_cast<float>(x * scale);
  return vector;
}

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
  add("sluice_cache_semantic_hits_total",
      "Requests answered from the semantic cache (a similar enough question).", "counter", "",
      [&s] { return s.semantic_hits.load(kRelaxed); });
  add("sluice_cache_semantic_misses_total",
      "Requests looked up in the semantic cache and not found similar enough.", "counter", "",
      [&s] { return s.semantic_misses.load(kRelaxed); });
  add("sluice_cache_semantic_stores_total", "Answers kept in the semantic cache.", "counter", "",
      [&s] { return s.semantic_stores.load(kRelaxed); });
  const char* semantic_bypass = "Requests the semantic cache stepped aside for, by reason.";
  add("sluice_cache_semantic_bypassed_total", semantic_bypass, "counter",
      "{reason=\"no_question\"}", [&s] { return s.semantic_bypass_no_question.load(kRelaxed); });
  add("sluice_cache_semantic_bypassed_total", semantic_bypass, "counter",
      "{reason=\"embedding_failed\"}",
      [&s] { return s.semantic_embedding_failures.load(kRelaxed); });
  add("sluice_cache_semantic_embedding_failures_total",
      "Embedding calls of the semantic cache that failed (error, timeout, unusable answer); the "
      "request went to the backend.",
      "counter", "", [&s] { return s.semantic_embedding_failures.load(kRelaxed); });
  add("sluice_cache_semantic_evictions_total",
      "Semantic cache entries removed to stay within max_entries and max_bytes.", "counter", "",
      [&s] { return s.semantic_evictions.load(kRelaxed); });
  add("sluice_cache_semantic_expirations_total",
      "Semantic cache entries removed because their TTL ran out.", "counter", "",
      [&s] { return s.semantic_expirations.load(kRelaxed); });
  add("sluice_cache_semantic_bytes", "Bytes held by the semantic cache indexes.", "gauge", "",
      [&s] { return s.semantic_bytes.load(kRelaxed); });
  add("sluice_cache_semantic_entries", "Entries held by the semantic cache indexes.", "gauge", "",
      [&s] { return s.semantic_entries.load(kRelaxed); });
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
  std::string semantic_partition;  // with semantic on and the question embedded
  std::vector<float> question_vector;
  bool capture_failed = false;  // the stream grew past max_entry_bytes
  std::size_t captured_bytes = 0;
  std::vector<std::string> events;  // a streamed answer's data payloads
};

CachePolicy::CachePolicy(cache::CacheSettings settings, const core::Clock& clock,
                         std::shared_ptr<void> keep_alive,
                         std::shared_ptr<usage::MetricFamily> lookup_seconds,
                         std::shared_ptr<usage::MetricFamily> embedding_seconds)
    : settings_(std::move(settings)),
      clock_(clock),
      store_(settings_.max_bytes, cache_stats()),
      keep_alive_(std::move(keep_alive)),
      lookup_seconds_(std::move(lookup_seconds)),
      embedding_seconds_(std::move(embedding_seconds)) {
  if (settings_.store == cache::CacheSettings::Store::kRedis) {
    redis_ = std::make_unique<cache::RedisAnswerStore>(settings_.redis);
  }
  if (settings_.semantic.enabled) {
    semantic_ = std::make_unique<cache::SemanticIndex>(settings_.semantic.max_entries,
                                                       settings_.semantic.max_bytes, cache_stats());
  }
}

http::Task<std::optional<std::vector<float>>> CachePolicy::embed(RequestContext& context,
                                                                 const std::string& text) {
  if (!context.internal_requests) co_return std::nullopt;
  const auto& semantic = settings_.semantic;
  http::Request request{http::bhttp::verb::post,
                        "/openai/deployments/" + semantic.embeddings_deployment +
                            "/embeddings?api-version=" + std::string(kEmbeddingsApiVersion),
                        11};
  request.set(http::Field::content_type, "application/json");
  boost::json::object body;
  body["input"] = text;
  if (semantic.dimensions > 0) body["dimensions"] = semantic.dimensions;
  request.body() = boost::json::serialize(body);
  auto started = std::chrono::steady_clock::now();
  auto response = co_await context.internal_requests->send(context, std::move(request),
                                                           "cache_lookup", semantic.timeout);
  if (embedding_seconds_) {
    embedding_seconds_->observe(embedding_seconds_->series({}), 0, micros_since(started));
  }
  if (!response || response->result_int() != 200) co_return std::nullopt;
  co_return embedding_of(response->body());
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
      lookup_seconds_->observe(lookup_seconds_->series({}), redis_ ? 1 : 0,
                               micros_since(lookup_started));
    }
    if (answer) {
      stats.hits.fetch_add(1, kRelaxed);
      stats.tokens_saved.fetch_add(
          static_cast<std::uint64_t>(std::max<std::int64_t>(0, answer->total_tokens)), kRelaxed);
      co_return hit_response(context, *answer, "exact", 0);
    }
  }
  stats.misses.fetch_add(1, kRelaxed);
  auto pending = std::make_unique<Pending>();
  pending->key = std::move(key);
  if (semantic_) {
    // The exact key missed: a question asked in other words may still have its answer. Whatever
    // goes wrong here (no question, embedding call failed) only means the backend answers.
    auto question = cache::semantic_question(
        body.get_object(), cache::KeyFields{settings_.ignore_fields, settings_.match_fields});
    if (!question) {
      stats.semantic_bypass_no_question.fetch_add(1, kRelaxed);
    } else if (auto vector = co_await embed(context, question->text); !vector) {
      stats.semantic_embedding_failures.fetch_add(1, kRelaxed);
    } else {
      pending->semantic_partition = cache::request_key(
          cache::KeyParts{context.route ? context.route->name : "", context.deployment,
                          context.target.operation_path, partition, question->context});
      pending->question_vector = std::move(*vector);
      if (!directives.no_cache) {
        auto semantic_started = std::chrono::steady_clock::now();
        auto match = semantic_->find(pending->semantic_partition, pending->question_vector,
                                     settings_.semantic.threshold, clock_.steady_now());
        if (lookup_seconds_) {
          lookup_seconds_->observe(lookup_seconds_->series({}), 2, micros_since(semantic_started));
        }
        if (match) {
          stats.semantic_hits.fetch_add(1, kRelaxed);
          stats.tokens_saved.fetch_add(
              static_cast<std::uint64_t>(std::max<std::int64_t>(0, match->answer->total_tokens)),
              kRelaxed);
          co_return hit_response(context, *match->answer, "semantic", match->similarity);
        }
        stats.semantic_misses.fetch_add(1, kRelaxed);
      }
    }
  }
  context.response_headers.emplace_back(kCacheHeader, "miss");
  context.cache_decision = "miss";
  context.policy_state.emplace_back(this, std::move(pending));
  co_return std::nullopt;
}

http::Response CachePolicy::hit_response(RequestContext& context, const cache::CachedAnswer& answer,
                                         std::string_view kind, double similarity) {
  context.cache.kind = std::string(kind);
  context.cache_decision = kind == "semantic" ? "semantic-hit" : "hit";
  context.cache.tokens_saved = answer.total_tokens;
  context.cache.similarity = similarity;
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
  if (kind == "semantic") {
    response.set(kCacheHeader, "semantic-hit");
    char text[16];
    std::snprintf(text, sizeof text, "%.4f", similarity);
    response.set(kSimilarityHeader, text);
  } else {
    response.set(kCacheHeader, "hit");
  }
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
  auto shared = std::make_shared<const cache::CachedAnswer>(std::move(*answer));
  if (semantic_ && !pending->question_vector.empty()) {
    if (semantic_->insert(pending->semantic_partition, pending->question_vector, shared,
                          now + settings_.ttl)) {
      stats.semantic_stores.fetch_add(1, kRelaxed);
    }
  }
  if (redis_) {
    redis_->insert(context.exchange.executor(), pending->key, *shared, settings_.ttl, [](bool ok) {
      (ok ? cache_stats().stores : cache_stats().store_failures).fetch_add(1, kRelaxed);
    });
    return;
  }
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
       .variants = {"memory", "redis", "semantic"},
       .bounds = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000},
       .scale = 1e-6});
  std::shared_ptr<usage::MetricFamily> embedding_seconds;
  if (settings.semantic.enabled) {
    embedding_seconds = services.metrics->family(
        {.name = "sluice_cache_semantic_embedding_seconds",
         .help = "The semantic cache's embedding calls through the gateway's own pool, whatever "
                 "their outcome.",
         .type = usage::MetricType::kHistogram,
         .bounds = {1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
                    5000000},
         .scale = 1e-6});
  }
  return std::make_shared<CachePolicy>(std::move(settings), *services.clock,
                                       std::move(contributions), std::move(lookup_seconds),
                                       std::move(embedding_seconds));
}

}  // namespace sluice::gateway
