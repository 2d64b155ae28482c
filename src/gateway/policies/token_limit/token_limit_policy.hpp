#pragma once
// `token_limit`: per-caller tokens-per-minute limits (429 + Retry-After) and calendar quotas (403),
// with parity to APIM's llm-token-limit, enforced on one gateway (store: local) or across many
// sharing Redis (store: redis). docs/policies/token_limit.md is the user's reference.
//
// Reserve, then reconcile. In the access phase the policy estimates the request's tokens (prompt
// counted with the tokenizer, plus max_tokens or default_completion_tokens) and reserves that
// estimate against every limit of the request in one atomic step: all limits fit and are all
// charged, or none is charged and the refusal names the limit that refused. In the log phase
// (on_complete, which runs exactly once for every request, failed and cancelled ones included)
// the reservation is replaced by the real usage; a request that produced no tokens releases it.
// Concurrent requests can therefore overshoot a limit by at most the error of their estimates.
//
// Response headers (names configurable) are set at admission, so a stream's headers show the
// state after its reservation: remaining tokens in the tightest per-minute window, remaining
// quota of the tightest quota, and the tokens reserved for this request.
//
// Threads: one policy object is shared by all workers. on_request and on_complete run on the
// request's worker; the local store is sharded (local_store.hpp), the Redis store runs its round
// trips on a connection of the request's worker's own event loop (redis_client.hpp).
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateway/policies/token_limit/local_store.hpp"
#include "gateway/policies/token_limit/redis_store.hpp"
#include "gateway/policies/token_limit/token_limit_settings.hpp"
#include "sluice/core/clock.hpp"
#include "sluice/gateway/policy.hpp"
#include "sluice/gateway/settings.hpp"

namespace sluice::gateway {

// Counters of every token_limit policy in this process, monotonic across config reloads, for the
// metrics exporter. Token counts are summed over the limits a request is charged to.
struct TokenLimitStats {
  std::atomic<std::uint64_t> admitted{0};         // requests whose reservation was taken
  std::atomic<std::uint64_t> refused_rate{0};     // 429: a per-minute window was full
  std::atomic<std::uint64_t> refused_quota{0};    // 403: a quota was used up
  std::atomic<std::uint64_t> reserved_tokens{0};  // estimates reserved at admission
  std::atomic<std::uint64_t> settled_tokens{0};   // real usage that replaced the reservations
  std::atomic<std::uint64_t> released_tokens{0};  // reserved but not used, given back
  std::atomic<std::uint64_t> overrun_tokens{0};   // used beyond the reservation (estimate error)
  // Redis mode: admissions Redis could not answer (down, timeout, error reply) ...
  std::atomic<std::uint64_t> store_failures{0};
  // ... and what the failure mode did with them.
  std::atomic<std::uint64_t> fail_open_admitted{0};   // admitted by the local fallback budget
  std::atomic<std::uint64_t> fail_open_refused{0};    // refused (429) by the local fallback budget
  std::atomic<std::uint64_t> fail_closed_refused{0};  // refused with 503
  std::atomic<std::uint64_t> settle_failures{0};  // settlements Redis did not take (kept charged)
};

// The process-wide counters. Any thread.
TokenLimitStats& token_limit_stats();

class TokenLimitPolicy final : public Policy {
 public:
  // `clock` must outlive the policy. `local` holds the counters for store: local; the factory
  // shares one among all token_limit sections and across reloads (PolicyServices::shared).
  TokenLimitPolicy(token_limit::TokenLimitSettings settings, const core::Clock& clock,
                   std::shared_ptr<token_limit::LocalStore> local);
  ~TokenLimitPolicy() override;

  std::string_view name() const override { return "token_limit"; }
  PhaseOrder phase_order() const override { return PhaseOrder::kLimit; }
  // The prompt's token count reads the gateway's parse of the body.
  bool reads_request_document() const override { return count_prompt_; }
  http::Task<std::optional<http::Response>> on_request(RequestContext& context) override;
  void on_complete(RequestContext& context) override;

  const token_limit::TokenLimitSettings& settings() const { return settings_; }

  // Headroom per limit and counter key value, for the operator console: this process's counters
  // of this policy's limits (store: local; with Redis the shared counters are not read, and the
  // list is empty). At most `max` entries. Any thread.
  struct Headroom {
    std::string limit;
    std::string counter;
    std::int64_t tokens_per_minute = 0;  // 0: no per-minute limit
    std::int64_t window_used = 0;
    std::int64_t token_quota = 0;  // 0: no quota
    std::int64_t quota_used = 0;
  };
  std::vector<Headroom> headroom(std::size_t max) const;
  // The Redis store (store: redis), for tests; null otherwise.
  token_limit::RedisStore* redis_store() { return redis_.get(); }

  // The counter key value of `limit` for this request ("team-a|gpt-4o"): its parts joined by '|'
  // ('|' and '%' inside a value percent-encoded), a missing value as "" (callers without one share
  // a counter), values longer than 128 bytes replaced by a hash. Any thread.
  static std::string counter_value(const token_limit::LimitSpec& limit,
                                   const RequestContext& context);

 private:
  struct Reservation;

  token_limit::Instant local_now() const;
  token_limit::Instant shared_now() const;
  http::Response refusal(const token_limit::ReserveResult& result,
                         std::span<const token_limit::Charge> charges) const;
  void add_headers(RequestContext& context, const token_limit::ReserveResult& result,
                   std::span<const token_limit::Charge> charges, bool admitted) const;
  void log_store_failure(const std::string& error);

  token_limit::TokenLimitSettings settings_;
  const core::Clock& clock_;
  bool count_prompt_ = false;  // some limit estimates prompt tokens
  std::shared_ptr<token_limit::LocalStore> local_;
  std::unique_ptr<token_limit::RedisStore> redis_;
  // Redis mode, fail_open: the limits applied in this process while Redis is unreachable.
  std::vector<token_limit::LimitSpec> fallback_limits_;
  std::unique_ptr<token_limit::LocalStore> fallback_;
  std::atomic<std::int64_t> last_failure_log_ns_{0};
};

// The registry factory for `policies: token_limit:`.
PolicyPtr make_token_limit_policy(const core::ConfigNode& section, PolicyServices& services);

}  // namespace sluice::gateway
