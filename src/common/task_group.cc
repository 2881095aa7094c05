#include "common/task_group.h"

#include <algorithm>

namespace otelrr {

TaskGroup::~TaskGroup() {
  std::list<Task> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks.swap(tasks_);
  }
  for (Task& t : tasks) t.thread.join();
}

void TaskGroup::Run(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(mu_);
  JoinFinished();
  Task& t = tasks_.emplace_back();
  t.thread = std::thread([this, &t, task = std::move(task)] {
    task();
    std::lock_guard<std::mutex> done(mu_);
    t.finished = true;
  });
}

size_t TaskGroup::running() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(std::count_if(tasks_.begin(), tasks_.end(), [](const Task& t) { return !t.finished; }));
}

void TaskGroup::JoinFinished() {
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (!it->finished) {
      ++it;
      continue;
    }
    it->thread.join();  // it only has to return
    it = tasks_.erase(it);
  }
}

}  // namespace otelrr
