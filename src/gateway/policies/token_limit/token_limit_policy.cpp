#include "gateway/policies/token_limit/token_limit_policy.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/json.hpp>
#include <cstdio>

#include "gateway/json_scratch.hpp"
#include "gateway/usage_estimation.hpp"

namespace sluice::gateway {

using token_limit::Charge;
using token_limit::Instant;
using token_limit::LimitSpec;
using token_limit::Refusal;
using token_limit::ReserveResult;
using token_limit::Settlement;

namespace {

constexpr std::size_t kMaxCounterValue = 128;

std::int64_t ms_since_epoch(auto time_point) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time_point.time_since_epoch())
      .count();
}

void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '|') {
      out += "%7C";
    } else if (c == '%') {
      out += "%25";
    } else {
      out.push_back(c);
    }
  }
}

// FNV-1a: stable across processes and hosts (std::hash is not), so every instance names the same
// Redis key for the same long value.
std::string fnv1a_hex(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

std::int64_t ceil_seconds(std::int64_t ms) {
  return std::max<std::int64_t>(1, (ms + 999) / 1000);
}

http::Response error_response(http::Status status, std::string_view type, std::string_view code,
                              std::string_view message) {
  boost::json::object error;
  error["message"] = message;
  error["type"] = type;
  error["param"] = nullptr;
  error["code"] = code;
  boost::json::object body;
  body["error"] = std::move(error);
  http::Response response{status, 11};
  response.set(http::Field::content_type, "application/json");
  response.body() = boost::json::serialize(body);
  response.prepare_payload();
  return response;
}

}  // namespace

TokenLimitStats& token_limit_stats() {
  static TokenLimitStats stats;
  return stats;
}

// Inline room for two limits: a request rarely meets more, and each vector was an allocation.
struct TokenLimitPolicy::Reservation final : RequestContext::PolicyState {
  boost::container::small_vector<Charge, 2> charges;
  boost::container::small_vector<std::int64_t, 2> period_starts;  // per charge
  std::int64_t bucket = 0;
  bool fallback = false;  // reserved in the local fallback store while Redis was unreachable
};

TokenLimitPolicy::TokenLimitPolicy(token_limit::TokenLimitSettings settings,
                                   const core::Clock& clock,
                                   std::shared_ptr<token_limit::LocalStore> local)
    : settings_(std::move(settings)), clock_(clock), local_(std::move(local)) {
  for (const auto& limit : settings_.limits) count_prompt_ |= limit.estimate_prompt_tokens;
  if (settings_.store == token_limit::StoreKind::kRedis) {
    redis_ = std::make_unique<token_limit::RedisStore>(settings_.redis);
    if (settings_.redis.on_failure == token_limit::FailureMode::kFailOpen) {
      // While Redis is unreachable each instance enforces a per-minute budget of its own; quotas
      // cannot be judged without the shared count and are not enforced.
      fallback_limits_ = settings_.limits;
      for (auto& limit : fallback_limits_) {
        if (settings_.redis.fallback_tokens_per_minute > 0) {
          limit.tokens_per_minute = settings_.redis.fallback_tokens_per_minute;
        }
        limit.token_quota = 0;
      }
      fallback_ = std::make_unique<token_limit::LocalStore>();
    }
  }
}

TokenLimitPolicy::~TokenLimitPolicy() = default;

std::vector<TokenLimitPolicy::Headroom> TokenLimitPolicy::headroom(std::size_t max) const {
  std::vector<Headroom> out;
  if (!local_ || redis_) return out;
  for (auto& use : local_->usage(local_now(), max)) {
    for (const auto& limit : settings_.limits) {
      if (limit.name != use.limit) continue;
      out.push_back({.limit = std::move(use.limit),
                     .counter = std::move(use.counter),
                     .tokens_per_minute = limit.tokens_per_minute,
                     .window_used = use.window_used,
                     .token_quota = limit.token_quota,
                     .quota_used = use.quota_used});
      break;
    }
  }
  return out;
}

Instant TokenLimitPolicy::local_now() const {
  return Instant{ms_since_epoch(clock_.steady_now()), clock_.system_now()};
}

Instant TokenLimitPolicy::shared_now() const {
  auto wall = clock_.system_now();
  return Instant{ms_since_epoch(wall), wall};
}

std::string TokenLimitPolicy::counter_value(const LimitSpec& limit, const RequestContext& context) {
  std::string out;
  for (std::size_t i = 0; i < limit.counter_key.size(); ++i) {
    if (i > 0) out.push_back('|');
    append_escaped(out, limit.counter_key[i].value_in(context));
  }
  if (out.size() > kMaxCounterValue) out = "#" + fnv1a_hex(out);
  return out;
}

void TokenLimitPolicy::log_store_failure(const std::string& error) {
  // At most one line per retry interval: a Redis outage must not flood the log.
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::max(settings_.redis.retry_interval, std::chrono::milliseconds(1000)))
                      .count();
  auto last = last_failure_log_ns_.load(std::memory_order_relaxed);
  if (now_ns - last < interval ||
      !last_failure_log_ns_.compare_exchange_strong(last, now_ns, std::memory_order_relaxed)) {
    return;
  }
  std::fprintf(stderr, "gateway: token_limit: Redis at %s unavailable (%s); %s\n",
               settings_.redis.url.c_str(), error.c_str(),
               settings_.redis.on_failure == token_limit::FailureMode::kFailOpen
                   ? "failing open with the local fallback budget"
                   : "failing closed (503)");
}

void TokenLimitPolicy::add_headers(RequestContext& context, const ReserveResult& result,
                                   std::span<const Charge> charges, bool admitted) const {
  std::optional<std::int64_t> remaining_tokens;
  std::optional<std::int64_t> remaining_quota;
  std::int64_t consumed = 0;
  for (std::size_t i = 0; i < charges.size(); ++i) {
    const LimitSpec& limit = *charges[i].limit;
    const auto& standing = result.standing[i];
    if (limit.tokens_per_minute > 0) {
      auto left = std::max<std::int64_t>(0, limit.tokens_per_minute - standing.window_used);
      remaining_tokens = remaining_tokens ? std::min(*remaining_tokens, left) : left;
    }
    if (limit.token_quota > 0) {
      auto left = std::max<std::int64_t>(0, limit.token_quota - standing.quota_used);
      remaining_quota = remaining_quota ? std::min(*remaining_quota, left) : left;
    }
    consumed = std::max(consumed, charges[i].tokens);
  }
  const auto& names = settings_.headers;
  if (remaining_tokens && !names.remaining_tokens.empty()) {
    context.response_headers.emplace_back(names.remaining_tokens,
                                          std::to_string(*remaining_tokens));
  }
  if (remaining_quota && !names.remaining_quota.empty()) {
    context.response_headers.emplace_back(names.remaining_quota, std::to_string(*remaining_quota));
  }
  if (admitted && !names.consumed_tokens.empty()) {
    context.response_headers.emplace_back(names.consumed_tokens, std::to_string(consumed));
  }
}

http::Response TokenLimitPolicy::refusal(const ReserveResult& result,
                                         std::span<const Charge> charges) const {
  const Charge& charge = charges[result.refused];
  const LimitSpec& limit = *charge.limit;
  const auto& standing = result.standing[result.refused];
  auto need = token_limit::needed(charge);
  if (result.refusal == Refusal::kQuota) {
    std::string message = "Token quota of " + std::to_string(limit.token_quota) + " for period " +
                          token_limit::to_string(limit.token_quota_period) + " exceeded (limit '" +
                          limit.name + "': " + std::to_string(standing.quota_used) +
                          " used, this request needs an estimated " + std::to_string(need) +
                          "); resets at " + token_limit::format_utc(standing.period.end) + ".";
    return error_response(http::Status::forbidden, "insufficient_quota", "token_quota_exceeded",
                          message);
  }
  if (result.retry_after_ms < 0) {
    std::string message = "This request needs an estimated " + std::to_string(need) +
                          " tokens, more than limit '" + limit.name + "' allows in a minute (" +
                          std::to_string(limit.tokens_per_minute) +
                          "). Lower max_tokens or shorten the prompt.";
    return error_response(http::Status::too_many_requests, "tokens", "rate_limit_exceeded",
                          message);
  }
  auto seconds = ceil_seconds(result.retry_after_ms);
  std::string message = "Token rate limit of " + std::to_string(limit.tokens_per_minute) +
                        " tokens per minute exceeded (limit '" + limit.name +
                        "': " + std::to_string(standing.window_used) +
                        " used in the last minute, this request needs an estimated " +
                        std::to_string(need) + "). Please retry after " + std::to_string(seconds) +
                        (seconds == 1 ? " second." : " seconds.");
  auto response =
      error_response(http::Status::too_many_requests, "tokens", "rate_limit_exceeded", message);
  response.set(http::Field::retry_after, std::to_string(seconds));
  response.set("retry-after-ms", std::to_string(result.retry_after_ms));
  return response;
}

http::Task<std::optional<http::Response>> TokenLimitPolicy::on_request(RequestContext& context) {
  if (context.target.operation == Operation::kOther) co_return std::nullopt;
  auto& stats = token_limit_stats();

  // The estimate: prompt tokens counted with the tokenizer (once; the usage estimator reuses the
  // count), plus the completion the request may produce.
  std::int64_t prompt = 0;
  if (count_prompt_) {
    if (context.estimated_prompt_tokens < 0) {
      std::string_view model = !context.body.model.empty() ? std::string_view(context.body.model)
                                                           : std::string_view(context.deployment);
      if (context.body.prompt.plain) {
        // The gateway's scan of the body gathered the prompt: no document needed.
        context.estimated_prompt_tokens =
            estimate_scanned_chat_prompt_tokens(context.body.prompt, model);
      } else {
        // The gateway parsed the body before the identity phase; unless another request's parse
        // on this worker has replaced that document since, the count reads it.
        std::optional<simdjson::dom::element> parsed;
        if (const auto* source = context.body.document_source) {
          parsed = source->document(context.body.document_generation);
        }
        context.estimated_prompt_tokens =
            estimate_prompt_tokens(context.exchange.request().body(), context.target.operation,
                                   model, parsed ? &*parsed : nullptr);
      }
    }
    prompt = context.estimated_prompt_tokens;
  }
  auto state = std::make_unique<Reservation>();
  state->charges.reserve(settings_.limits.size());
  for (const auto& limit : settings_.limits) {
    std::int64_t completion = 0;
    if (context.target.operation != Operation::kEmbeddings) {
      completion = std::max<std::int64_t>(
          0, context.body.max_tokens.value_or(limit.default_completion_tokens));
    }
    state->charges.push_back(Charge{&limit, counter_value(limit, context),
                                    (limit.estimate_prompt_tokens ? prompt : 0) + completion});
  }

  ReserveResult result;
  if (redis_) {
    Instant now = shared_now();
    auto answer = co_await redis_->reserve(state->charges, now);
    if (answer.status == token_limit::RedisReply::Status::kOk) {
      result = std::move(answer.result);
    } else {
      stats.store_failures.fetch_add(1, std::memory_order_relaxed);
      log_store_failure(answer.error);
      if (!fallback_) {
        stats.fail_closed_refused.fetch_add(1, std::memory_order_relaxed);
        auto response = error_response(
            http::Status::service_unavailable, "server_error", "token_limit_unavailable",
            "Token limits cannot be checked right now (the limit store is unreachable). Please "
            "retry shortly.");
        response.set(http::Field::retry_after,
                     std::to_string(ceil_seconds(settings_.redis.retry_interval.count())));
        context.error_code = "token_limit_unavailable";
        context.limit_decision = "unavailable";
        co_return response;
      }
      for (std::size_t i = 0; i < state->charges.size(); ++i) {
        state->charges[i].limit = &fallback_limits_[i];
      }
      state->fallback = true;
      result = fallback_->reserve(state->charges, local_now());
      (result.admitted ? stats.fail_open_admitted : stats.fail_open_refused)
          .fetch_add(1, std::memory_order_relaxed);
    }
  } else {
    result = local_->reserve(state->charges, local_now());
  }

  add_headers(context, result, state->charges, result.admitted);
  if (!result.admitted) {
    if (result.refusal == Refusal::kQuota) {
      stats.refused_quota.fetch_add(1, std::memory_order_relaxed);
      context.error_code = "token_quota_exceeded";
      context.limit_decision = "quota_exceeded";
    } else {
      stats.refused_rate.fetch_add(1, std::memory_order_relaxed);
      context.error_code = "token_rate_limited";
      context.limit_decision = "rate_limited";
    }
    co_return refusal(result, state->charges);
  }

  stats.admitted.fetch_add(1, std::memory_order_relaxed);
  // Admitted by the local fallback while the shared store is down: worth telling apart in a trace.
  context.limit_decision = state->fallback ? "fail_open_admitted" : "admitted";
  state->bucket = result.bucket;
  state->period_starts.reserve(state->charges.size());
  for (std::size_t i = 0; i < state->charges.size(); ++i) {
    state->period_starts.push_back(result.standing[i].period.start);
    stats.reserved_tokens.fetch_add(static_cast<std::uint64_t>(state->charges[i].tokens),
                                    std::memory_order_relaxed);
  }
  context.policy_state.emplace_back(this, std::move(state));
  co_return std::nullopt;
}

void TokenLimitPolicy::on_complete(RequestContext& context) {
  auto* state = context.state_for<Reservation>(this);
  if (!state) return;
  auto& stats = token_limit_stats();

  // What the request really used. Reported or estimated usage replaces the reservation; a success
  // without any usage keeps the estimate; anything else (refused later, upstream error, client gone
  // before an answer) used nothing and releases it.
  std::optional<std::int64_t> used;
  if (!context.cache.kind.empty()) {
    // Answered from the response cache: no backend tokens; charged what the answer cost when it
    // was made only if the limit says so.
    used = settings_.charge_cache_hits ? context.cache.tokens_saved : 0;
  } else if (context.usage.source != UsageSource::kNone) {
    used = context.usage.total_tokens > 0
               ? context.usage.total_tokens
               : context.usage.prompt_tokens + context.usage.completion_tokens;
  } else if (!(context.status >= 200 && context.status < 300)) {
    used = 0;
  }

  boost::container::small_vector<Settlement, 2> settlements;
  settlements.reserve(state->charges.size());
  for (std::size_t i = 0; i < state->charges.size(); ++i) {
    const Charge& charge = state->charges[i];
    std::int64_t actual = used.value_or(charge.tokens);
    std::int64_t delta = actual - charge.tokens;
    stats.settled_tokens.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, actual)),
                                   std::memory_order_relaxed);
    if (delta < 0) stats.released_tokens.fetch_add(-delta, std::memory_order_relaxed);
    if (delta > 0) stats.overrun_tokens.fetch_add(delta, std::memory_order_relaxed);
    if (delta != 0) {
      settlements.push_back(
          Settlement{charge.limit, charge.counter, state->bucket, state->period_starts[i], delta});
    }
  }
  if (settlements.empty()) return;
  if (!redis_) {
    local_->settle(settlements, local_now());
  } else if (state->fallback) {
    fallback_->settle(settlements, local_now());
  } else {
    redis_->settle(context.exchange.executor(), settlements, shared_now(),
                   [](bool ok, const std::string&) {
                     if (!ok)
                       token_limit_stats().settle_failures.fetch_add(1, std::memory_order_relaxed);
                   });
  }
}

PolicyPtr make_token_limit_policy(const core::ConfigNode& section, PolicyServices& services) {
  auto settings = token_limit::TokenLimitSettings::from_config(section);
  // One local store for every token_limit section (limits with the same name share counters),
  // kept across reloads: the running config holds it while the new one is built.
  auto& slot = services.shared["token_limit.local_store"];
  auto store = std::static_pointer_cast<token_limit::LocalStore>(slot.lock());
  if (!store) {
    store = std::make_shared<token_limit::LocalStore>();
    slot = store;
  }
  return std::make_shared<TokenLimitPolicy>(std::move(settings), *services.clock, std::move(store));
}

}  // namespace sluice::gateway
