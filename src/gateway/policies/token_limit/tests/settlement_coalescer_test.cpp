#include "gateway/policies/token_limit/settlement_coalescer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>

namespace sluice::gateway::token_limit {
namespace {

// The keys are views: the strings must outlive the add() they are passed to.
SettleEntry entry(std::string_view window, std::int64_t bucket, std::int64_t delta,
                  std::string_view quota = "q", std::int64_t ttl = 100) {
  return SettleEntry{window, quota, bucket, delta, delta, ttl};
}

TEST(SettlementCoalescerTest, OnlyTheFirstSettlementQueuesAFlush) {
  SettlementCoalescer coalescer;
  std::vector<SettleEntry> one{entry("w", 10, -5)};
  EXPECT_TRUE(coalescer.add(one, 1000, {}));
  EXPECT_FALSE(coalescer.add(one, 1000, {}));
  EXPECT_FALSE(coalescer.add(one, 1000, {}));
  auto batch = coalescer.take();
  EXPECT_EQ(batch.settlements, 3u);
  // Taken: the next settlement needs a flush of its own.
  EXPECT_TRUE(coalescer.add(one, 1000, {}));
  EXPECT_EQ(coalescer.take().settlements, 1u);
  EXPECT_EQ(coalescer.take().entries.size(), 0u);
}

TEST(SettlementCoalescerTest, MergesPerKeyBucketAndDirectionWithExactSums) {
  SettlementCoalescer coalescer;
  std::vector<SettleEntry> first{entry("w", 10, -5), entry("other", 10, 7)};
  std::vector<SettleEntry> second{entry("w", 10, -3, "q", 300), entry("other", 10, 2)};
  std::vector<SettleEntry> third{entry("w", 10, 4), entry("w", 11, -1), entry("w", 10, -2, "q2")};
  int dones = 0;
  coalescer.add(first, 1000, [&](bool, const std::string&) { ++dones; });
  coalescer.add(second, 3000, {});
  coalescer.add(third, 2000, [&](bool, const std::string&) { ++dones; });
  auto batch = coalescer.take();
  EXPECT_EQ(batch.now_ms, 3000);  // the latest
  ASSERT_EQ(batch.dones.size(), 2u);
  for (auto& done : batch.dones) done(true, "");
  EXPECT_EQ(dones, 2);
  // w/10/q refunds merge (-8, the longest ttl); other/10 charges merge (+9); the charge to w/10,
  // the other bucket and the other quota key stay apart.
  ASSERT_EQ(batch.entries.size(), 5u);
  auto find = [&](std::string_view window, std::int64_t bucket, std::string_view quota,
                  bool charge) -> SettlementCoalescer::Batch::Entry {
    for (const auto& e : batch.entries) {
      if (e.window_key == window && e.bucket == bucket && e.quota_key == quota &&
          (e.window_delta > 0) == charge) {
        return e;
      }
    }
    ADD_FAILURE() << "no entry " << window << "/" << bucket << "/" << quota;
    return {};
  };
  auto refunds = find("w", 10, "q", false);
  EXPECT_EQ(refunds.window_delta, -8);
  EXPECT_EQ(refunds.quota_delta, -8);
  EXPECT_EQ(refunds.quota_ttl_seconds, 300);
  EXPECT_EQ(find("other", 10, "q", true).window_delta, 9);
  EXPECT_EQ(find("w", 10, "q", true).window_delta, 4);
  EXPECT_EQ(find("w", 11, "q", false).window_delta, -1);
  EXPECT_EQ(find("w", 10, "q2", false).quota_delta, -2);
}

// A quota-only limit (no per-minute window) has window_delta 0: its direction is the quota's.
// The batch keeps its own copies of the keys: the caller's strings may change or go once add()
// returns, merging or not.
TEST(SettlementCoalescerTest, TheBatchKeepsItsOwnKeys) {
  SettlementCoalescer coalescer;
  std::string window = "prefix:tl:limit:win:team-a";
  std::string quota = "prefix:tl:limit:q:1700000000:team-a";
  std::vector<SettleEntry> first{entry(window, 10, -5, quota)};
  coalescer.add(first, 0, {});
  window.assign(window.size(), 'x');
  quota.assign(quota.size(), 'y');
  std::vector<SettleEntry> other{entry(window, 10, -1, quota)};
  coalescer.add(other, 0, {});
  window = "prefix:tl:limit:win:team-a";
  quota = "prefix:tl:limit:q:1700000000:team-a";
  std::vector<SettleEntry> again{entry(window, 10, -2, quota)};
  coalescer.add(again, 0, {});
  window.clear();
  quota.clear();
  auto batch = coalescer.take();
  ASSERT_EQ(batch.entries.size(), 2u);
  EXPECT_EQ(batch.entries[0].window_key, "prefix:tl:limit:win:team-a");
  EXPECT_EQ(batch.entries[0].quota_key, "prefix:tl:limit:q:1700000000:team-a");
  EXPECT_EQ(batch.entries[0].window_delta, -7);
  EXPECT_EQ(batch.entries[1].window_key, std::string(26, 'x'));
  EXPECT_EQ(batch.entries[1].window_delta, -1);
}

TEST(SettlementCoalescerTest, AQuotaOnlyEntryMergesByTheQuotasDirection) {
  SettlementCoalescer coalescer;
  std::vector<SettleEntry> refund{SettleEntry{"w", "q", 10, 0, -6, 100}};
  std::vector<SettleEntry> charge{SettleEntry{"w", "q", 10, 0, 4, 100}};
  coalescer.add(refund, 0, {});
  coalescer.add(refund, 0, {});
  coalescer.add(charge, 0, {});
  auto batch = coalescer.take();
  ASSERT_EQ(batch.entries.size(), 2u);
  EXPECT_EQ(batch.entries[0].quota_delta + batch.entries[1].quota_delta, -12 + 4);
}

// Many threads add while another takes: every settlement lands in exactly one batch, and the
// deltas add up to the same total.
TEST(SettlementCoalescerTest, ConcurrentSettlementsAreTakenExactlyOnce) {
  SettlementCoalescer coalescer;
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::atomic<int> flushes{0};
  std::atomic<bool> stop{false};
  std::int64_t taken_delta = 0;
  std::size_t taken_settlements = 0;
  auto drain = [&] {
    auto batch = coalescer.take();
    taken_settlements += batch.settlements;
    for (const auto& e : batch.entries) taken_delta += e.window_delta;
  };
  std::thread taker([&] {
    while (!stop.load()) drain();
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string window = "w" + std::to_string(i % 3);
        std::vector<SettleEntry> one{entry(window, i % 5, (i % 2) ? -t - 1 : t + 1)};
        if (coalescer.add(one, i, {})) flushes.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  stop.store(true);
  taker.join();
  drain();
  EXPECT_EQ(taken_settlements, static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(taken_delta, 0);  // each thread adds +k and -k equally often
  EXPECT_GE(flushes.load(), 1);
  EXPECT_LE(flushes.load(), kThreads * kEach);
}

}  // namespace
}  // namespace sluice::gateway::token_limit
