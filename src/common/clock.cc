#include "common/clock.h"

#include <thread>

namespace otelrr {
namespace {

class SystemClock : public Clock {
 public:
  TimePoint Now() override { return std::chrono::steady_clock::now(); }

  uint64_t WallNowUnixNano() override {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  }

  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, TimePoint deadline,
                 const std::function<bool()>& done) override {
    if (deadline == TimePoint::max()) {
      cv.wait(lock, done);
      return true;
    }
    return cv.wait_until(lock, deadline, done);
  }
};

}  // namespace

void Clock::SleepUntil(TimePoint deadline) {
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mu);
  WaitUntil(lock, cv, deadline, [] { return false; });
}

Clock& RealClock() {
  static SystemClock* clock = new SystemClock();  // never destroyed: threads may use it at exit
  return *clock;
}

SimulatedClock::SimulatedClock(uint64_t wall_unix_nano)
    : now_(TimePoint() + std::chrono::hours(1)), wall_start_(wall_unix_nano), start_(now_) {}

Clock::TimePoint SimulatedClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

uint64_t SimulatedClock::WallNowUnixNano() {
  std::lock_guard<std::mutex> lock(mu_);
  return wall_start_ + static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now_ - start_).count());
}

bool SimulatedClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, TimePoint deadline,
                               const std::function<bool()>& done) {
  // The waiter polls simulated time (every millisecond of real time) while it waits on its own
  // condition variable, so that it needs no registration the clock would have to notify through:
  // the clock never takes a waiter's mutex, and lock order stays waiter's mutex -> mu_.
  std::multimap<TimePoint, int>::iterator self;
  {
    std::lock_guard<std::mutex> g(mu_);
    self = waiting_.emplace(deadline, 0);
  }
  changed_.notify_all();
  bool result = done();
  while (!result && Now() < deadline) {
    cv.wait_for(lock, std::chrono::milliseconds(1));
    result = done();
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    waiting_.erase(self);
  }
  changed_.notify_all();
  return result;
}

void SimulatedClock::Advance(Duration by) {
  std::lock_guard<std::mutex> lock(mu_);
  if (by > Duration::zero()) now_ += by;
  changed_.notify_all();
}

void SimulatedClock::AdvanceTo(TimePoint to) {
  std::lock_guard<std::mutex> lock(mu_);
  if (to > now_) now_ = to;
  changed_.notify_all();
}

void SimulatedClock::WaitForWaiters(size_t n) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return waiting_.size() >= n; });
}

std::optional<Clock::TimePoint> SimulatedClock::NextDeadline() {
  std::lock_guard<std::mutex> lock(mu_);
  if (waiting_.empty() || waiting_.begin()->first == TimePoint::max()) return std::nullopt;
  return waiting_.begin()->first;
}

}  // namespace otelrr
