#include "common/clock.h"

#include <gtest/gtest.h>

#include <thread>

namespace otelrr {
namespace {

using std::chrono::milliseconds;

TEST(SimulatedClockTest, TimeMovesOnlyWhenTold) {
  SimulatedClock clock(1'000'000'000);
  Clock::TimePoint t0 = clock.Now();
  std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(clock.Now(), t0);
  EXPECT_EQ(clock.WallNowUnixNano(), 1'000'000'000u);
  clock.Advance(milliseconds(250));
  EXPECT_EQ(clock.Now() - t0, milliseconds(250));
  EXPECT_EQ(clock.WallNowUnixNano(), 1'250'000'000u);
  clock.AdvanceTo(t0);  // never back
  EXPECT_EQ(clock.Now() - t0, milliseconds(250));
}

TEST(SimulatedClockTest, AWaiterWakesExactlyAtItsDeadlineOrWhenDone) {
  SimulatedClock clock;
  const Clock::TimePoint deadline = clock.Now() + milliseconds(100);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Clock::TimePoint woke{};
  bool result = true;
  std::thread waiter([&] {
    std::unique_lock<std::mutex> lock(mu);
    result = clock.WaitUntil(lock, cv, deadline, [&] { return done; });
    woke = clock.Now();
  });
  clock.WaitForWaiters(1);
  EXPECT_EQ(clock.NextDeadline(), deadline);
  clock.Advance(milliseconds(99));
  std::this_thread::sleep_for(milliseconds(20));  // real time: the waiter must still be waiting
  EXPECT_EQ(clock.NextDeadline(), deadline);
  clock.Advance(milliseconds(1));
  waiter.join();
  EXPECT_FALSE(result);
  EXPECT_EQ(woke, deadline);
  EXPECT_EQ(clock.NextDeadline(), std::nullopt);

  std::thread early([&] {
    std::unique_lock<std::mutex> lock(mu);
    result = clock.WaitUntil(lock, cv, Clock::TimePoint::max(), [&] { return done; });
  });
  clock.WaitForWaiters(1);
  EXPECT_EQ(clock.NextDeadline(), std::nullopt);  // no deadline
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  early.join();
  EXPECT_TRUE(result);
}

TEST(RealClockTest, WallAndMonotonicTimeMove) {
  Clock& clock = RealClock();
  uint64_t wall = clock.WallNowUnixNano();
  Clock::TimePoint t = clock.Now();
  clock.SleepUntil(t + milliseconds(2));
  EXPECT_GE(clock.Now() - t, milliseconds(2));
  EXPECT_GT(clock.WallNowUnixNano(), wall);
  EXPECT_GT(wall, 1'700'000'000'000'000'000u);
}

}  // namespace
}  // namespace otelrr
