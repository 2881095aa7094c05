// An OtlpExporter for unit tests: answers as the test says, remembers what it was sent and when (on a
// given clock), and honours Cancel. Integration tests use real servers instead.
//
//   FakeExporter exporter(clock);
//   exporter.answer = [](const std::string& body) -> std::optional<ExportResult> { return std::nullopt; };
//   ... RunReplay(sessions, config, {.clock = &clock, .exporter = &exporter}) ...
//   exporter.sent();   // {at, wall, signal, body} per request
#ifndef OTELRR_NET_TESTING_FAKE_EXPORTER_H_
#define OTELRR_NET_TESTING_FAKE_EXPORTER_H_

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "net/otlp_exporter.h"

namespace otelrr::net::testing {

// Answers every request with what `answer` returns (nullopt: no answer until Cancel). Thread-safe.
class FakeExporter : public OtlpExporter {
 public:
  struct Sent {
    Clock::TimePoint at;
    uint64_t wall;
    otlp::Signal signal;
    std::string body;
  };
  explicit FakeExporter(Clock& clock) : clock_(clock) {}

  std::function<std::optional<ExportResult>(const std::string& body)> answer = [](const std::string&) {
    return ExportResult{};
  };

  void Export(otlp::Signal signal, std::shared_ptr<const std::string> request, ExportDone done) override {
    std::optional<ExportResult> r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cancelled_) {
        r = ExportResult{.status = absl::CancelledError("cancelled")};
      } else {
        sent_.push_back({clock_.Now(), clock_.WallNowUnixNano(), signal, *request});
        r = answer(*request);
        if (!r) held_.push_back(std::move(done));
      }
    }
    if (r) done(std::move(*r));
  }
  void Cancel() override {
    std::deque<ExportDone> held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
      held.swap(held_);
    }
    for (auto& done : held) done({.status = absl::CancelledError("cancelled")});
  }
  const std::string& url() const override { return url_; }

  std::vector<Sent> sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }
  // Answers the oldest request still held (answer returned nullopt for it) with `result`, on the caller's
  // thread, as a real exporter answers on one of its own. False when none is held.
  bool AnswerHeld(ExportResult result) {
    ExportDone done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (held_.empty()) return false;
      done = std::move(held_.front());
      held_.pop_front();
    }
    done(std::move(result));
    return true;
  }
  // Takes requests again after a Cancel (a real exporter never does: one replay, one exporter).
  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = false;
  }

 private:
  Clock& clock_;
  const std::string url_ = "http://fake:4318";
  std::mutex mu_;
  std::vector<Sent> sent_;
  std::deque<ExportDone> held_;
  bool cancelled_ = false;
};

}  // namespace otelrr::net::testing

#endif  // OTELRR_NET_TESTING_FAKE_EXPORTER_H_
