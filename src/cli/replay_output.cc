#include "cli/replay_output.h"

#include <signal.h>
#include <string.h>

#include <cstdio>

#include "cli/commands.h"
#include "common/status.h"
#include "fmt/format.h"
#include "replay/report_json.h"

namespace otelrr::cli {
namespace {

std::string SignalName(int signal) { return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : fmt::format("signal {}", signal); }

std::string_view Plural(uint64_t n, std::string_view one, std::string_view many) { return n == 1 ? one : many; }

// "12 of 40", or "12" when the total is not known in advance (a seed sent as it is generated).
std::string OfTotal(uint64_t done, uint64_t total, std::string_view of = " of ") {
  return total == 0 ? fmt::format("{}", done) : fmt::format("{}{}{}", done, of, total);
}

}  // namespace

void ReplayConsole::Attach(replay::ReplayConfig* config) {
  config->progress = [this](const replay::ReplayReport& r) { Progress(r); };
  config->on_error = [this](const std::string& message) { Error(message); };
}

void ReplayConsole::Error(const std::string& message) {
  // Each distinct failure is said when it first happens; repeats are counted in the progress lines.
  auto [it, first] = errors_.try_emplace(message, 0);
  if (first) {
    std::fprintf(stderr, "otelrr %s: %s\n", who_.c_str(), message.c_str());
  } else {
    ++it->second;
  }
}

void ReplayConsole::Progress(const replay::ReplayReport& r) {
  std::string line = fmt::format("otelrr {}: {} records (iteration {}), {} sent, {} accepted, {} failed", who_,
                                 OfTotal(r.records_processed, r.records_total, "/"), std::max<uint64_t>(r.iterations, 1),
                                 r.sent_requests(), r.accepted_requests(), r.failed_requests());
  if (r.retrying > 0) line += fmt::format(", {} waiting to retry", r.retrying);
  line += fmt::format(", {:.1f} s, lag p99 {:.2f} ms", r.elapsed_seconds, r.p99_lag_ms);
  uint64_t repeated = 0;
  for (auto& [message, times] : errors_) {
    repeated += times;
    times = 0;
  }
  if (repeated > 0) line += fmt::format("; {} more failed {} (last: {})", repeated, Plural(repeated, "attempt", "attempts"), r.last_error);
  std::fprintf(stderr, "%s\n", line.c_str());
}

int ReplayConsole::ExitCode(const replay::ReplayReport& report, int signal) {
  if (signal != 0) return kExitInterrupted;
  return replay::DeliveryStatus(report).ok() ? 0 : kExitFailed;
}

void ReplayConsole::WriteJson(const replay::ReplayReport& report, int signal, JsonWriter* w) {
  absl::Status delivered = replay::DeliveryStatus(report);
  w->Field("ok", delivered.ok() && signal == 0);
  if (!delivered.ok()) w->Field("error", delivered.message());
  if (signal != 0) w->Field("stoppedBy", SignalName(signal));
  replay::WriteReplayReportFields(report, w);
}

std::string ReplayConsole::Details(const replay::ReplayReport& r) {
  const auto& t = r.signals[otlp::Signal::kTraces];
  const auto& m = r.signals[otlp::Signal::kMetrics];
  const auto& l = r.signals[otlp::Signal::kLogs];
  std::string out;
  out += fmt::format("   Endpoint: {}  Iterations: {}  Elapsed: {:.2f} s\n", r.endpoint, r.iterations, r.elapsed_seconds);
  out += fmt::format("   Records: {}{}{}\n", OfTotal(r.records_processed, r.records_total),
                     r.records_total == 0 ? "" : " per iteration",
                     r.filtered_requests() > 0 ? fmt::format(" ({} left with nothing to send by --services, --phases or --shard)", r.filtered_requests()) : "");
  out += fmt::format("   Requests: {} sent, {} accepted, {} failed, {} abandoned, {} {}\n", r.sent_requests(),
                     r.accepted_requests(), r.failed_requests(), r.abandoned_requests(), r.retries(),
                     Plural(r.retries(), "retry", "retries"));
  out += fmt::format("   Accepted: {} spans, {} data points, {} log records; {} {} rejected\n", t.items, m.items, l.items,
                     r.rejected_items(), Plural(r.rejected_items(), "item", "items"));
  out += fmt::format("   Lag behind schedule: p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n", r.p50_lag_ms, r.p99_lag_ms,
                     r.max_lag_ms);
  return out;
}

int ReplayConsole::Finish(const replay::ReplayReport& r, int signal) {
  const int code = ExitCode(r, signal);
  if (json_) {
    JsonWriter w(true);
    w.BeginObject();
    WriteJson(r, signal, &w);
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
    return code;
  }
  absl::Status delivered = replay::DeliveryStatus(r);
  std::string out = Headline(r, signal) + "\n" + Details(r);
  if (!delivered.ok()) out += fmt::format("   Problem: {}\n", delivered.message());
  std::fwrite(out.data(), 1, out.size(), stdout);
  return code;
}

std::string ReplayConsole::Headline(const replay::ReplayReport& r, int signal) {
  absl::Status delivered = replay::DeliveryStatus(r);
  std::string headline;
  if (signal != 0) {
    headline = fmt::format("⏹ Replay stopped by {} after {} records: {}", SignalName(signal),
                           OfTotal(r.records_processed, r.records_total), r.session_id);
  } else if (!delivered.ok()) {
    headline = fmt::format("❌ Replay failed: {}", r.session_id);
  } else if (r.end == replay::ReplayEnd::kDuration) {
    headline = fmt::format("✅ Replay ran for its duration ({:.0f} s): {}", r.elapsed_seconds, r.session_id);
  } else {
    headline = fmt::format("✅ Replay complete: {}", r.session_id);
  }
  return headline;
}

int ReplayConsole::FinishSeveral(const std::vector<replay::ReplayReport>& reports, double elapsed_seconds,
                                 bool sequential, int signal, bool json) {
  replay::ReplayReport total = replay::SumReports(reports);
  total.elapsed_seconds = elapsed_seconds;
  std::vector<std::string> ids;
  int code = signal != 0 ? kExitInterrupted : 0;
  std::vector<std::string> problems;
  for (const replay::ReplayReport& r : reports) {
    ids.push_back(r.session_id);
    absl::Status delivered = replay::DeliveryStatus(r);
    if (!delivered.ok()) {
      if (code == 0) code = kExitFailed;
      problems.push_back(fmt::format("{}: {}", r.session_id, delivered.message()));
    }
  }
  const std::string mode = sequential ? "sequential" : "together";
  if (json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Field("ok", code == 0);
    if (!problems.empty()) {
      std::string error;
      for (const std::string& p : problems) error += (error.empty() ? "" : "; ") + p;
      w.Field("error", error);
    }
    if (signal != 0) w.Field("stoppedBy", SignalName(signal));
    w.Field("mode", mode);
    w.Key("sessions");
    w.BeginArray();
    for (const replay::ReplayReport& r : reports) {
      w.BeginObject();
      WriteJson(r, signal, &w);
      w.EndObject();
    }
    w.EndArray();
    w.Key("total");
    w.BeginObject();
    replay::WriteReplayTotalFields(total, ids, &w);
    w.EndObject();
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
    return code;
  }
  std::string out;
  for (const replay::ReplayReport& r : reports) {
    out += Headline(r, signal) + "\n" + Details(r);
    absl::Status delivered = replay::DeliveryStatus(r);
    if (!delivered.ok()) out += fmt::format("   Problem: {}\n", delivered.message());
  }
  const auto& t = total.signals[otlp::Signal::kTraces];
  const auto& m = total.signals[otlp::Signal::kMetrics];
  const auto& l = total.signals[otlp::Signal::kLogs];
  out += fmt::format("{} Total of {} sessions ({}): {}\n", code == 0 ? "✅" : signal != 0 ? "⏹" : "❌", reports.size(),
                     sequential ? "one after another" : "together, from one start", total.session_id);
  out += fmt::format("   Elapsed: {:.2f} s  Records: {} of {}\n", total.elapsed_seconds, total.records_processed,
                     total.records_total);
  out += fmt::format("   Requests: {} sent, {} accepted, {} failed, {} abandoned, {} {}\n", total.sent_requests(),
                     total.accepted_requests(), total.failed_requests(), total.abandoned_requests(), total.retries(),
                     Plural(total.retries(), "retry", "retries"));
  out += fmt::format("   Accepted: {} spans, {} data points, {} log records; {} {} rejected\n", t.items, m.items,
                     l.items, total.rejected_items(), Plural(total.rejected_items(), "item", "items"));
  out += fmt::format("   Lag behind schedule: max {:.2f} ms\n", total.max_lag_ms);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return code;
}

}  // namespace otelrr::cli
