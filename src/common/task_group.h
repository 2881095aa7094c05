// Work that must not block the thread that receives it, each task on a thread the group owns: no
// detached thread, nothing left running when the owner goes away.
//
//   TaskGroup tasks;                                        // a member of the owner, declared last
//   tasks.Run([this, respond] { respond(SlowAnswer()); });  // returns at once
//   ...                                                     // ~TaskGroup waits for every task
//
// Finished tasks' threads are joined at the next Run and by the destructor, which waits for the tasks
// still running: declare the group after everything its tasks use, so it is destroyed first.
// Thread-safe.
#ifndef OTELRR_COMMON_TASK_GROUP_H_
#define OTELRR_COMMON_TASK_GROUP_H_

#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace otelrr {

class TaskGroup {
 public:
  TaskGroup() = default;
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void Run(std::function<void()> task);
  // Tasks that have not finished yet.
  size_t running();

 private:
  struct Task {
    std::thread thread;
    bool finished = false;  // guarded by mu_
  };
  void JoinFinished();  // mu_ held

  std::mutex mu_;
  std::list<Task> tasks_;  // guarded by mu_
};

}  // namespace otelrr

#endif  // OTELRR_COMMON_TASK_GROUP_H_
