// The one source of time: wall-clock time for timestamps and a monotonic clock for schedules and
// timeouts, with waits that a test can drive.
//
//   Clock& clock = RealClock();
//   uint64_t arrival = clock.WallNowUnixNano();           // a record's arrival time
//   Clock::TimePoint due = clock.Now() + std::chrono::milliseconds(100);
//   std::unique_lock<std::mutex> lock(mu);
//   clock.WaitUntil(lock, cv, due, [&] { return cancelled; });   // woken early by cv + predicate
//
// In tests, SimulatedClock stands in for RealClock (Envoy's SimulatedTimeSystem is the model): time
// stands still until the test moves it, so code that paces or times out runs exactly and instantly:
//
//   SimulatedClock clock;
//   std::thread t([&] { RunReplay(sessions, config, {.clock = &clock}); });
//   clock.WaitForWaiters(1);                 // the replay sleeps until its next record is due
//   clock.AdvanceTo(*clock.NextDeadline());  // ... which is now
//
// Thread-safe: every member may be called from any thread.
#ifndef OTELRR_COMMON_CLOCK_H_
#define OTELRR_COMMON_CLOCK_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

namespace otelrr {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;

  // Monotonic time, for schedules, deadlines and durations.
  virtual TimePoint Now() = 0;
  // Wall-clock time, unix nanoseconds, for timestamps that leave the process.
  virtual uint64_t WallNowUnixNano() = 0;

  // Waits on `cv` (whose mutex `lock` holds, on entry and on return) until `done()` is true or
  // Now() >= deadline; returns done(). Whoever makes done() true notifies `cv`, as with
  // std::condition_variable. TimePoint::max() waits without a deadline.
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, TimePoint deadline,
                         const std::function<bool()>& done) = 0;

  // Sleeps until `deadline` (no early wake).
  void SleepUntil(TimePoint deadline);
};

// The process's clock: std::chrono::steady_clock and std::chrono::system_clock.
Clock& RealClock();

// Time that moves only when a test moves it. Wall time moves with monotonic time.
class SimulatedClock : public Clock {
 public:
  // Starts at an arbitrary monotonic time point and at `wall_unix_nano` on the wall clock.
  explicit SimulatedClock(uint64_t wall_unix_nano = 1'767'225'600'000'000'000ull /* 2026-01-01 */);

  TimePoint Now() override;
  uint64_t WallNowUnixNano() override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, TimePoint deadline,
                 const std::function<bool()>& done) override;

  // Moves time forward (never back) and wakes the waiters whose deadline passed.
  void Advance(Duration by);
  void AdvanceTo(TimePoint to);

  // Blocks (in real time) until at least `n` threads wait in WaitUntil. For tests: "the code under test
  // has nothing left to do until time moves".
  void WaitForWaiters(size_t n);
  // The earliest deadline of the threads waiting now (none when nobody waits with a deadline).
  std::optional<TimePoint> NextDeadline();

 private:
  std::mutex mu_;
  std::condition_variable changed_;  // time moved, or a waiter came or went
  TimePoint now_;
  const uint64_t wall_start_;
  const TimePoint start_;
  std::multimap<TimePoint, int> waiting_;  // deadlines of the threads in WaitUntil
};

}  // namespace otelrr

#endif  // OTELRR_COMMON_CLOCK_H_
