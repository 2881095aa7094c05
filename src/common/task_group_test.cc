#include "common/task_group.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/cancel.h"

namespace otelrr {
namespace {

TEST(TaskGroupTest, TheDestructorWaitsForEveryTask) {
  std::atomic<int> done{0};
  {
    TaskGroup tasks;
    for (int i = 0; i < 4; ++i) {
      tasks.Run([&done] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        done.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(done.load(), 4);
}

TEST(TaskGroupTest, FinishedTasksAreJoinedAtTheNextRun) {
  TaskGroup tasks;
  tasks.Run([] {});
  while (tasks.running() > 0) std::this_thread::yield();
  std::atomic<bool> release{false};
  tasks.Run([&release] {
    while (!release.load()) std::this_thread::yield();
  });
  EXPECT_EQ(tasks.running(), 1u);
  release.store(true);
}

TEST(CancellationTest, CallbacksRunOnceAndLateRegistrationsRunAtOnce) {
  Cancellation cancel;
  int calls = 0;
  {
    auto registered = cancel.OnCancel([&calls] { ++calls; });
    auto gone = cancel.OnCancel([&calls] { calls += 100; });
    gone.reset();  // unregistered: never runs
    EXPECT_FALSE(cancel.cancelled());
    std::thread other([&cancel] { cancel.Cancel(); });
    other.join();
    cancel.Cancel();
    EXPECT_TRUE(cancel.cancelled());
    EXPECT_EQ(calls, 1);
  }
  auto late = cancel.OnCancel([&calls] { ++calls; });
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace otelrr
