#pragma once
// What the counter stores (local and Redis) are asked to do and what they answer: reserve the
// estimates of one request against all its limits at once, and settle a reservation later.
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "gateway/policies/token_limit/quota_period.hpp"
#include "gateway/policies/token_limit/token_limit_settings.hpp"

namespace sluice::gateway::token_limit {

// The clocks a store decision is made at. Local windows run on the steady clock (immune to wall
// clock steps); Redis windows on the wall clock, since instances on several hosts must agree.
// Quota periods are calendar periods of the wall clock.
struct Instant {
  std::int64_t window_ms = 0;
  std::chrono::system_clock::time_point wall;
};

// One limit's share of a request.
struct Charge {
  const LimitSpec* limit = nullptr;  // tokens_per_minute and token_quota to apply
  std::string counter;               // the counter key's value for this request
  std::int64_t tokens = 0;           // the estimate to reserve
};

// The smallest amount a request is checked with: a request estimated at zero tokens is still
// refused once a limit is used up.
inline std::int64_t needed(const Charge& charge) {
  return charge.tokens > 0 ? charge.tokens : 1;
}

// One limit's counters as the store saw them.
struct Standing {
  std::int64_t window_used = 0;  // tokens in the per-minute window
  std::int64_t quota_used = 0;   // tokens in the current quota period
  std::int64_t wait_ms = 0;      // until the request fits the window: 0 now, -1 never
  PeriodBounds period;           // the quota period (when the limit has a quota)
};

enum class Refusal { kNone, kRate, kQuota };

struct ReserveResult {
  bool admitted = false;
  Refusal refusal = Refusal::kNone;
  std::size_t refused = 0;          // index of the charge that refused
  std::int64_t retry_after_ms = 0;  // kRate: until every window fits (-1: never)
  std::int64_t bucket = 0;          // the window bucket the reservation was charged to
  // Per charge: before the reservation when refused, after it when admitted. Room for two in
  // place: a request has one or two charges, and the vector was an allocation a request.
  boost::container::small_vector<Standing, 2> standing;
};

// Fills the refusal fields of `result` from the standing before any charge: a quota refusal wins
// (waiting does not help), else the rate limit with the longest wait. Leaves admitted = true when
// every limit fits. The stores admit with exactly this rule.
void judge(std::span<const Charge> charges, ReserveResult& result);

// Replaces one limit's reservation by what the request really used.
struct Settlement {
  const LimitSpec* limit = nullptr;
  std::string counter;
  std::int64_t bucket = 0;        // the bucket the reservation was charged to
  std::int64_t period_start = 0;  // the quota period it was charged to
  std::int64_t delta = 0;         // used - reserved: negative releases, positive charges more
};

}  // namespace sluice::gateway::token_limit
