#include "gateway/policies/token_limit/reservation.hpp"

namespace sluice::gateway::token_limit {

void judge(std::span<const Charge> charges, ReserveResult& result) {
  result.admitted = true;
  result.refusal = Refusal::kNone;
  result.retry_after_ms = 0;
  for (std::size_t i = 0; i < charges.size(); ++i) {
    const LimitSpec& limit = *charges[i].limit;
    const Standing& standing = result.standing[i];
    if (limit.token_quota > 0 && standing.quota_used + needed(charges[i]) > limit.token_quota) {
      result.admitted = false;
      result.refusal = Refusal::kQuota;
      result.refused = i;
      return;
    }
  }
  for (std::size_t i = 0; i < charges.size(); ++i) {
    const LimitSpec& limit = *charges[i].limit;
    const Standing& standing = result.standing[i];
    if (limit.tokens_per_minute == 0 || standing.wait_ms == 0) continue;
    bool longer = result.refusal == Refusal::kNone || standing.wait_ms < 0 ||
                  (result.retry_after_ms >= 0 && standing.wait_ms > result.retry_after_ms);
    if (longer) {
      result.admitted = false;
      result.refusal = Refusal::kRate;
      result.refused = i;
      result.retry_after_ms = standing.wait_ms;
    }
  }
}

}  // namespace sluice::gateway::token_limit
