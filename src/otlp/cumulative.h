// Keeps cumulative metric series continuous across the iterations of a looped replay.
//
// A looped replay sends the same recording again and again. Without help its cumulative series
// (counters, cumulative histograms and exponential histograms, summaries) would fall back to their first
// values, with a new start time, at every iteration: a backend reads that as a counter reset, and rates
// and increases computed across iterations go wrong. CumulativeCarry learns every cumulative series while
// the first iteration is sent and, in later iterations, adds what the series gained over one iteration
// (times the number of iterations before) and keeps the start time it had, so each series keeps
// increasing as if the system had simply kept running:
//
//   CumulativeCarry carry;
//   // iteration 0, each metrics request as it is sent (timestamps already shifted):
//   carry.Observe(body, /*recording_start=*/session_start_as_sent);
//   // iteration k >= 1, after shifting:
//   std::string continued;
//   if (carry.Continue(body, k, &continued)) body.swap(continued);
//
// A series is a resource, a scope, a metric's name and type, and a data point's attributes (compared as
// bytes, in any order). What one iteration adds to it, D, is its last point minus its first. When the
// series started inside the recording (its start time at or after `recording_start`), it counted from
// zero, and D is the last point itself, so the step from one iteration into the next is as large as the
// recording's first step. Iteration k adds k × D to:
//   monotonic sums        the value (as_int or as_double);
//   histograms            count, sum and every bucket count (the bounds must stay the same);
//   exponential histograms count, sum, zero count and the buckets, at the coarser of the two scales;
//   summaries             count and sum (quantiles stay as recorded: they are not cumulative).
// Non-monotonic cumulative sums (an up-down counter) keep their recorded values and only their start time.
// Start times are pinned in the first iteration too, when requests were shifted by different amounts
// (Observe's `shift`): every point of a series keeps the start time its first point was sent with.
// Left exactly as recorded: gauges, delta temporality, points flagged "no recorded value", series that
// reset inside the recording (the start time changed, or a count or monotonic value fell), histograms
// whose bounds changed, and series the first iteration did not see.
//
// The rewrite rebuilds the request (bucket counts of exponential histograms are varints, so a request
// can change size); fields it does not change keep their bytes, unknown fields included. Memory: one entry
// per series, with its first and last point.
#ifndef OTELRR_OTLP_CUMULATIVE_H_
#define OTELRR_OTLP_CUMULATIVE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace otelrr::otlp {

class CumulativeCarry {
 public:
  CumulativeCarry();
  ~CumulativeCarry();
  CumulativeCarry(const CumulativeCarry&) = delete;
  CumulativeCarry& operator=(const CumulativeCarry&) = delete;

  // Learns the cumulative series of one ExportMetricsServiceRequest (protobuf) of the first iteration.
  // `recording_start` is the recording's start in the same time frame as the request's timestamps.
  // Bytes that do not parse are skipped (replay validates requests before this).
  void Observe(std::string_view request, uint64_t recording_start) { Observe(request, recording_start, 0, nullptr); }

  // The same for a request whose timestamps were moved by `shift` from the frame in which requests
  // compare (replay's --timestamps current moves each request by its own amount; recording_start is in
  // that frame). A cumulative series keeps one start time: a start time S of that frame is sent as it
  // was first sent, so when this request's start times differ from that (its shift differs from the
  // first one's) and `out` is set, *out gets the request with those start times pinned and it returns
  // true; otherwise false and *out is left alone.
  bool Observe(std::string_view request, uint64_t recording_start, int64_t shift, std::string* out);

  // Writes to *out the request of iteration `iteration` (>= 1) with its cumulative series continued, and
  // returns true; returns false (and leaves *out alone) when nothing in it needs to change.
  bool Continue(std::string_view request, uint64_t iteration, std::string* out);

  // Series learned so far, and how many of them will be continued.
  size_t series() const;
  size_t continued_series() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace otelrr::otlp

#endif  // OTELRR_OTLP_CUMULATIVE_H_
