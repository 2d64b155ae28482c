#include "gateway/balancer.hpp"

namespace sluice::gateway {

int Balancer::pick(PoolRuntime& pool, std::vector<bool>& tried,
                   std::chrono::steady_clock::time_point now) {
  const auto& members = pool.members;
  std::size_t group_start = 0;
  while (group_start < members.size()) {
    std::size_t group_end = group_start;
    int priority = members[group_start]->priority;
    while (group_end < members.size() && members[group_end]->priority == priority) ++group_end;
    // Within the group, retry the draw while a breaker refuses at the last moment (a probe race).
    for (;;) {
      std::int64_t total = 0;
      for (std::size_t i = group_start; i < group_end; ++i) {
        if (!tried[i] && members[i]->breaker.would_allow(now)) total += members[i]->weight;
      }
      if (total == 0) break;
      std::int64_t draw = static_cast<std::int64_t>(random_() % static_cast<std::uint64_t>(total));
      for (std::size_t i = group_start; i < group_end; ++i) {
        if (tried[i] || !members[i]->breaker.would_allow(now)) continue;
        draw -= members[i]->weight;
        if (draw < 0) {
          tried[i] = true;
          if (members[i]->breaker.try_acquire(now)) return static_cast<int>(i);
          break;
        }
      }
    }
    group_start = group_end;
  }
  return -1;
}

}  // namespace sluice::gateway
