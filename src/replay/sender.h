// Sends a replay's requests: a bounded window in flight, retries as the OTLP specification says, every
// outcome counted (replay.h, "Delivery").
//
//   Sender sender(exporter, clock, config);
//   while (...) {
//     Clock::TimePoint next_retry = sender.Poll();       // answers accounted, due retries sent
//     if (sender.HasRoom(body.size())) sender.Send(signal, std::move(body), items);
//     else sender.Wait(std::min(next_retry, next_record_due));
//   }
//   sender.Stop();                 // no more retries: what waits for one is abandoned
//   while (!sender.idle()) { sender.Poll(); sender.Wait(deadline); }
//
// Thread-safety: one thread (the replay's) calls every member except Wake, which any thread may call.
// The exporter's callbacks only queue the answers and wake that thread; Poll accounts for them there, so
// the counts need no lock. Retries and backoff run on the given clock (simulated in tests).
#ifndef OTELRR_REPLAY_SENDER_H_
#define OTELRR_REPLAY_SENDER_H_

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "net/otlp_exporter.h"
#include "otlp/signal.h"
#include "replay/replay.h"

namespace otelrr::replay {

class Sender {
 public:
  Sender(net::OtlpExporter& exporter, Clock& clock, const ReplayConfig& config);
  // Waits for the exporter's callbacks still due (callers end with idle(); see Stop and Abort).
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Whether a request of `bytes` may be sent now (one request always may when none is in flight).
  bool HasRoom(size_t bytes) const;
  void Send(otlp::Signal signal, std::string body, uint64_t items);

  // Accounts for the answers that came, schedules retries of the retryable failures and sends the
  // retries that are due. Returns when the next retry is due (TimePoint::max() when none waits).
  Clock::TimePoint Poll();
  // Waits until an answer comes, Wake() is called, or `until`. With `for_any_answer` false, only an
  // answer that is not a success ends it early (it may need a retry): a paced replay that waits for its
  // next record accounts for the successes when it wakes anyway, instead of waking for each of them.
  void Wait(Clock::TimePoint until, bool for_any_answer = true);
  // Ends a Wait early (any thread).
  void Wake();

  // From now on nothing is retried: requests waiting for a retry, and failures that would be retried,
  // count as abandoned.
  void Stop();
  // Stop, and cut off the requests on the wire (their answers come at once, counted as abandoned).
  void Abort();

  bool idle() const { return in_flight_ == 0 && retries_.empty(); }
  size_t in_flight() const { return in_flight_; }
  size_t retrying() const { return retries_.size(); }
  const otlp::PerSignal<SignalReport>& counts() const { return counts_; }
  const std::string& first_error() const { return first_error_; }
  const std::string& last_error() const { return last_error_; }
  // Answers by the target's status: the HTTP status ("200", "503") or the gRPC code ("OK", "UNAVAILABLE");
  // "no answer" when none came (OTLP/HTTP: refused, reset, timed out, cut off).
  const std::map<std::string, uint64_t>& status_codes() const { return status_codes_; }

 private:
  struct Job {
    otlp::Signal signal;
    std::shared_ptr<const std::string> body;  // shared with the exporter, kept for retries
    uint64_t items;
    int attempt;
    Clock::TimePoint first_attempt;
  };
  struct Answer {
    std::shared_ptr<Job> job;
    net::ExportResult result;
  };

  void Attempt(const std::shared_ptr<Job>& job);
  void Account(Answer answer);
  void Failed(const Job& job, std::string message);

  net::OtlpExporter& exporter_;
  Clock& clock_;
  const ReplayConfig& config_;
  const bool http_;

  // The replay's thread only.
  otlp::PerSignal<SignalReport> counts_;
  std::string first_error_;
  std::string last_error_;
  std::map<std::string, uint64_t> status_codes_;
  size_t in_flight_ = 0;        // sent (or being retried) and not answered yet
  size_t in_flight_bytes_ = 0;
  std::multimap<Clock::TimePoint, std::shared_ptr<Job>> retries_;
  std::mt19937_64 rng_;
  bool stopped_ = false;

  // Shared with the exporter's threads.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Answer> answers_;  // guarded by mu_
  size_t outstanding_ = 0;       // guarded by mu_: attempts whose callback has not run
  bool woken_ = false;           // guarded by mu_
  bool failure_queued_ = false;  // guarded by mu_: answers_ holds one that is not a success
  bool any_answer_wakes_ = true; // guarded by mu_: what the Wait under way waits for
};

}  // namespace otelrr::replay

#endif  // OTELRR_REPLAY_SENDER_H_
