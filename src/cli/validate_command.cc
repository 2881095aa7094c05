// otelrr validate: replays a session (or a fresh seed) into a target, records what arrives, and compares
// it item by item with what was sent (src/compare/).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capture/capture_service.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "cli/otlp_target.h"
#include "cli/receivers.h"
#include "cli/replay_output.h"
#include "cli/seed_flags.h"
#include "cli/stop_signals.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "compare/compare_sessions.h"
#include "compare/report.h"
#include "fmt/format.h"
#include "otlp/rewrite.h"
#include "otlp/wire.h"
#include "replay/replay.h"
#include "session/session_store.h"

namespace otelrr::cli {
namespace {

struct ValidateFlags {
  std::string session;
  GeneratorFlags generator;
  bool generate = false;
  OtlpTargetFlags target;
  bool endpoint_given = false;
  std::string capture_http;
  std::string capture_grpc;
  bool no_capture = false;
  std::string timestamps = "relative";
  double speed = 1;
  bool traces = true, metrics = true, logs = true;
  std::vector<std::string> services;
  double settle = 5;
  double wait = 30;
  double tolerance = 0;
  size_t max_differences = 10;
  std::string report;
  bool json = false;
  bool keep_capture = false;
};

uint64_t Items(const session::SessionCounts& c) { return c.spans + c.data_points + c.log_records; }

uint64_t AcceptedItems(const replay::ReplayReport& r) {
  uint64_t n = 0;
  for (const replay::SignalReport& s : r.signals) n += s.items;
  return n;
}

// Waits until the capture holds `expected` items (and a moment more passes without change, for late
// duplicates), or until nothing new arrived for `settle` after something did, or `wait` is up, or a
// signal. Nothing at all yet is not settled: a pipeline's exporter that failed to connect before the
// capture listened retries seconds later.
void Settle(capture::CaptureService& capture, const std::string& id, uint64_t expected, double settle, double wait,
            const StopSignals& stop) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last_change = start;
  uint64_t last = UINT64_MAX;
  while (stop.signal() == 0) {
    absl::StatusOr<session::SessionMetadata> m = capture.GetCaptureStatus(id);
    if (!m.ok()) return;
    const uint64_t now_items = Items(m->counts);
    const auto now = Clock::now();
    if (now_items != last) {
      last = now_items;
      last_change = now;
    }
    const double quiet = std::chrono::duration<double>(now - last_change).count();
    if (now_items >= expected && quiet >= std::min(settle, 0.3)) return;
    if ((now_items > 0 && quiet >= settle) || std::chrono::duration<double>(now - start).count() >= wait) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int RunValidate(const StoreFlag& store_flag, const ValidateFlags& f) {
  if (f.generate == !f.session.empty()) {
    return UsageError("give --session ID (an existing session) or --pattern/--pattern-file/--preset (a fresh seed), not both");
  }
  replay::ReplayConfig config;
  absl::StatusOr<replay::TimestampMode> ts = replay::ParseTimestampMode(f.timestamps);
  if (!ts.ok()) return UsageError(Prefixed(ts.status(), "--timestamps"));
  config.timestamps = *ts;
  config.speed = f.speed;
  config.replay_traces = f.traces;
  config.replay_metrics = f.metrics;
  config.replay_logs = f.logs;
  config.services = f.services;
  OtlpTargetFlags target = f.target;
  if (!f.endpoint_given) target.endpoint = "http://127.0.0.1:4318";  // replaced by the capture's address below
  if (absl::Status s = ApplyTargetFlags(target, &config); !s.ok()) return UsageError(s);
  if (absl::Status s = replay::ValidateReplayConfig(config); !s.ok()) return UsageError(s);
  if (!(f.tolerance >= 0 && f.tolerance <= 1)) return UsageError(fmt::format("--tolerance {} must be from 0 to 1", f.tolerance));
  if (!(f.settle >= 0) || !(f.wait > 0) || !std::isfinite(f.settle) || !std::isfinite(f.wait)) {
    return UsageError("--settle must be >= 0 and --wait > 0 seconds");
  }
  if (f.no_capture && !f.endpoint_given) return UsageError("--no-capture needs --endpoint: the target to deliver to");
  std::optional<generate::SeedConfig> seed;
  if (f.generate) {
    absl::StatusOr<generate::SeedConfig> c = GeneratorConfig(f.generator);
    if (!c.ok()) return absl::IsInvalidArgument(c.status()) ? UsageError(c.status()) : Fail(c.status());
    c->description = "otelrr validate: the source";
    if (absl::Status s = generate::ValidateSeedConfig(*c); !s.ok()) return UsageError(s);
    seed = std::move(*c);
  }
  ReceiverFlags receiver_flags{.http = f.capture_http, .grpc = f.capture_grpc};
  if (receiver_flags.http.empty()) receiver_flags.http = f.endpoint_given ? "127.0.0.1:14318" : "127.0.0.1:0";
  if (receiver_flags.grpc.empty()) receiver_flags.grpc = f.endpoint_given ? "127.0.0.1:14317" : "127.0.0.1:0";
  absl::StatusOr<net::TlsServerFiles> tls = CheckReceiverFlags(receiver_flags);  // no TLS flags: empty
  if (!tls.ok()) return UsageError(tls.status());

  StopSignals stop;
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kCapture, "validate");
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);

  std::string source = f.session;
  if (seed) {
    seed->cancel = &stop.cancellation();
    absl::StatusOr<generate::SeedResult> r = generate::SeedGenerator(sessions).GenerateSeed(*seed);
    if (!r.ok()) return r.status().code() == absl::StatusCode::kCancelled ? kExitInterrupted : Fail(r.status());
    source = r->session_id;
    if (!f.json) std::fprintf(stderr, "otelrr validate: seeded %s (%llu spans, %llu data points, %llu log records)\n",
                              source.c_str(), static_cast<unsigned long long>(r->spans),
                              static_cast<unsigned long long>(r->data_points), static_cast<unsigned long long>(r->log_records));
  }
  absl::StatusOr<session::SessionMetadata> source_meta = sessions.Load(source);
  if (!source_meta.ok()) {
    if (absl::IsNotFound(source_meta.status())) {
      return Fail(fmt::format("{} (store: {})", std::string(source_meta.status().message()), store_flag.Resolved()));
    }
    return Fail(source_meta.status());
  }

  // The capture that records what arrives.
  capture::CaptureService capture(sessions, {});
  std::optional<Receivers> receivers;
  std::string capture_id;
  if (!f.no_capture) {
    absl::StatusOr<Receivers> started = StartReceivers(capture, receiver_flags, *tls);
    if (!started.ok()) return Fail(started.status());
    receivers = std::move(*started);
    absl::StatusOr<session::SessionMetadata> m = capture.StartCapture(
        {.description = fmt::format("otelrr validate: what arrived of {}", source), .created_by = "otelrr validate"});
    if (!m.ok()) return Fail(m.status());
    capture_id = m->session_id;
    if (!f.endpoint_given) {
      config.endpoint = "http://" + (config.protocol == replay::Protocol::kGrpc ? receivers->grpc->address()
                                                                                  : receivers->http->address());
    }
  }
  auto discard_capture = [&] {
    if (capture_id.empty()) return;
    (void)capture.AbortCapture(capture_id, "validate stopped");
    capture_id.clear();
  };
  if (!f.json) {
    std::fprintf(stderr, "otelrr validate: replaying %s -> %s%s; Ctrl-C stops\n", source.c_str(), config.endpoint.c_str(),
                 receivers ? fmt::format("; recording what arrives on {} (OTLP/HTTP) and {} (OTLP/gRPC)",
                                         receivers->http->address(), receivers->grpc->address()).c_str()
                           : "");
  }
  config.session_id = source;
  config.cancel = &stop.cancellation();
  absl::StatusOr<replay::ReplayReport> sent = replay::RunReplay(sessions, config);
  if (!sent.ok() || stop.signal() != 0) {
    discard_capture();
    if (receivers) receivers->Shutdown();
    if (stop.signal() != 0) {
      std::fprintf(stderr, "otelrr validate: stopped by a signal\n");
      return kExitInterrupted;
    }
    return Fail(sent.status());
  }
  const absl::Status delivered = replay::DeliveryStatus(*sent);

  std::optional<compare::CompareReport> compared;
  if (receivers) {
    Settle(capture, capture_id, AcceptedItems(*sent), f.settle, f.wait, stop);
    receivers->Shutdown();
    if (stop.signal() != 0) {
      discard_capture();
      std::fprintf(stderr, "otelrr validate: stopped by a signal while waiting for the data to arrive\n");
      return kExitInterrupted;
    }
    absl::StatusOr<session::SessionMetadata> done = capture.StopCapture(capture_id);
    if (!done.ok()) return Fail(done.status());

    compare::SessionCompareOptions options;
    options.compare.max_differences = std::max<size_t>(f.max_differences, 1);
    options.by_records = config.speed == 0;
    for (otlp::Signal s : {otlp::Signal::kTraces, otlp::Signal::kMetrics, otlp::Signal::kLogs}) {
      const bool on = s == otlp::Signal::kTraces ? f.traces : s == otlp::Signal::kMetrics ? f.metrics : f.logs;
      if (on) options.signals.push_back(s);
    }
    // What the target should have received of each record: the replay's service filter and time map.
    const otlp::TimeMap map{.from = sent->timeline_start_unix_nano,
                            .to = sent->start_wall_unix_nano,
                            .speed = config.speed > 0 ? config.speed : 1};
    switch (config.timestamps) {
      case replay::TimestampMode::kNone: options.compare.time = compare::TimeCheck::kExact; break;
      case replay::TimestampMode::kRelative: options.compare.time = compare::TimeCheck::kExact; break;
      case replay::TimestampMode::kCurrent: options.compare.time = compare::TimeCheck::kIgnore; break;
    }
    auto where = std::make_shared<otlp::FieldLocations>();
    auto scratch = std::make_shared<std::string>();
    options.transform_a = [&config, map, where, scratch](session::Record& r) -> absl::StatusOr<bool> {
      if (!config.services.empty()) {
        absl::StatusOr<bool> kept = otlp::FilterServices(r.signal, r.payload, config.services, scratch.get());
        if (!kept.ok()) return kept.status();
        if (!*kept) return false;
        r.payload.swap(*scratch);
      }
      if (config.timestamps == replay::TimestampMode::kRelative) {
        where->clear();
        if (absl::Status s = otlp::Locate(r.signal, r.payload, where.get(), otlp::LocateMode::kTrusted); !s.ok()) return s;
        otlp::MapTimestamps(&r.payload, *where, map);
      }
      return true;
    };
    for (const session::Phase& p : source_meta->phases) {
      const uint64_t end = p.end_time_unix_nano.value_or(source_meta->last_arrival_unix_nano.value_or(p.start_time_unix_nano));
      const bool relative = config.timestamps == replay::TimestampMode::kRelative;
      options.compare.phases.push_back({.name = p.name,
                                        .start_unix_nano = relative ? map(p.start_time_unix_nano) : p.start_time_unix_nano,
                                        .end_unix_nano = relative ? map(end) : end});
    }
    absl::StatusOr<compare::CompareReport> r = compare::CompareSessions(sessions, source, capture_id, options);
    if (!r.ok()) return Fail(fmt::format("comparing {} with {} (kept): {}", source, capture_id, std::string(r.status().message())));
    compared = std::move(*r);
  }

  // The verdict.
  const uint64_t differing = compared ? compared->total().differing() : 0;
  const uint64_t allowed = compared ? static_cast<uint64_t>(std::floor(f.tolerance * static_cast<double>(compared->total().a))) : 0;
  const bool pass = delivered.ok() && differing <= allowed;
  std::string verdict;
  if (pass) {
    verdict = compared ? fmt::format("PASS: {} of {} items arrived as sent{}", compared->total().matched, compared->total().a,
                                     differing > 0 ? fmt::format(" ({} differences within --tolerance {})", differing, f.tolerance) : "")
                       : "PASS: every request was delivered (nothing recorded to compare: --no-capture)";
  } else if (!delivered.ok()) {
    verdict = fmt::format("FAIL: delivery: {}", std::string(delivered.message()));
  } else {
    const compare::SignalCounts t = compared->total();
    verdict = fmt::format("FAIL: {} of {} items differ ({} missing, {} extra, {} duplicated, {} altered){}", differing, t.a,
                          t.missing, t.extra, t.duplicated, t.altered,
                          f.tolerance > 0 ? fmt::format("; --tolerance {} allows {}", f.tolerance, allowed) : "");
  }
  const bool keep = !capture_id.empty() && (!pass || f.keep_capture);
  if (!capture_id.empty() && !keep) {
    if (absl::Status s = sessions.Delete(capture_id); !s.ok()) {
      std::fprintf(stderr, "otelrr validate: could not delete the capture %s: %s\n", capture_id.c_str(),
                   std::string(s.message()).c_str());
    }
  }

  compare::ReportContext context{.title = fmt::format("otelrr validate {}", source),
                                 .a = source,
                                 .b = capture_id.empty() ? "-" : capture_id + (keep ? " (kept)" : " (deleted)"),
                                 .a_role = "sent",
                                 .b_role = "received",
                                 .max_differences = f.max_differences,
                                 .verdict = verdict};
  context.facts.push_back({"target", config.endpoint});
  context.facts.push_back({"replay", fmt::format("speed {}, timestamps {}, {:.2f} s", config.speed,
                                                 replay::TimestampModeName(config.timestamps), sent->elapsed_seconds)});
  std::string statuses;
  for (const auto& [code, count] : sent->status_codes) statuses += fmt::format("{}{} {}", statuses.empty() ? "" : ", ", count, code);
  context.facts.push_back(
      {"delivery", fmt::format("{} requests sent, {} accepted, {} failed, {} abandoned, {} retries, {} items rejected; answers: {}",
                               sent->sent_requests(), sent->accepted_requests(), sent->failed_requests(),
                               sent->abandoned_requests(), sent->retries(), sent->rejected_items(),
                               statuses.empty() ? "none" : statuses)});

  if (!f.report.empty() && compared) {
    if (absl::Status s = WriteOutput(f.report, compare::FormatReportHtml(*compared, context)); !s.ok()) return Fail(s);
  }
  if (f.json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Field("pass", pass);
    w.Field("verdict", verdict);
    w.Field("source", source);
    w.Field("capture", capture_id);
    w.Field("captureKept", keep);
    w.Field("tolerance", f.tolerance);
    w.Key("delivery");
    w.BeginObject();
    ReplayConsole::WriteJson(*sent, stop.signal(), &w);
    w.EndObject();
    if (compared) {
      w.Key("comparison");
      w.BeginObject();
      compare::WriteReportJsonFields(*compared, &w);
      w.EndObject();
    }
    w.EndObject();
    Print(w.str());
    Print("\n");
  } else if (compared) {
    Print(compare::FormatReportText(*compared, context));
  } else {
    for (const auto& [label, value] : context.facts) Print(fmt::format("{}: {}\n", label, value));
    Print(verdict + "\n");
  }
  return pass ? 0 : kExitFailed;
}

}  // namespace

void AddValidateCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<ValidateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Replay a session (or a fresh seed) into a target and prove, item by item, what arrived");
  cmd->add_option("--session", f->session, "the session to send (or generate one with --pattern and the seed flags)");
  AddGeneratorFlags(cmd, &f->generator);
  AddTargetFlags(cmd, &f->target);
  cmd->add_option("--capture-http", f->capture_http,
                  "where validate records what arrives over OTLP/HTTP: point the pipeline's exporter here "
                  "(default: 127.0.0.1:14318 with --endpoint, a free loopback port without)");
  cmd->add_option("--capture-grpc", f->capture_grpc, "the same over OTLP/gRPC (default: 127.0.0.1:14317 with --endpoint)");
  cmd->add_flag("--via-capture,!--no-capture", f->no_capture,
                "record what arrives and compare it (the default); --no-capture checks delivery only")
      ->default_str("true");
  cmd->add_option("--timestamps", f->timestamps,
                  "none | relative | current, as replay (default: relative; current: absolute times are not compared)");
  cmd->add_option("--speed", f->speed, "replay speed, 0 = as fast as the target accepts (default: 1)");
  AddSignalFlags(cmd, &f->traces, &f->metrics, &f->logs, "send");
  cmd->add_option("--services", f->services, "send only these service.name values")->delimiter(',');
  cmd->add_option("--settle", f->settle, "seconds without new data after the replay before recording stops (default: 5)");
  cmd->add_option("--wait", f->wait, "at most this many seconds for the data to arrive after the replay (default: 30)");
  cmd->add_option("--tolerance", f->tolerance,
                  "fraction of the items sent that may differ (a pipeline that samples or drops on purpose; default: 0)");
  cmd->add_option("--max-differences", f->max_differences, "differences listed per kind (default: 10)");
  cmd->add_option("--report", f->report, "also write a self-contained HTML report to this file");
  cmd->add_flag("--json", f->json, "print the result as one JSON object");
  cmd->add_flag("--keep-capture", f->keep_capture, "keep the recorded session when validation passes (it is kept when it fails)");
  AddStoreOption(cmd, store);
  cmd->footer(R"(Without --endpoint the target is validate's own receiver (a check of the session and of otelrr). With
--endpoint (an OpenTelemetry Collector, say), configure the pipeline to export to --capture-http or
--capture-grpc: validate records what comes out and compares it with what it sent. Every span, data point
and log record is matched by identity with its timestamps moved exactly as the replay moved them; the report
lists what is missing, extra, duplicated or altered (with the fields that changed), per signal and phase.
Exits 0 only when delivery succeeded and the items match (within --tolerance).

Examples:
  otelrr validate --session seed-20261126-114544-a1b2c3 --speed 0
  otelrr validate --pattern payment-failure --duration 30 --seed 42 --speed 0 --report validate.html
  otelrr validate --session S --endpoint http://collector:4318 --capture-grpc 0.0.0.0:14317 --json)");
  cmd->callback([handler, store, f, cmd] {
    MarkGiven(*cmd, &f->generator);
    f->generate = f->generator.pattern_given || cmd->count("--pattern-file") > 0 || cmd->count("--preset") > 0;
    f->endpoint_given = cmd->count("--endpoint") > 0;
    *handler = [store, f] { return RunValidate(*store, *f); };
  });
}

}  // namespace otelrr::cli
