// SIGINT and SIGTERM for the commands that run until they are stopped or done (seed, replay, capture,
// serve): the first one asks the command to stop (it finishes cleanly and says what it did); a second
// one ends the process at once, with exit code 130.
//
//   StopSignals stop;                       // first thing, before any thread starts
//   config.cancel = &stop.cancellation();   // the work stops when a signal comes
//   ... or stop.Wait();                     // capture and serve: until a signal (or Stop())
//
// The signals are blocked in the calling thread and in every thread started after it, and a thread of
// this object takes them with sigwait, so no handler runs in an arbitrary thread.
#ifndef OTELRR_CLI_STOP_SIGNALS_H_
#define OTELRR_CLI_STOP_SIGNALS_H_

#include <signal.h>

#include <atomic>
#include <thread>

#include "common/cancel.h"

namespace otelrr::cli {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  Cancellation& cancellation() { return cancel_; }
  // Blocks until a stop signal came or Stop() was called.
  void Wait();
  // Stops as a signal would (a capture that reached its limit, say), without recording a signal.
  void Stop() { cancel_.Cancel(); }
  // The signal that stopped the command (SIGINT, SIGTERM), or 0.
  int signal() const { return signal_.load(); }

 private:
  void Run();

  sigset_t signals_;
  sigset_t previous_;
  Cancellation cancel_;
  std::atomic<int> signal_{0};
  std::atomic<bool> closing_{false};
  std::thread thread_;  // last
};

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_STOP_SIGNALS_H_
