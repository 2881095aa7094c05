// otelrr sessions slice | merge: new sessions made from others (session/slice.h, session/merge.h).
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "annotate/annotation_service.h"
#include "cli/commands.h"
#include "cli/compression_flags.h"
#include "cli/io.h"
#include "cli/otlp_target.h"
#include "cli/stop_signals.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "session/merge.h"
#include "session/retention.h"
#include "absl/strings/match.h"
#include "session/session_id.h"
#include "session/session_store.h"
#include "session/slice.h"
#include "session/time_format.h"
#include "training/dataset.h"

namespace otelrr::cli {
namespace {

struct SessionToolFlags {
  std::vector<std::string> ids;  // slice: one; merge: two or more
  std::string target;            // --to-session
  std::string from;
  std::string to;
  std::vector<std::string> phases;
  std::vector<std::string> services;
  std::vector<std::string> signals;
  std::string align = "start";
  uint32_t shards = 0;  // split
  bool json = false;
  CompressionFlags compression;
};

constexpr std::string_view kTimeForms =
    "an offset from the session's start (30s, 1m30s, +90s, 1500ms), an RFC 3339 time (2026-11-26T11:45:54Z) or "
    "unix nanoseconds (1795693554123000000)";

// --from / --to of a slice: an offset from the session's start (units d, h, m, s, ms, optionally after a
// '+', several in a row: 1m30s), RFC 3339, or a bare integer of unix nanoseconds.
absl::StatusOr<uint64_t> ParseSliceTime(std::string_view flag, std::string_view text, uint64_t session_start) {
  auto not_a_time = [&] {
    return absl::InvalidArgumentError(fmt::format("{} '{}' is not a time: give {}", flag, text, kTimeForms));
  };
  if (text.empty()) return not_a_time();
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    uint64_t t = 0;
    for (char c : text) {
      if (t > (UINT64_MAX - 9) / 10) return not_a_time();
      t = t * 10 + static_cast<uint64_t>(c - '0');
    }
    return t;
  }
  std::string_view rest = text.starts_with('+') ? text.substr(1) : text;
  if (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0])) && rest.find_first_of("-:T") == std::string_view::npos) {
    std::chrono::nanoseconds offset{0};
    while (!rest.empty()) {
      size_t digits = 0;
      while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
      size_t unit = digits;
      while (unit < rest.size() && std::isalpha(static_cast<unsigned char>(rest[unit]))) ++unit;
      if (digits == 0 || unit == digits) return not_a_time();
      absl::StatusOr<std::chrono::nanoseconds> part = session::ParseDuration(rest.substr(0, unit));
      if (!part.ok()) return not_a_time();
      offset += *part;
      rest.remove_prefix(unit);
    }
    return session_start + static_cast<uint64_t>(offset.count());
  }
  absl::StatusOr<uint64_t> t = session::ParseRfc3339(text);
  if (!t.ok()) return not_a_time();
  return *t;
}

absl::StatusOr<std::vector<otlp::Signal>> ParseSignals(const std::vector<std::string>& names) {
  std::vector<otlp::Signal> out;
  for (const std::string& name : names) {
    otlp::Signal s;
    if (!otlp::ParseSignal(name, &s)) {
      return absl::InvalidArgumentError(fmt::format("--signals: '{}' is not traces, metrics or logs", name));
    }
    out.push_back(s);
  }
  return out;
}

std::string FormatRate(uint64_t bytes, double seconds) {
  return seconds > 0 ? fmt::format("{:.0f} MB/s", bytes / seconds / 1e6) : std::string("-");
}

void WriteCounts(const session::SessionMetadata& m, JsonWriter* w) {
  w->Field("records", m.counts.requests());
  w->Field("traces", m.counts.traces);
  w->Field("spans", m.counts.spans);
  w->Field("dataPoints", m.counts.data_points);
  w->Field("logRecords", m.counts.log_records);
  w->Field("storedBytes", m.total_size_bytes);
}

// The end of a slice's, merge's or split's --json object: what it read and how long it took; prints it. Exit 0.
int PrintToolJson(JsonWriter* w, uint64_t stored_bytes_read, double seconds) {
  w->Field("storedBytesRead", stored_bytes_read);
  w->Field("elapsedSeconds", seconds);
  w->EndObject();
  Print(w->str());
  Print("\n");
  return 0;
}

std::string CountsLine(const session::SessionMetadata& m) {
  return fmt::format("   Records: {}  Trace ids: {}  Spans: {}  Data points: {}  Log records: {}\n",
                     m.counts.requests(), m.counts.traces, m.counts.spans, m.counts.data_points, m.counts.log_records);
}

// The writer of a new session made from others: compressing on every core, as --compression says.
absl::StatusOr<session::WriterOptions> FastWriter(const SessionToolFlags& f) {
  session::WriterOptions options{.compression_threads = session::CompressionThreadsPerCore()};
  if (absl::Status s = ApplyCompressionFlags(f.compression, &options); !s.ok()) return s;
  return options;
}

int FailSessionTool(const absl::Status& s, const StoreFlag& store_flag) {
  if (absl::IsNotFound(s)) return Fail(fmt::format("{} (store: {})", s.message(), store_flag.Resolved()));
  return Fail(s);
}

// The exit code of a slice, split or merge that failed: 130 when Ctrl-C or SIGTERM stopped it (it left
// nothing behind, and says so), else the error's. Nothing when it succeeded.
std::optional<int> FailedToolExit(const absl::Status& s, const StopSignals& stop, std::string_view what,
                                  const StoreFlag& store_flag) {
  if (s.ok()) return std::nullopt;
  if (absl::IsCancelled(s) && stop.signal() != 0) {
    std::fprintf(stderr, "otelrr: %.*s stopped by a signal; nothing was written\n", static_cast<int>(what.size()),
                 what.data());
    return kExitInterrupted;
  }
  return FailSessionTool(s, store_flag);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int RunSlice(const StoreFlag& store_flag, const SessionToolFlags& f) {
  StopSignals stop;
  const std::string& id = f.ids.front();
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return UsageError(s);
  if (absl::Status s = session::ValidateSessionId(f.target); !s.ok()) return UsageError(Prefixed(s, "--to-session"));
  absl::StatusOr<std::vector<otlp::Signal>> signals = ParseSignals(f.signals);
  if (!signals.ok()) return UsageError(signals.status());
  absl::StatusOr<session::WriterOptions> writer = FastWriter(f);
  if (!writer.ok()) return UsageError(writer.status());
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kWrite, "sessions slice");
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  absl::StatusOr<session::SessionMetadata> source = sessions.Load(id);
  if (!source.ok()) return FailSessionTool(source.status(), store_flag);

  session::SliceOptions options{.source_id = id, .session_id = f.target, .phases = f.phases,
                                .services = f.services, .signals = *signals, .cancel = &stop.cancellation(),
                                .writer = *writer};
  if (!f.from.empty()) {
    absl::StatusOr<uint64_t> t = ParseSliceTime("--from", f.from, source->start_time_unix_nano);
    if (!t.ok()) return UsageError(t.status());
    options.from_unix_nano = *t;
  }
  if (!f.to.empty()) {
    absl::StatusOr<uint64_t> t = ParseSliceTime("--to", f.to, source->start_time_unix_nano);
    if (!t.ok()) return UsageError(t.status());
    options.to_unix_nano = *t;
  }
  if (options.from_unix_nano >= options.to_unix_nano) {
    return UsageError(fmt::format("--from {} is not before --to {}", f.from, f.to));
  }
  if (!f.phases.empty()) {
    // The windows the named phases label: the session's annotations and metadata (replay --phases's rule).
    annotate::AnnotationService annotations(sessions, nullptr);
    absl::StatusOr<std::vector<otlp::TimeWindow>> windows =
        training::ResolvePhaseWindows(sessions, annotations, id, f.phases);
    if (absl::IsInvalidArgument(windows.status())) return UsageError(Prefixed(windows.status(), "--phases"));
    if (!windows.ok()) return FailSessionTool(windows.status(), store_flag);
    options.phase_windows = *std::move(windows);
  }
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<session::SliceReport> r = session::SliceSession(sessions, options);
  if (std::optional<int> exit = FailedToolExit(r.status(), stop, "the slice was", store_flag)) return *exit;
  const double seconds = SecondsSince(started);
  const session::SessionMetadata& m = r->metadata;
  if (f.json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Field("sessionId", m.session_id);
    w.Field("source", id);
    w.Field("description", m.description);
    WriteCounts(m, &w);
    w.Key("phases");
    w.BeginArray();
    for (const session::Phase& p : m.phases) p.WriteJson(&w);
    w.EndArray();
    w.Field("recordsRead", r->records_read);
    return PrintToolJson(&w, r->stored_bytes_read, seconds);
  }
  std::string out = fmt::format("Sliced session {} into {}\n   {}\n", id, m.session_id, m.description);
  out += CountsLine(m);
  std::string phases;
  for (const session::Phase& p : m.phases) phases += (phases.empty() ? "" : ", ") + p.name;
  if (!phases.empty()) out += fmt::format("   Phases: {}\n", phases);
  out += fmt::format("   Read {} records ({:.1f} MB stored) in {:.2f} s: {}\n", r->records_read,
                     r->stored_bytes_read / 1e6, seconds, FormatRate(r->stored_bytes_read, seconds));
  Print(out);
  return 0;
}

int RunSplit(const StoreFlag& store_flag, const SessionToolFlags& f) {
  StopSignals stop;
  const std::string& id = f.ids.front();
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return UsageError(s);
  if (f.shards < 2 || f.shards > session::kMaxShards) {
    return UsageError(fmt::format("--shards {}: split into 2 to {} shards", f.shards, session::kMaxShards));
  }
  absl::StatusOr<session::WriterOptions> writer = FastWriter(f);
  if (!writer.ok()) return UsageError(writer.status());
  // One compressor per shard beside the reader; more threads than that only queue on two cores.
  writer->compression_threads = f.shards <= 4 ? 1 : 0;
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kWrite, "sessions split");
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<session::SplitReport> r = session::SplitSession(
      sessions, {.source_id = id, .shards = f.shards, .cancel = &stop.cancellation(), .writer = *writer});
  if (absl::IsInvalidArgument(r.status()) && absl::StrContains(r.status().message(), "shards")) return UsageError(r.status());
  if (std::optional<int> exit = FailedToolExit(r.status(), stop, "the split was", store_flag)) return *exit;
  const double seconds = SecondsSince(started);
  if (f.json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Field("source", id);
    w.Field("shards", static_cast<uint64_t>(f.shards));
    w.Key("sessions");
    w.BeginArray();
    for (const session::SessionMetadata& m : r->shards) {
      w.BeginObject();
      w.Field("sessionId", m.session_id);
      WriteCounts(m, &w);
      w.EndObject();
    }
    w.EndArray();
    w.Field("recordsRead", r->records_read);
    return PrintToolJson(&w, r->stored_bytes_read, seconds);
  }
  std::string out = fmt::format("Split session {} into {} shard sessions in {:.2f} s\n", id, f.shards, seconds);
  for (const session::SessionMetadata& m : r->shards) out += fmt::format("   {}\n{}", m.session_id, CountsLine(m));
  out += fmt::format("'otelrr replay --session {} --shard K/{}' now reads only shard K's session.\n", id, f.shards);
  Print(out);
  return 0;
}

int RunMerge(const StoreFlag& store_flag, const SessionToolFlags& f) {
  StopSignals stop;
  if (f.ids.size() < 2) return UsageError("merge needs at least two sessions");
  for (const std::string& id : f.ids) {
    if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return UsageError(s);
  }
  if (absl::Status s = session::ValidateSessionId(f.target); !s.ok()) return UsageError(Prefixed(s, "--to-session"));
  absl::StatusOr<session::WriterOptions> writer = FastWriter(f);
  if (!writer.ok()) return UsageError(writer.status());
  session::MergeOptions options{.source_ids = f.ids, .session_id = f.target,
                                .align = f.align == "keep" ? session::MergeAlign::kKeep : session::MergeAlign::kStart,
                                .cancel = &stop.cancellation(), .writer = *writer};
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kWrite, "sessions merge");
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<session::MergeReport> r = session::MergeSessions(sessions, options);
  if (std::optional<int> exit = FailedToolExit(r.status(), stop, "the merge was", store_flag)) return *exit;
  const double seconds = SecondsSince(started);
  const session::SessionMetadata& m = r->metadata;
  if (f.json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Field("sessionId", m.session_id);
    w.Field("description", m.description);
    w.Field("align", f.align);
    w.Field("idsChecked", r->ids_checked);
    w.Key("sources");
    w.BeginArray();
    for (const session::MergeSource& s : r->sources) {
      w.BeginObject();
      w.Field("sessionId", s.session_id);
      w.Field("shiftNanos", s.shift_nanos);
      w.Field("idsRemapped", s.remap_key != 0);
      w.Field("remapKey", s.remap_key);
      w.Field("records", s.records);
      w.EndObject();
    }
    w.EndArray();
    WriteCounts(m, &w);
    return PrintToolJson(&w, r->stored_bytes_read, seconds);
  }
  std::string out = fmt::format("Merged {} sessions into {}\n", r->sources.size(), m.session_id);
  for (const session::MergeSource& s : r->sources) {
    out += fmt::format("   {}: {} records, moved {:+.3f} s{}\n", s.session_id, s.records, s.shift_nanos / 1e9,
                       s.remap_key != 0 ? ", trace and span ids remapped (a trace id was already taken)" : "");
  }
  if (!r->ids_checked) out += "   Too many traces to check for shared ids: every session after the first was remapped\n";
  out += CountsLine(m);
  out += fmt::format("   Read {:.1f} MB stored in {:.2f} s: {}\n", r->stored_bytes_read / 1e6, seconds,
                     FormatRate(r->stored_bytes_read, seconds));
  Print(out);
  return 0;
}

}  // namespace

void AddSessionToolCommands(CLI::App* sessions, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<SessionToolFlags>();
  auto bind = [handler, store, f](CLI::App* cmd, int (*run)(const StoreFlag&, const SessionToolFlags&)) {
    AddStoreOption(cmd, store);
    cmd->callback([handler, store, f, run] { *handler = [store, f, run] { return run(*store, *f); }; });
  };

  CLI::App* slice = sessions->add_subcommand(
      "slice", "A new session holding a time window, phases, services or signals of another");
  slice->add_option("ID", f->ids, "the session to slice")->required()->expected(1);
  slice->add_option("--from", f->from, "keep records that arrived at or after this time (default: the first)");
  slice->add_option("--to", f->to, "... and before this time (default: after the last)");
  slice->add_option("--phases", f->phases, "keep only the items of these phases (by each item's own time)")
      ->delimiter(',');
  slice->add_option("--services", f->services, "keep only these service.name values")->delimiter(',');
  slice->add_option("--signals", f->signals, "keep only these signals: traces, metrics, logs (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember({"traces", "metrics", "logs"}));
  slice->add_option("--to-session", f->target, "the new session's id")->required();
  slice->add_flag("--json", f->json, "print the result as JSON");
  slice->footer(fmt::format(R"(--from and --to take {}.

A record is kept when it arrived in [--from, --to); of its spans, data points and log records only those
whose own time (a span's start, a point's time, a log's time) lies in that window and, with --phases, in
one of the phases (as 'replay --phases' keeps them), and with --services those of the listed services.
Nothing is moved: arrivals, timestamps and ids stay as they were, and the source's phases are kept, clipped
to the window. The new session says where it came from in its description; 'sessions verify' checks it.
A window outside the session, an unknown phase or service, nothing left, or a --to-session that exists:
an error, and nothing is written. Ctrl-C (or SIGTERM) stops it, exit 130, and removes what it wrote.

Examples:
  otelrr sessions slice seed-1 --from 10s --to 20s --to-session seed-1-10-20
  otelrr sessions slice seed-1 --phases failure --to-session seed-1-failure
  otelrr sessions slice capture-7 --from 2026-11-26T11:50:00Z --to +15m --services checkout --signals traces,logs --to-session checkout-incident)",
                            kTimeForms));
  AddCompressionFlags(slice, &f->compression);
  bind(slice, RunSlice);

  CLI::App* merge = sessions->add_subcommand("merge", "One session from several, their arrivals interleaved");
  merge->add_option("IDS", f->ids, "the sessions to merge (two or more)")->required()->expected(2, 1 << 20);
  merge->add_option("--to-session", f->target, "the new session's id")->required();
  merge->add_option("--align", f->align,
                    "start: move every session to start when the first one starts (arrivals and timestamps); keep: "
                    "leave every time as it is (default: start)")
      ->check(CLI::IsMember({"start", "keep"}));
  merge->add_flag("--json", f->json, "print the result as JSON");
  merge->footer(R"(Records are interleaved by arrival (ties in the order the sessions are listed). Sessions of
different signals merge fine. A session whose spans share a trace id with the spans of one listed before it
gets new trace and span ids (remapped consistently, so its traces, logs and exemplars stay connected); a
session without spans keeps its ids (logs merged with their system's traces still point at them); listing the same
session twice therefore gives it twice, as distinct traces. Phases and flags of all sessions are kept
(moved with their session). Nothing is written when a session does not exist, is still being written, or
--to-session exists, or when Ctrl-C (or SIGTERM) stops it (exit 130).

Examples:
  otelrr sessions merge seed-a seed-b --to-session a-and-b
  otelrr sessions merge capture-traces capture-metrics --align keep --to-session capture-all)");
  AddCompressionFlags(merge, &f->compression);
  bind(merge, RunMerge);

  CLI::App* split = sessions->add_subcommand(
      "split", "N sessions, one per shard of a sharded replay, so each replayer reads only its share");
  split->add_option("ID", f->ids, "the session to split")->required()->expected(1);
  split->add_option("--shards", f->shards, "how many shards (2 to 1024): the N of 'replay --shard K/N'")->required();
  split->add_flag("--json", f->json, "print the result as JSON");
  split->footer(R"(Writes the sessions ID.shard-0-of-N ... ID.shard-(N-1)-of-N, each holding of every record only the
items of its shard, partitioned as 'replay --shard K/N' partitions them (spans and the logs that carry a trace
id by trace, so traces stay whole; other logs by resource; data points by series). Arrivals, timestamps and
ids are unchanged; each shard keeps the source's phases and names it ("shardOf" in its metadata.json).
'otelrr replay --session ID --shard K/N' then reads ID.shard-K-of-N instead of reading all of ID and
filtering it (on S3, each replayer fetches only its share), on the schedule of the whole session, so N
replayers together still send what one replay of ID sends. '--whole-session' on replay ignores the split.
Refused (nothing written) when a shard session exists already; Ctrl-C removes what it wrote (exit 130).

Example:
  otelrr sessions split loadtest --shards 4
  otelrr replay --session loadtest --shard 2/4 --start-at 2026-12-06T18:00:00Z --endpoint http://collector:4318)");
  AddCompressionFlags(split, &f->compression);
  bind(split, RunSplit);
}

}  // namespace otelrr::cli
