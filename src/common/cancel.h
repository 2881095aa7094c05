// A request to stop, shared by whoever may ask (a signal handler's thread, an API call) and whoever
// does the work, which checks it and can be woken by it.
//
//   Cancellation cancel;
//   auto wake = cancel.OnCancel([&] { std::lock_guard l(mu); cv.notify_all(); });  // until `wake` dies
//   while (!cancel.cancelled()) { ... wait on cv ... }
//   ... from another thread: cancel.Cancel();
//
// Thread-safe. Cancel() is not async-signal-safe: call it from a thread (capture and serve wait for
// signals with sigwait on one).
#ifndef OTELRR_COMMON_CANCEL_H_
#define OTELRR_COMMON_CANCEL_H_

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>

namespace otelrr {

class Cancellation {
 public:
  class Registration;

  // Runs every registered callback once; later calls do nothing.
  void Cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // Runs `fn` when Cancel() is called (at once when it was), until the returned registration is
  // destroyed. `fn` must not block or call back into this object.
  [[nodiscard]] std::unique_ptr<Registration> OnCancel(std::function<void()> fn);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;  // guards callbacks_; held while they run, so a registration never outlives a call
  std::list<std::function<void()>> callbacks_;
};

class Cancellation::Registration {
 public:
  Registration(Cancellation& owner, std::list<std::function<void()>>::iterator it) : owner_(owner), it_(it) {}
  ~Registration();
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

 private:
  Cancellation& owner_;
  std::list<std::function<void()>>::iterator it_;
};

}  // namespace otelrr

#endif  // OTELRR_COMMON_CANCEL_H_
