#pragma once
// Azure OpenAI's admission control for one deployment.
//
// Standard deployments: tokens-per-minute charged at arrival (prompt tokens + max_tokens), and
// requests per 10 seconds = TPM / 1000 (Azure's "6 RPM per 1,000 TPM", enforced over 10 s). Both
// are sliding windows of one-second buckets, so memory and time per request are constant whatever
// the request rate. Provisioned deployments: a leaky bucket of capacity one minute of throughput,
// draining continuously; a request is admitted while utilization is below 100% and then adds its
// estimate (it may overshoot, as Azure's does).
//
// Thread-safety: every method may be called from any thread (one small mutex per deployment; the
// simulator is not the gateway).
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace sluice::sim {

enum class LimitReason { kNone, kTokens, kRequests, kUtilization };

struct LimitDecision {
  bool allowed = true;
  LimitReason reason = LimitReason::kNone;
  std::int64_t retry_after_ms = 0;  // > 0 when refused
  std::int64_t remaining_tokens = 0;
  std::int64_t remaining_requests = 0;
  double utilization_percent = 0.0;  // provisioned deployments
};

// Time in milliseconds on any monotonic scale (tests pass their own clock).
using MillisTime = std::int64_t;
MillisTime steady_now_ms();

// Whole seconds a client is told to wait: Azure rounds up and never says 0.
std::int64_t retry_after_seconds(std::int64_t retry_after_ms);

class TokenRateLimiter {
 public:
  // tokens_per_minute > 0.
  explicit TokenRateLimiter(std::int64_t tokens_per_minute);

  std::int64_t tokens_per_minute() const { return tokens_per_minute_; }
  std::int64_t requests_per_10s() const { return requests_per_10s_; }

  // Charges `cost` tokens and one request when both windows have room; otherwise charges
  // nothing and says when the request would have fitted. A cost above the whole minute's
  // budget is charged as the whole budget (so it can pass once the window is empty).
  LimitDecision admit(std::int64_t cost, MillisTime now);
  // Remaining budget without charging (for throttled responses' headers).
  LimitDecision peek(MillisTime now);
  // Forgets all usage (admin reset).
  void reset();

 private:
  struct Bucket {
    std::int64_t second = -1;
    std::int64_t tokens = 0;
    std::int64_t requests = 0;
  };
  static constexpr int kTokenWindow = 60;
  static constexpr int kRequestWindow = 10;

  void sums(std::int64_t now_second, std::int64_t& tokens, std::int64_t& requests) const;

  std::int64_t tokens_per_minute_;
  std::int64_t requests_per_10s_;
  std::mutex mu_;
  std::array<Bucket, kTokenWindow> buckets_{};
};

class UtilizationLimiter {
 public:
  // capacity_tokens_per_minute > 0.
  explicit UtilizationLimiter(std::int64_t capacity_tokens_per_minute);

  LimitDecision admit(std::int64_t cost, MillisTime now);
  LimitDecision peek(MillisTime now);
  void reset();

 private:
  double drain(MillisTime now);  // returns the level at `now`; caller holds mu_

  double capacity_;
  double drain_per_ms_;
  std::mutex mu_;
  double level_ = 0.0;
  MillisTime last_ = 0;
  bool started_ = false;
};

}  // namespace sluice::sim
