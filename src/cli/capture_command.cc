// otelrr capture: receive OTLP over HTTP and gRPC and record one session until stopped.
#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "capture/capture_service.h"
#include "cli/commands.h"
#include "cli/compression_flags.h"
#include "cli/io.h"
#include "cli/otlp_target.h"
#include "cli/receivers.h"
#include "cli/redact_flags.h"
#include "cli/retention_flags.h"
#include "cli/stop_signals.h"
#include "net/otlp_exporter.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "session/session_store.h"
#include "session/time_format.h"

namespace otelrr::cli {
namespace {

struct CaptureFlags {
  std::string session_id;
  std::string instance;
  std::string description;
  std::vector<std::string> flags;
  std::string diagnostic_session_id;
  bool no_traces = false;
  bool no_metrics = false;
  bool no_logs = false;
  bool no_compression = false;
  CompressionFlags compression;
  double max_size_mb = 0;
  double max_duration_minutes = 0;
  bool max_size_given = false;
  bool max_duration_given = false;
  std::string forward;
  ReceiverFlags receivers;
  RedactFlags redact;
  bool fsync = false;
  std::optional<int64_t> retention_days;
  bool json = false;
  double queue_mb = 256;
};


// A number from the environment, or `fallback`; a value that is not a positive number is an error.
absl::StatusOr<double> EnvNumber(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (end == v || *end != '\0' || !std::isfinite(d) || d <= 0) {
    return absl::InvalidArgumentError(fmt::format("{}='{}' is not a positive number", name, v));
  }
  return d;
}

absl::StatusOr<bool> EnvBool(const char* name, bool fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  std::string s(v);
  if (s == "true" || s == "1" || s == "yes") return true;
  if (s == "false" || s == "0" || s == "no") return false;
  return absl::InvalidArgumentError(fmt::format("{}='{}' is not true or false", name, v));
}

// `refused`: requests the receivers answered themselves (bad HTTP, wrong path, method, type, encoding,
// size, gzip) without handing them to the capture.
void PrintSummary(const session::SessionMetadata& m, const capture::CaptureStats& stats, uint64_t refused, bool json) {
  auto total = [&](uint64_t capture::SignalStats::*field) {
    return stats.signals.Sum([field](const capture::SignalStats& s) { return s.*field; });
  };
  const uint64_t not_recorded = total(&capture::SignalStats::not_recorded);
  const uint64_t invalid = total(&capture::SignalStats::invalid);
  const uint64_t overloaded = total(&capture::SignalStats::overloaded);
  const uint64_t forwarded = total(&capture::SignalStats::forwarded);
  const uint64_t forward_failed = total(&capture::SignalStats::forward_failed);
  if (json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Field("sessionId", m.session_id);
    if (!m.instance.empty()) w.Field("instance", m.instance);  // its own part of a shared session
    w.Field("status", session::SessionStatusName(m.status));
    if (!m.status_reason.empty()) w.Field("statusReason", m.status_reason);
    w.Field("traces", m.counts.traces);
    w.Field("spans", m.counts.spans);
    w.Field("dataPoints", m.counts.data_points);
    w.Field("logRecords", m.counts.log_records);
    w.Field("requests", m.counts.requests());
    w.Field("uncompressedBytes", m.counts.uncompressed_bytes);
    w.Field("totalSizeBytes", m.total_size_bytes);
    w.Field("notRecorded", not_recorded);
    w.Field("invalid", invalid);
    w.Field("overloaded", overloaded);
    w.Field("refused", refused);
    w.Field("forwarded", forwarded);
    w.Field("forwardFailed", forward_failed);
    w.EndObject();
    Print(w.str());
    Print("\n");
    return;
  }
  Print(fmt::format("{} Capture {}: {}\n", m.status == session::SessionStatus::kCompleted ? "✅" : "❌",
                    session::SessionStatusName(m.status), m.session_id));
  if (!m.status_reason.empty()) Print(fmt::format("   Reason: {}\n", m.status_reason));
  // Trace ids come from log records and exemplars too: a capture without traces can name many.
  Print(fmt::format("   Spans: {}  Data points: {}  Log records: {}  Distinct trace ids: {}\n", m.counts.spans,
                    m.counts.data_points, m.counts.log_records, m.counts.traces));
  Print(fmt::format("   Requests: {} ({} bytes, {} stored)\n", m.counts.requests(), m.counts.uncompressed_bytes,
                    m.total_size_bytes));
  if (not_recorded + invalid + overloaded + refused > 0) {
    Print(fmt::format("   Not recorded: {} (signal off or no capture), invalid OTLP: {}, refused while busy: {}, "
                      "refused by the HTTP receiver: {}\n",
                      not_recorded, invalid, overloaded, refused));
  }
  if (forwarded + forward_failed > 0) {
    Print(fmt::format("   Forwarded: {} accepted downstream (and recorded), {} failed or refused downstream (not "
                      "recorded; the client got the refusal)\n",
                      forwarded, forward_failed));
  }
}

// What became of the shared session this instance recorded into: sealed (by this stop or an earlier one), or
// waiting for the other instances.
void PrintSharedNote(session::SessionStore& sessions, const std::string& id, const std::string& instance) {
  absl::StatusOr<session::SessionMetadata> m = sessions.Load(id);
  if (!m.ok()) return;
  if (m->status == session::SessionStatus::kActive) {
    std::fprintf(stderr,
                 "otelrr capture: instance %s of shared session %s stopped; other instances are still recording: the "
                 "last one to stop seals the session (or `otelrr sessions seal %s`)\n",
                 instance.c_str(), id.c_str(), id.c_str());
  } else {
    std::fprintf(stderr, "otelrr capture: shared session %s sealed (%s): %zu instance%s, %llu requests in all%s%s\n",
                 id.c_str(), std::string(session::SessionStatusName(m->status)).c_str(), m->instances.size(),
                 m->instances.size() == 1 ? "" : "s",
                 static_cast<unsigned long long>(m->counts.requests()), m->status_reason.empty() ? "" : ": ",
                 m->status_reason.c_str());
  }
}

int RunCapture(const StoreFlag& store_flag, const CaptureFlags& f) {
  capture::CaptureConfig config;
  config.session_id = f.session_id;
  config.instance = f.instance;
  config.description = f.description;
  config.enabled_flags = f.flags;
  config.diagnostic_session_id = f.diagnostic_session_id;
  config.capture_traces = !f.no_traces;
  config.capture_metrics = !f.no_metrics;
  config.capture_logs = !f.no_logs;
  config.fsync = f.fsync;
  config.retention_days = f.retention_days;
  absl::StatusOr<bool> compression = EnvBool("CAPTURE_COMPRESSION_ENABLED", true);
  if (!compression.ok()) return UsageError(compression.status());
  config.compression_enabled = *compression && !f.no_compression;
  absl::StatusOr<std::optional<SessionCompression>> chosen = ParseCompressionFlags(f.compression);
  if (!chosen.ok()) return UsageError(chosen.status());
  if (*chosen) {
    if (f.no_compression && (*chosen)->compression != session::Compression::kNone) {
      return UsageError("--no-compression contradicts --compression and --compression-level: give one of them");
    }
    config.compression = (*chosen)->compression;
    config.compression_level = (*chosen)->level;
  }
  absl::StatusOr<double> max_size = EnvNumber("CAPTURE_MAX_SIZE_MB", 5000);
  if (!max_size.ok()) return UsageError(max_size.status());
  config.max_size_mb = f.max_size_given ? f.max_size_mb : *max_size;
  absl::StatusOr<double> max_minutes = EnvNumber("CAPTURE_MAX_DURATION_MINUTES", 120);
  if (!max_minutes.ok()) return UsageError(max_minutes.status());
  config.max_duration_minutes = f.max_duration_given ? f.max_duration_minutes : *max_minutes;
  if (absl::Status s = capture::ValidateCaptureConfig(config); !s.ok()) return UsageError(s);
  absl::StatusOr<net::TlsServerFiles> tls = CheckReceiverFlags(f.receivers);
  if (!tls.ok()) return UsageError(tls.status());
  if (!std::isfinite(f.queue_mb) || f.queue_mb <= 0) {
    return UsageError(fmt::format("--queue-mb {} is not allowed: use a positive number of megabytes", f.queue_mb));
  }
  absl::StatusOr<std::unique_ptr<otlp::Redactor>> redactor = OpenRedactor(f.redact, !f.forward.empty());
  if (!redactor.ok()) return UsageError(redactor.status());
  // Before any thread starts (the forward exporter has threads): they all inherit the blocked signals.
  StopSignals stop;
  absl::StatusOr<std::unique_ptr<net::OtlpExporter>> opened = OpenForward(f.forward);
  if (!opened.ok()) return UsageError(opened.status());
  std::unique_ptr<net::OtlpExporter> forward = std::move(*opened);

  // Sessions left active by a crashed capture: keep their complete members, mark them failed.
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kCapture, "capture");
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  capture::CaptureService service(sessions, {.max_queue_bytes = static_cast<size_t>(f.queue_mb * 1e6),
                                             .compression_threads = 1,
                                             .forward = forward.get(),
                                             .redactor = redactor->get(),
                                             .redact_forward = f.redact.forward});
  // A capture that ends by itself (a limit, a storage error) hands over its final metadata: the store may not
  // hold it (a full disk refuses metadata.json too).
  std::mutex ended_mu;
  std::optional<session::SessionMetadata> ended_as;
  service.set_on_capture_ended([&](const session::SessionMetadata& m) {
    {
      std::lock_guard<std::mutex> lock(ended_mu);
      ended_as = m;
    }
    if (forward && m.status == session::SessionStatus::kFailed) {
      // A tee whose recording failed (a full or read-only disk) keeps the pipeline it stands in flowing: the
      // requests still go downstream, and the clients still get the downstream's answers.
      std::fprintf(stderr,
                   "otelrr capture: session %s ended failed: %s; still forwarding to %s, recording nothing (Ctrl-C "
                   "stops; the exit status will be 1)\n",
                   m.session_id.c_str(), m.status_reason.c_str(), forward->url().c_str());
      std::fflush(stderr);
      return;
    }
    stop.Stop();
  });
  absl::StatusOr<session::SessionMetadata> started = service.StartCapture(config);
  if (!started.ok()) return Fail(started.status());
  const std::string id = started->session_id;

  absl::StatusOr<Receivers> receivers = StartReceivers(service, f.receivers, *tls);
  if (!receivers.ok()) {
    // Nothing was recorded: leave no session behind.
    (void)service.AbortCapture(id, std::string(receivers.status().message()));
    return Fail(receivers.status());
  }
  std::fprintf(stderr, "otelrr capture: recording session %s; OTLP/HTTP on %s, OTLP/gRPC on %s; %sCtrl-C stops%s%s\n",
               id.c_str(), receivers->http->address().c_str(), receivers->grpc->address().c_str(),
               TlsNote(f.receivers.tls),
               forward ? fmt::format("; forwarding to {}", forward->url()).c_str() : "",
               f.instance.empty() ? "" : fmt::format("; as instance {} of a shared session", f.instance).c_str());
  std::fflush(stderr);

  stop.Wait();

  // Stop taking requests (answering those in flight), then close the session.
  receivers->Shutdown();
  std::optional<session::SessionMetadata> ended_by_itself;
  {
    std::lock_guard<std::mutex> lock(ended_mu);
    ended_by_itself = ended_as;
  }
  absl::StatusOr<session::SessionMetadata> final_metadata =
      ended_by_itself ? *std::move(ended_by_itself) : service.StopCapture(id);
  if (!final_metadata.ok()) return Fail(final_metadata.status());
  PrintSummary(*final_metadata, service.stats(), receivers->refused(), f.json);
  if (!f.instance.empty()) PrintSharedNote(sessions, id, f.instance);
  if (final_metadata->status == session::SessionStatus::kCompleted) return 0;
  std::fprintf(stderr, "otelrr capture: session %s ended %s: %s\n", id.c_str(),
               std::string(session::SessionStatusName(final_metadata->status)).c_str(),
               final_metadata->status_reason.c_str());
  return 1;
}

}  // namespace

void AddCaptureCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<CaptureFlags>();
  CLI::App* cmd = app.add_subcommand("capture", "Receive OTLP over HTTP and gRPC and record it as a session");
  cmd->add_option("--session", f->session_id, "the session's id (default: capture-<time>-<random>)");
  cmd->add_option("--instance", f->instance,
                  "record as this instance of a shared session (needs --session): several captures on one store, "
                  "each with its own name (a pod or host name), write one session; the last to stop seals it "
                  "(default: $OTELRR_INSTANCE)")
      ->envname("OTELRR_INSTANCE");
  cmd->add_option("--description", f->description, "human-readable session description");
  cmd->add_option("--flags", f->flags, "feature flags active while capturing, recorded as enabledFlags")->delimiter(',');
  cmd->add_option("--diagnostic-session", f->diagnostic_session_id, "the diagnostic session this capture belongs to");
  cmd->add_flag("--no-traces", f->no_traces, "do not record traces (they are still answered)");
  cmd->add_flag("--no-metrics", f->no_metrics, "do not record metrics");
  cmd->add_flag("--no-logs", f->no_logs, "do not record logs");
  cmd->add_flag("--no-compression", f->no_compression,
                "store the records uncompressed, as --compression none (default: $CAPTURE_COMPRESSION_ENABLED or on)");
  AddCompressionFlags(cmd, &f->compression);
  cmd->add_option("--max-size-mb", f->max_size_mb, "stop after this many MB recorded (default: $CAPTURE_MAX_SIZE_MB or 5000)");
  cmd->add_option("--max-duration-minutes", f->max_duration_minutes,
                  "stop after this many minutes (default: $CAPTURE_MAX_DURATION_MINUTES or 120)");
  cmd->add_option("--forward", f->forward,
                  "tee: also send every request to this endpoint (http://host:port for OTLP/HTTP, grpc://host:port "
                  "for OTLP/gRPC); clients get its answer");
  AddRedactFlags(cmd, &f->redact);
  AddReceiverFlags(cmd, &f->receivers);
  cmd->add_option("--queue-mb", f->queue_mb,
                  "requests waiting to be written, in MB, before new ones are answered 503/UNAVAILABLE with a "
                  "retry delay (default: 256)");
  AddRetentionDaysFlag(cmd, &f->retention_days);
  cmd->add_flag("--fsync", f->fsync, "sync the files before each acknowledgement (survives power loss; slower)");
  AddStoreOption(cmd, store);
  cmd->add_option("--spool", store->spool,
                  "with an s3:// store: the local directory files are written to (and synced) before they are "
                  "uploaded, so an acknowledged request survives a crash (default: ~/.cache/otelrr/spool/<bucket>)");
  cmd->add_flag("--json", f->json, "print the final result as one JSON object");
  cmd->footer(R"(Every request is acknowledged only once it is written to the session as a complete gzip member,
so killing the process loses no acknowledged request. SIGINT or SIGTERM stops cleanly (status completed).

Examples:
  otelrr capture --session debug-payment --description "payment failures" --flags paymentServiceFailure
  otelrr capture --no-logs --max-duration-minutes 10 --json)");
  cmd->callback([handler, store, f, cmd] {
    f->max_size_given = cmd->count("--max-size-mb") > 0;
    f->max_duration_given = cmd->count("--max-duration-minutes") > 0;
    *handler = [store, f] { return RunCapture(*store, *f); };
  });
}

}  // namespace otelrr::cli
