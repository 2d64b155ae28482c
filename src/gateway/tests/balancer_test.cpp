#include <gtest/gtest.h>

#include <map>

#include "gateway/balancer.hpp"

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  Fixture(std::vector<std::tuple<std::string, int, int>> members) {
    for (auto& [name, priority, weight] : members) {
      BackendSettings b;
      b.name = name;
      b.url = *http::parse_url("http://127.0.0.1:1");
      settings.backends.push_back(b);
      pool.members.push_back(PoolMember{name, priority, weight});
    }
    pool.name = "p";
    pool.breaker.failures = 1;
    settings.pools.push_back(pool);
    runtime = std::make_unique<Runtime>(settings);
  }
  GatewaySettings settings;
  PoolSettings pool;
  std::unique_ptr<Runtime> runtime;
};

TEST(Balancer, PrefersLowestPriorityAndSpillsWhenTried) {
  Fixture f({{"ptu", 1, 1}, {"paygo", 2, 1}});
  Balancer balancer(1);
  auto& pool = *f.runtime->pools()[0];
  std::vector<bool> tried(2, false);
  int first = balancer.pick(pool, tried, std::chrono::steady_clock::now());
  EXPECT_EQ(pool.members[first]->backend->settings.name, "ptu");
  int second = balancer.pick(pool, tried, std::chrono::steady_clock::now());
  EXPECT_EQ(pool.members[second]->backend->settings.name, "paygo");
  EXPECT_EQ(balancer.pick(pool, tried, std::chrono::steady_clock::now()), -1);
}

TEST(Balancer, WeightsSplitTrafficInsideAGroup) {
  Fixture f({{"a", 1, 1}, {"b", 1, 3}});
  Balancer balancer(7);
  auto& pool = *f.runtime->pools()[0];
  std::map<std::string, int> counts;
  for (int i = 0; i < 4000; ++i) {
    std::vector<bool> tried(2, false);
    int index = balancer.pick(pool, tried, std::chrono::steady_clock::now());
    counts[pool.members[index]->backend->settings.name]++;
  }
  EXPECT_NEAR(counts["b"] / 4000.0, 0.75, 0.04);
}

TEST(Balancer, SkipsOpenBreakers) {
  Fixture f({{"ptu", 1, 1}, {"paygo", 2, 1}});
  Balancer balancer(3);
  auto& pool = *f.runtime->pools()[0];
  auto now = std::chrono::steady_clock::now();
  pool.members[0]->breaker.record_failure(now, 0ms);  // failures: 1 trips it
  std::vector<bool> tried(2, false);
  int index = balancer.pick(pool, tried, now);
  ASSERT_GE(index, 0);
  EXPECT_EQ(pool.members[index]->backend->settings.name, "paygo");
}

}  // namespace
}  // namespace sluice::gateway
