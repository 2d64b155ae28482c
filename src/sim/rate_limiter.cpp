#include "sim/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::sim {

MillisTime steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t retry_after_seconds(std::int64_t retry_after_ms) {
  if (retry_after_ms <= 0) return 1;
  return std::max<std::int64_t>(1, (retry_after_ms + 999) / 1000);
}

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
}  // namespace

TokenRateLimiter::TokenRateLimiter(std::int64_t tokens_per_minute)
    : tokens_per_minute_(std::max<std::int64_t>(1, tokens_per_minute)),
      requests_per_10s_(std::max<std::int64_t>(1, (tokens_per_minute_ + 999) / 1000)) {}

void TokenRateLimiter::sums(std::int64_t now_second, std::int64_t& tokens,
                            std::int64_t& requests) const {
  tokens = 0;
  requests = 0;
  for (const Bucket& b : buckets_) {
    if (b.second < 0 || b.second > now_second) continue;
    if (b.second > now_second - kTokenWindow) tokens += b.tokens;
    if (b.second > now_second - kRequestWindow) requests += b.requests;
  }
}

LimitDecision TokenRateLimiter::admit(std::int64_t cost, MillisTime now) {
  const std::int64_t now_second = floor_div(now, 1000);
  const std::int64_t charge = std::clamp<std::int64_t>(cost, 0, tokens_per_minute_);
  std::lock_guard lock(mu_);
  std::int64_t tokens = 0;
  std::int64_t requests = 0;
  sums(now_second, tokens, requests);

  LimitDecision d;
  const bool tokens_ok = tokens + charge <= tokens_per_minute_;
  const bool requests_ok = requests + 1 <= requests_per_10s_;
  if (tokens_ok && requests_ok) {
    Bucket& b = buckets_[static_cast<std::size_t>(now_second % kTokenWindow)];
    if (b.second != now_second) b = Bucket{now_second, 0, 0};
    b.tokens += charge;
    b.requests += 1;
    d.remaining_tokens = tokens_per_minute_ - tokens - charge;
    d.remaining_requests = requests_per_10s_ - requests - 1;
    return d;
  }

  // Oldest buckets leave the windows first: walk them in age order until enough has left.
  std::array<const Bucket*, kTokenWindow> live{};
  std::size_t n = 0;
  for (const Bucket& b : buckets_) {
    if (b.second >= 0 && b.second <= now_second && b.second > now_second - kTokenWindow) {
      live[n++] = &b;
    }
  }
  std::sort(live.begin(), live.begin() + static_cast<std::ptrdiff_t>(n),
            [](const Bucket* a, const Bucket* b) { return a->second < b->second; });
  std::int64_t token_wait = 0;
  if (!tokens_ok) {
    std::int64_t left = tokens;
    for (std::size_t i = 0; i < n; ++i) {
      left -= live[i]->tokens;
      if (left + charge <= tokens_per_minute_) {
        token_wait = (live[i]->second + kTokenWindow) * 1000 - now;
        break;
      }
    }
  }
  std::int64_t request_wait = 0;
  if (!requests_ok) {
    std::int64_t left = requests;
    for (std::size_t i = 0; i < n; ++i) {
      if (live[i]->second <= now_second - kRequestWindow) continue;
      left -= live[i]->requests;
      if (left + 1 <= requests_per_10s_) {
        request_wait = (live[i]->second + kRequestWindow) * 1000 - now;
        break;
      }
    }
  }
  d.allowed = false;
  d.reason = token_wait >= request_wait ? LimitReason::kTokens : LimitReason::kRequests;
  if (!tokens_ok && requests_ok) d.reason = LimitReason::kTokens;
  if (tokens_ok && !requests_ok) d.reason = LimitReason::kRequests;
  d.retry_after_ms = std::max<std::int64_t>(1, std::max(token_wait, request_wait));
  d.remaining_tokens = std::max<std::int64_t>(0, tokens_per_minute_ - tokens);
  d.remaining_requests = std::max<std::int64_t>(0, requests_per_10s_ - requests);
  return d;
}

LimitDecision TokenRateLimiter::peek(MillisTime now) {
  std::lock_guard lock(mu_);
  std::int64_t tokens = 0;
  std::int64_t requests = 0;
  sums(floor_div(now, 1000), tokens, requests);
  LimitDecision d;
  d.remaining_tokens = std::max<std::int64_t>(0, tokens_per_minute_ - tokens);
  d.remaining_requests = std::max<std::int64_t>(0, requests_per_10s_ - requests);
  return d;
}

void TokenRateLimiter::reset() {
  std::lock_guard lock(mu_);
  buckets_.fill(Bucket{});
}

UtilizationLimiter::UtilizationLimiter(std::int64_t capacity_tokens_per_minute)
    : capacity_(static_cast<double>(std::max<std::int64_t>(1, capacity_tokens_per_minute))),
      drain_per_ms_(capacity_ / 60'000.0) {}

double UtilizationLimiter::drain(MillisTime now) {
  if (!started_) {
    started_ = true;
    last_ = now;
  }
  if (now > last_) {
    level_ = std::max(0.0, level_ - static_cast<double>(now - last_) * drain_per_ms_);
    last_ = now;
  }
  return level_;
}

LimitDecision UtilizationLimiter::admit(std::int64_t cost, MillisTime now) {
  std::lock_guard lock(mu_);
  double level = drain(now);
  LimitDecision d;
  if (level >= capacity_) {
    d.allowed = false;
    d.reason = LimitReason::kUtilization;
    // Admission resumes as soon as the level drops below capacity.
    d.retry_after_ms = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::ceil((level - capacity_) / drain_per_ms_)) + 1);
    d.utilization_percent = level / capacity_ * 100.0;
    return d;
  }
  level_ = level + static_cast<double>(std::max<std::int64_t>(0, cost));
  d.utilization_percent = level_ / capacity_ * 100.0;
  return d;
}

LimitDecision UtilizationLimiter::peek(MillisTime now) {
  std::lock_guard lock(mu_);
  LimitDecision d;
  d.utilization_percent = drain(now) / capacity_ * 100.0;
  return d;
}

void UtilizationLimiter::reset() {
  std::lock_guard lock(mu_);
  level_ = 0.0;
}

}  // namespace sluice::sim
