#pragma once
// Chooses the next pool member for an attempt: the best (lowest) priority group that still has an
// eligible member, then a weighted random choice inside it. Members already tried by this request,
// and members whose breaker is open, are skipped.
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "gateway/runtime.hpp"

namespace sluice::gateway {

class Balancer {
 public:
  explicit Balancer(std::uint64_t seed) : random_(seed) {}

  // Index into pool.members, or -1 when none is eligible. On success the member's breaker has
  // admitted the request (it may be the half-open probe). `tried` has one flag per member.
  int pick(PoolRuntime& pool, std::vector<bool>& tried, std::chrono::steady_clock::time_point now);

 private:
  std::minstd_rand random_;
};

}  // namespace sluice::gateway
