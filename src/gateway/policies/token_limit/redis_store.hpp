#pragma once
// Token counters in Redis, shared by every gateway instance that uses the same Redis and
// key_prefix. The same semantics as LocalStore (sliding_window.hpp, judge()), run by two Lua
// scripts so that checking and charging all limits of a request is one atomic step on the server:
//
//   {prefix}tl:{limit}:win:{counter}               hash: window bucket (Unix second) -> tokens,
//                                                  "now" -> latest time (ms), "total" -> sum of
//                                                  the buckets, "from" -> oldest bucket kept;
//                                                  expires 62 s after the last write
//   {prefix}tl:{limit}:q:{period start}:{counter}  integer: tokens used in that quota period,
//                                                  expires when the period is over
//
// Windows use the gateway's wall clock, and each window keeps the latest time it was used at
// (hash field "now"): a request carrying an older time (a host whose clock lags, or a time read
// before a slow round trip) is taken to happen at that latest time, so time never runs backwards
// for a window and clock skew between instances cannot let more than the limit through; a lagging
// host only sees capacity return up to its skew late. Keep hosts NTP-synced. All keys of one
// request are sent to one Redis server: Redis Cluster is not supported.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gateway/policies/token_limit/redis_client.hpp"
#include "gateway/policies/token_limit/reservation.hpp"
#include "gateway/policies/token_limit/settlement_coalescer.hpp"
#include "sluice/http/asio.hpp"

namespace sluice::gateway::token_limit {

std::string window_key(const std::string& prefix, const LimitSpec& limit,
                       const std::string& counter);
std::string quota_key(const std::string& prefix, const LimitSpec& limit, std::int64_t period_start,
                      const std::string& counter);

class RedisStore {
 public:
  explicit RedisStore(const RedisSettings& settings);

  struct Answer {
    RedisReply::Status status = RedisReply::Status::kUnavailable;
    std::string error;     // when status is not kOk
    ReserveResult result;  // when status is kOk
  };

  // Reserves atomically in Redis (the same rule as LocalStore::reserve). Never blocks the calling
  // thread: the round trip runs on the coroutine's own event loop's connection, in one script call
  // with the other reservations its loop asked for in the same turn (in the order asked). A
  // settlement its loop queued in that turn may run after a reservation asked later in the turn:
  // the two requests were concurrent, and either order is one they could have had.
  // `charges` must stay valid until the returned task completes.
  http::Task<Answer> reserve(std::span<const Charge> charges, const Instant& now);

  // Sends the settlements without waiting, on `executor`'s connection. Settlements made while an
  // earlier one is still queued join it (settlement_coalescer.hpp): one script call for all of
  // them, on the connection of the loop that queued it. So `done(ok)` (optional) runs on that
  // loop, which may be another worker's: it must be safe to call from any thread. Any thread.
  void settle(const RedisClient::Executor& executor, std::span<const Settlement> settlements,
              const Instant& now, std::function<void(bool ok, const std::string& error)> done = {});

  RedisClient& client() { return client_; }
  // Settle script calls made so far (each carries one or more coalesced settlements).
  std::uint64_t settle_scripts() const {
    return settling_->scripts.load(std::memory_order_relaxed);
  }

 private:
  // The reserve script's request and the parsing of its reply, apart so tests can see them.
  void build_reserve(std::span<const Charge> charges, const Instant& now, RespStrings& keys,
                     RespStrings& args) const;
  static bool parse_reserve(std::span<const Charge> charges, const Instant& now,
                            const std::vector<long long>& reply, ReserveResult& result);

  // Settlements gathering for the next flush. Shared with the flush that takes them, which may be
  // written after this store is gone (a reload), on a connection that outlives it.
  struct Settling {
    SettlementCoalescer coalescer;
    std::atomic<std::uint64_t> scripts{0};
  };

  RedisSettings settings_;
  std::shared_ptr<Settling> settling_ = std::make_shared<Settling>();
  RedisClient client_;
  const std::uint64_t id_;  // unique in the process: what a thread's kept keys are for
};

}  // namespace sluice::gateway::token_limit
