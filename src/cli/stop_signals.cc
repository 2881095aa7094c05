#include "cli/stop_signals.h"

#include <pthread.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

namespace otelrr::cli {

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
  thread_ = std::thread([this] { Run(); });
}

StopSignals::~StopSignals() {
  closing_.store(true);
  pthread_kill(thread_.native_handle(), SIGTERM);  // wakes its sigwait
  thread_.join();
  // A signal that came meanwhile stays pending; dropping it would hide it, delivering it would kill us
  // after the command already answered. Leave the mask blocked: the process is about to exit.
}

void StopSignals::Run() {
  while (true) {
    int sig = 0;
    if (sigwait(&signals_, &sig) != 0) continue;
    if (closing_.load()) return;
    if (signal_.load() != 0) {
      // Like a crash: what was acknowledged is on disk, and a session being written stays "active" until the
      // next otelrr command that opens the store recovers it (status failed, "interrupted").
      constexpr char kMessage[] =
          "\notelrr: second stop signal: exiting at once; a session being written is left as it is, and the next "
          "otelrr command on this store recovers it\n";
      (void)!write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
      _exit(130);
    }
    signal_.store(sig);
    cancel_.Cancel();
  }
}

void StopSignals::Wait() {
  std::mutex mu;
  std::condition_variable cv;
  auto wake = cancel_.OnCancel([&] {
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return cancel_.cancelled(); });
}

}  // namespace otelrr::cli
