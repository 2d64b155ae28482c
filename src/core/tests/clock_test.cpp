#include "sluice/core/clock.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "sluice/core/fake_clock.hpp"

namespace sluice::core {
namespace {

using namespace std::chrono_literals;

TEST(RealClock, AdvancesOnItsOwn) {
  const Clock& clock = real_clock();
  auto before = clock.steady_now();
  std::this_thread::sleep_for(2ms);
  EXPECT_GE(clock.steady_now() - before, 2ms);
  auto wall = clock.system_now().time_since_epoch();
  EXPECT_GT(wall, std::chrono::seconds(FakeClock::kDefaultStart));  // it is later than 2024
}

TEST(FakeClock, StandsStillUntilAdvanced) {
  FakeClock clock;
  auto steady = clock.steady_now();
  auto wall = clock.system_now();
  EXPECT_EQ(wall.time_since_epoch(), FakeClock::kDefaultStart);
  EXPECT_EQ(clock.steady_now(), steady);
  clock.advance(1500ms);
  EXPECT_EQ(clock.steady_now() - steady, 1500ms);
  EXPECT_EQ(clock.system_now() - wall, 1500ms);
}

TEST(FakeClock, WallClockStepLeavesSteadyAlone) {
  FakeClock clock;
  auto steady = clock.steady_now();
  clock.set_system_time(Clock::SystemTime(std::chrono::seconds(1)));
  EXPECT_EQ(clock.system_now().time_since_epoch(), 1s);
  EXPECT_EQ(clock.steady_now(), steady);
  clock.advance(-5s);  // ignored: a steady clock never goes back
  EXPECT_EQ(clock.steady_now(), steady);
}

TEST(FakeClock, UsableThroughTheInterface) {
  FakeClock fake;
  const Clock& clock = fake;
  auto start = clock.steady_now();
  fake.advance(1min);
  EXPECT_EQ(clock.steady_now() - start, 1min);
}

}  // namespace
}  // namespace sluice::core
