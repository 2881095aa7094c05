// otelrr sessions: list, show, verify, delete, copy, import and export the sessions of a store; keep
// (a session's expiry) and prune (the retention policy).
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/io.h"
#include "cli/otlp_target.h"
#include "cli/retention_flags.h"
#include "cli/stop_signals.h"
#include "common/clock.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "session/copy.h"
#include "session/export.h"
#include "session/import.h"
#include "session/session_id.h"
#include "session/session_store.h"
#include "session/time_format.h"

namespace otelrr::cli {
namespace {

using session::SessionMetadata;
using session::SessionStore;

struct SessionsFlags {
  std::string type;
  std::string id;
  bool id_given = false;
  bool json = false;
  // import
  std::vector<std::string> files;
  std::string signal;
  std::string description;
  std::optional<int64_t> retention_days;
  // export
  std::string out;
  std::vector<std::string> signals;
  // copy
  std::string from;
  std::string to;
  // keep
  std::optional<int64_t> days;
  bool forever = false;
  // prune
  RetentionFlags retention;
};

// Opens the store and runs `fn` with its sessions. A session that does not exist is named with the
// store it was looked for in.
template <typename Fn>
int WithSessions(const StoreFlag& store_flag, StoreFlag::Access access, std::string_view recover_as, Fn&& fn) {
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(access, recover_as);
  if (!store.ok()) {
    if (store.status().code() == absl::StatusCode::kNotFound) {
      return fn(nullptr, store.status());  // no store: the command says what that means for it
    }
    return Fail(store.status());
  }
  SessionStore sessions(**store);
  return fn(&sessions, absl::OkStatus());
}

// The failure of a command about session `id`: a session that does not exist is named with its store.
int FailAbout(const absl::Status& s, const StoreFlag& store_flag) {
  if (s.code() == absl::StatusCode::kNotFound) return Fail(fmt::format("{} (store: {})", s.message(), store_flag.Resolved()));
  return Fail(s);
}

std::string FormatTime(uint64_t unix_nano) {
  if (unix_nano == 0) return "-";
  std::time_t secs = static_cast<std::time_t>(unix_nano / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string FormatBytes(uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  if (n < (1u << 20)) return fmt::format("{:.1f} KiB", n / 1024.0);
  if (n < (1u << 30)) return fmt::format("{:.1f} MiB", n / 1048576.0);
  return fmt::format("{:.2f} GiB", n / 1073741824.0);
}

std::string_view Plural(uint64_t n, std::string_view one, std::string_view many) { return n == 1 ? one : many; }


// {"sessionId": id, "<key>": value} on one line: the --json answer of a command that changes one session.
template <typename T>
void PrintSessionJson(std::string_view id, std::string_view key, const T& value) {
  JsonWriter w;
  w.BeginObject();
  w.Field("sessionId", id);
  w.Field(key, value);
  w.EndObject();
  Print(w.str());
  Print("\n");
}

int RunList(const StoreFlag& store_flag, const SessionsFlags& f) {
  return WithSessions(store_flag, StoreFlag::Access::kRead, "", [&](SessionStore* sessions, const absl::Status& missing) {
    std::vector<std::string> problems;
    std::vector<SessionMetadata> all;
    if (sessions != nullptr) {
      absl::StatusOr<std::vector<SessionMetadata>> listed = sessions->List(&problems);
      if (!listed.ok()) return Fail(listed.status());
      all = std::move(*listed);
    }
    std::vector<const SessionMetadata*> shown;
    for (const SessionMetadata& m : all) {
      if (f.type.empty() || session::SessionTypeName(m.session_type) == f.type) shown.push_back(&m);
    }
    for (const std::string& p : problems) std::fprintf(stderr, "otelrr: warning: %s\n", p.c_str());
    if (f.json) {
      std::string out = "[";
      for (size_t i = 0; i < shown.size(); ++i) {
        if (i > 0) out += ",\n";
        out += shown[i]->ToJson();
      }
      out += "]\n";
      Print(out);
      return 0;
    }
    if (shown.empty()) {
      Print(fmt::format("no sessions in {}{}{}\n", store_flag.Resolved(), f.type.empty() ? "" : " of type " + f.type,
                        missing.ok() ? "" : " (the store does not exist yet)"));
      return 0;
    }
    // The id column is as wide as the longest id, so long ids never push the other columns out of line.
    size_t id_width = std::string_view("SESSION").size();
    for (const SessionMetadata* m : shown) id_width = std::max(id_width, m->session_id.size());
    Print(fmt::format("{:<{}} {:<8} {:<9} {:<19} {:>9} {:>10} {:>10} {:>10}  {}\n", "SESSION", id_width, "TYPE",
                      "STATUS", "STARTED (UTC)", "TRACES", "SPANS", "POINTS", "LOGS", "SIZE"));
    for (const SessionMetadata* m : shown) {
      Print(fmt::format("{:<{}} {:<8} {:<9} {:<19} {:>9} {:>10} {:>10} {:>10}  {}\n", m->session_id, id_width,
                        session::SessionTypeName(m->session_type), session::SessionStatusName(m->status),
                        FormatTime(m->start_time_unix_nano), m->counts.traces, m->counts.spans,
                        m->counts.data_points, m->counts.log_records, FormatBytes(m->total_size_bytes)));
    }
    return 0;
  });
}

int RunShow(const StoreFlag& store_flag, const SessionsFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return UsageError(s);
  return WithSessions(store_flag, StoreFlag::Access::kRead, "", [&](SessionStore* sessions, const absl::Status&) {
    absl::StatusOr<SessionMetadata> m =
        sessions != nullptr ? sessions->Load(f.id) : absl::StatusOr<SessionMetadata>(session::NoSuchSession(f.id));
    if (!m.ok()) return FailAbout(m.status(), store_flag);
    Print(m->ToJson());
    return 0;
  });
}

int RunVerify(const StoreFlag& store_flag, const SessionsFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return UsageError(s);
  return WithSessions(store_flag, StoreFlag::Access::kRead, "", [&](SessionStore* sessions, const absl::Status&) {
    absl::StatusOr<session::VerifyReport> r =
        sessions != nullptr ? sessions->Verify(f.id) : absl::StatusOr<session::VerifyReport>(session::NoSuchSession(f.id));
    if (f.json) {
      // Always one JSON object, so that a script reads the answer whatever it is.
      JsonWriter w(true);
      w.BeginObject();
      w.Field("sessionId", f.id);
      if (!r.ok()) {
        w.Field("ok", false);
        w.Field("error", r.status().message());
      } else {
        session::WriteVerifyReportFields(*r, &w);
      }
      w.EndObject();
      Print(w.str());
      Print("\n");
      return r.ok() && r->ok ? 0 : kExitFailed;
    }
    if (!r.ok()) return FailAbout(r.status(), store_flag);
    if (r->ok) {
      Print(fmt::format("session {} is intact: {} {}, {} {} ({} spans, {} data points, {} log records, {} trace "
                        "ids), {}\n",
                        f.id, r->files_checked, Plural(r->files_checked, "file", "files"), r->records,
                        Plural(r->records, "record", "records"), r->counts.spans, r->counts.data_points,
                        r->counts.log_records, r->counts.traces, FormatBytes(r->stored_bytes)));
      return 0;
    }
    std::fprintf(stderr, "otelrr: session %s is damaged (%zu %s):\n", f.id.c_str(), r->problems.size(),
                 r->problems.size() == 1 ? "problem" : "problems");
    for (const std::string& p : r->problems) std::fprintf(stderr, "  %s\n", p.c_str());
    return kExitFailed;
  });
}

int RunDelete(const StoreFlag& store_flag, const SessionsFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return UsageError(s);
  return WithSessions(store_flag, StoreFlag::Access::kRead, "", [&](SessionStore* sessions, const absl::Status&) {
    // Refused while a writer holds the session (a capture recording it): FailedPrecondition.
    absl::Status s = sessions != nullptr ? sessions->Delete(f.id) : session::NoSuchSession(f.id);
    if (!s.ok()) return FailAbout(s, store_flag);
    if (f.json) {
      PrintSessionJson(f.id, "deleted", true);
    } else {
      Print(fmt::format("deleted session {}\n", f.id));
    }
    return 0;
  });
}

int RunImport(const StoreFlag& store_flag, const SessionsFlags& f) {
  session::ImportOptions options{.session_id = f.id, .description = f.description, .retention_days = f.retention_days};
  if (!f.type.empty() && !session::ParseSessionType(f.type, &options.session_type)) {
    return UsageError("--type must be seed, capture or training");
  }
  if (!f.signal.empty()) {
    otlp::Signal s;
    if (!otlp::ParseSignal(f.signal, &s)) return UsageError("--signal must be traces, metrics or logs");
    options.signal = s;
  }
  if (f.id_given) {
    if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return UsageError(Prefixed(s, "--session"));
  }
  return WithSessions(store_flag, StoreFlag::Access::kWrite, "import", [&](SessionStore* sessions, const absl::Status&) {
    absl::StatusOr<session::ImportResult> r = session::ImportFiles(*sessions, f.files, options);
    if (!r.ok()) return Fail(r.status());
    const SessionMetadata& m = r->metadata;
    std::string storage = fmt::format("{}/sessions/{}/", sessions->object_store().Describe(), m.session_id);
    if (f.json) {
      JsonWriter w(true);
      w.BeginObject();
      w.Field("sessionId", m.session_id);
      w.Key("files");
      w.BeginArray();
      for (const session::ImportedFile& file : r->files) {
        w.BeginObject();
        w.Field("path", file.path);
        w.Field("format", file.format);
        w.Field("messages", file.messages);
        w.EndObject();
      }
      w.EndArray();
      w.Field("records", m.counts.requests());
      w.Field("traces", m.counts.traces);
      w.Field("spans", m.counts.spans);
      w.Field("dataPoints", m.counts.data_points);
      w.Field("logRecords", m.counts.log_records);
      w.Field("storage", storage);
      w.EndObject();
      Print(w.str());
      Print("\n");
      return 0;
    }
    Print(fmt::format("Imported {} {} as session {}\n", r->files.size(), Plural(r->files.size(), "file", "files"),
                      m.session_id));
    for (const session::ImportedFile& file : r->files) {
      Print(fmt::format("   {}: {}, {} {}\n", file.path, file.format, file.messages,
                        Plural(file.messages, "message", "messages")));
    }
    Print(fmt::format("   Records: {}  Trace ids: {}  Spans: {}  Data points: {}  Log records: {}\n",
                      m.counts.requests(), m.counts.traces, m.counts.spans, m.counts.data_points,
                      m.counts.log_records));
    Print(fmt::format("   Storage: {} ({})\n", storage, FormatBytes(m.total_size_bytes)));
    return 0;
  });
}

int RunExport(const StoreFlag& store_flag, const SessionsFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return UsageError(s);
  session::ExportOptions options;
  for (const std::string& name : f.signals) {
    otlp::Signal s;
    if (!otlp::ParseSignal(name, &s)) {
      return UsageError(fmt::format("--signals: '{}' is not traces, metrics or logs", name));
    }
    options.signals.push_back(s);
  }
  return WithSessions(store_flag, StoreFlag::Access::kRead, "", [&](SessionStore* sessions, const absl::Status&) {
    if (sessions == nullptr) return FailAbout(session::NoSuchSession(f.id), store_flag);
    OutputFile out(f.out);
    if (absl::Status s = out.Open(); !s.ok()) return Fail(s);
    absl::StatusOr<session::ExportStats> stats = session::ExportJsonLines(
        *sessions, f.id, options, [&](std::string_view chunk) { return out.Write(chunk); });
    if (!stats.ok()) return FailAbout(stats.status(), store_flag);
    if (absl::Status s = out.Commit(); !s.ok()) return Fail(s);
    if (!f.out.empty() && f.out != "-") {
      std::fprintf(stderr, "exported %llu %s (%s) of session %s to %s\n",
                   static_cast<unsigned long long>(stats->records), stats->records == 1 ? "record" : "records",
                   FormatBytes(stats->bytes).c_str(), f.id.c_str(), f.out.c_str());
    }
    return 0;
  });
}

int RunKeep(const StoreFlag& store_flag, const SessionsFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return UsageError(s);
  if (f.days.has_value() == f.forever) {
    return UsageError("give either --days N (the session expires N days from now) or --forever (it never expires)");
  }
  return WithSessions(store_flag, StoreFlag::Access::kRead, "", [&](SessionStore* sessions, const absl::Status&) {
    if (sessions == nullptr) return FailAbout(session::NoSuchSession(f.id), store_flag);
    const uint64_t expires =
        f.forever ? session::kNeverExpires : *session::ExpiryAfterDays(RealClock().WallNowUnixNano(), f.days);
    // Under the session's lock: refused while it is being written.
    absl::StatusOr<SessionMetadata> m = session::SetSessionExpiry(*sessions, f.id, expires);
    if (!m.ok()) return FailAbout(m.status(), store_flag);
    const std::string when = f.forever ? "never" : session::FormatRfc3339Millis(expires);
    if (f.json) {
      PrintSessionJson(f.id, "expiresAt", when);
    } else if (f.forever) {
      Print(fmt::format("session {} is kept forever: no retention policy removes it ('otelrr sessions delete' "
                        "still does)\n",
                        f.id));
    } else {
      Print(fmt::format("session {} expires at {} ({} {} from now)\n", f.id, when, *f.days,
                        Plural(static_cast<uint64_t>(*f.days), "day", "days")));
    }
    return 0;
  });
}

// The report of a prune as a table, one session a line, then the totals.
void PrintPruneReport(const session::RetentionReport& r, const std::string& where, bool store_missing) {
  if (r.sessions.empty()) {
    std::string type;
    if (r.policy.session_type) type = fmt::format(" of type {}", session::SessionTypeName(*r.policy.session_type));
    Print(fmt::format("no sessions in {}{}{}\n", where, type, store_missing ? " (the store does not exist yet)" : ""));
    return;
  }
  size_t id_width = std::string_view("SESSION").size();
  for (const session::RetentionDecision& d : r.sessions) id_width = std::max(id_width, d.session_id.size());
  auto action = [&r](session::RetentionAction a) {
    std::string name(session::RetentionActionName(a));
    if (!r.policy.dry_run) return name;
    if (a == session::RetentionAction::kDeleted) return std::string("would delete");
    if (a == session::RetentionAction::kArchived) return std::string("would archive");
    return name;
  };
  Print(fmt::format("{:<{}} {:<19} {:>10}  {:<13} {}\n", "SESSION", id_width, "STARTED (UTC)", "SIZE", "ACTION",
                    "REASON"));
  for (const session::RetentionDecision& d : r.sessions) {
    Print(fmt::format("{:<{}} {:<19} {:>10}  {:<13} {}\n", d.session_id, id_width,
                      FormatTime(d.start_time_unix_nano), FormatBytes(d.size_bytes), action(d.action), d.reason));
  }
  Print(r.Summary() + "\n");
}

int RunPrune(const StoreFlag& store_flag, const SessionsFlags& f) {
  absl::StatusOr<session::RetentionPolicy> policy = RetentionPolicyOf(f.retention);
  if (!policy.ok()) return UsageError(policy.status());
  // Ctrl-C stops between two sessions, never in the middle of a copy or a delete.
  StopSignals stop;
  auto run = [&](SessionStore* sessions, const absl::Status& missing) {
    session::RetentionReport report{.ran_at_unix_nano = RealClock().WallNowUnixNano(), .policy = *policy};
    if (sessions != nullptr) {
      std::unique_ptr<store::ObjectStore> archive_store;
      if (!f.retention.archive_to.empty()) {
        absl::StatusOr<std::unique_ptr<store::ObjectStore>> opened = OpenArchive(f.retention, store_flag);
        if (!opened.ok()) {
          const absl::Status& s = opened.status();
          return s.code() == absl::StatusCode::kInvalidArgument ? UsageError(s) : Fail(s);
        }
        archive_store = std::move(*opened);
      }
      std::optional<SessionStore> archive;
      if (archive_store != nullptr) archive.emplace(*archive_store);
      absl::StatusOr<session::RetentionReport> r = session::ApplyRetention(
          *sessions, *policy, RealClock(), archive ? &*archive : nullptr, &stop.cancellation());
      if (!r.ok()) return Fail(r.status());
      report = std::move(*r);
    }
    for (const std::string& p : report.problems) std::fprintf(stderr, "otelrr: warning: %s (left alone)\n", p.c_str());
    if (f.json) {
      JsonWriter w(true);
      report.WriteJson(&w);
      Print(w.str());
      Print("\n");
    } else {
      PrintPruneReport(report, store_flag.Resolved(), !missing.ok());
    }
    for (const session::RetentionDecision& d : report.sessions) {
      if (d.action == session::RetentionAction::kFailed) {
        std::fprintf(stderr, "otelrr: session %s: %s\n", d.session_id.c_str(), d.reason.c_str());
      }
    }
    return report.ok() ? 0 : kExitFailed;
  };
  const int code = WithSessions(store_flag, StoreFlag::Access::kRead, "", run);
  return stop.signal() != 0 ? kExitInterrupted : code;
}

int RunCopy(const StoreFlag& store_flag, const SessionsFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return UsageError(s);
  if (f.to.empty()) return UsageError("--to is required: the store to copy the session into");
  StoreFlag from{.uri = f.from.empty() ? store_flag.Resolved() : f.from, .spool = ""};
  StoreFlag to{.uri = f.to, .spool = ""};
  if (from.Resolved() == to.Resolved()) return UsageError("--from and --to are the same store");
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> source = from.Open(StoreFlag::Access::kRead);
  if (!source.ok()) return Fail(Prefixed(source.status(), "--from"));
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> target = to.Open(StoreFlag::Access::kWrite);
  if (!target.ok()) return Fail(Prefixed(target.status(), "--to"));
  SessionStore source_sessions(**source), target_sessions(**target);
  absl::StatusOr<session::CopyReport> r = session::CopySession(source_sessions, target_sessions, f.id);
  if (!r.ok()) return FailAbout(r.status(), from);
  if (f.json) {
    JsonWriter w;
    w.BeginObject();
    w.Field("sessionId", f.id);
    w.Field("from", from.Resolved());
    w.Field("to", to.Resolved());
    w.Field("files", r->files);
    w.Field("objects", r->objects);
    w.Field("bytes", r->bytes);
    w.EndObject();
    Print(w.str());
    Print("\n");
  } else {
    Print(fmt::format("copied session {} from {} to {}: {} {} ({}), checksums verified on both sides\n", f.id,
                      from.Resolved(), to.Resolved(), r->files, Plural(r->files, "file", "files"),
                      FormatBytes(r->bytes)));
  }
  return 0;
}

}  // namespace

void AddSessionsCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<SessionsFlags>();
  CLI::App* sessions =
      app.add_subcommand("sessions", "List, show, verify, delete, copy, import, export, keep and prune sessions");
  sessions->require_subcommand(1);
  auto bind = [handler, store, f](CLI::App* cmd, int (*run)(const StoreFlag&, const SessionsFlags&)) {
    AddStoreOption(cmd, store);
    cmd->callback([handler, store, f, run, cmd] {
      const CLI::Option* session = cmd->get_option_no_throw("--session");
      f->id_given = session != nullptr && session->count() > 0;
      *handler = [store, f, run] { return run(*store, *f); };
    });
  };

  AddSessionsDiffCommand(sessions, store, handler);

  CLI::App* list = sessions->add_subcommand("list", "List the sessions in the store");
  list->add_option("--type", f->type, "only sessions of this type")->check(CLI::IsMember({"seed", "capture", "training"}));
  list->add_flag("--json", f->json, "print a JSON array of metadata objects");
  list->footer("TRACES counts distinct trace ids (of spans, log records and exemplars).\n\nExamples:\n"
               "  otelrr sessions list\n  otelrr sessions list --type seed --json");
  bind(list, RunList);

  CLI::App* show = sessions->add_subcommand("show", "Print a session's metadata.json");
  show->add_option("ID", f->id, "session id")->required();
  show->add_flag("--json", f->json, "the same JSON (metadata.json is JSON already)");
  show->footer("Example:\n  otelrr sessions show import-20261126-114544-a1b2c3");
  bind(show, RunShow);

  CLI::App* verify = sessions->add_subcommand(
      "verify", "Check that every file decodes and that checksums and counts match the metadata");
  verify->add_option("ID", f->id, "session id")->required();
  verify->add_flag("--json", f->json, "print the report as JSON (also when the session cannot be read)");
  verify->footer("Exits 0 only when the session is intact; otherwise lists each problem.\n\nExample:\n"
                 "  otelrr sessions verify import-20261126-114544-a1b2c3");
  bind(verify, RunVerify);

  CLI::App* del = sessions->add_subcommand("delete", "Delete a session and all its files");
  del->add_option("ID", f->id, "session id")->required();
  del->add_flag("--json", f->json, "print {\"sessionId\", \"deleted\"} as JSON");
  del->footer("Refused while the session is being written (a capture recording it, a seed being generated).\n\n"
              "Example:\n  otelrr sessions delete import-20261126-114544-a1b2c3");
  bind(del, RunDelete);

  CLI::App* copy = sessions->add_subcommand("copy", "Copy a session to another store (local disk or S3)");
  copy->add_option("ID", f->id, "session id")->required();
  copy->add_option("--from", f->from, "the store to copy from (default: the --store one)");
  copy->add_option("--to", f->to, "the store to copy into: a directory, file:// or s3://BUCKET[/PREFIX]")->required();
  copy->add_flag("--json", f->json, "print the result as JSON");
  copy->footer(R"(Every file is checked against its checksum as it is read and again as the target stores it;
metadata.json goes last, so the copy exists only once it is whole. A session being written is refused.

Examples:
  otelrr sessions copy capture-1 --to s3://otel-data          push a local session to S3
  otelrr sessions copy seed-7 --from s3://otel-data --to ./data)");
  bind(copy, RunCopy);

  CLI::App* import = sessions->add_subcommand("import", "Create a session from files of OTLP data");
  import->add_option("FILE", f->files, "OTLP files")->required()->check(CLI::ExistingFile);
  import->add_option("--session", f->id, "the new session's id (default: import-<time>-<random>)");
  import->add_option("--type", f->type, "session type (default: capture)")
      ->check(CLI::IsMember({"seed", "capture", "training"}));
  import->add_option("--signal", f->signal, "signal of protobuf input when it cannot be detected")
      ->check(CLI::IsMember({"traces", "metrics", "logs"}));
  import->add_option("--description", f->description, "human-readable description");
  AddRetentionDaysFlag(import, &f->retention_days);
  import->add_flag("--json", f->json, "print the result as JSON");
  import->footer(R"(Formats (detected from the content; gzip or zstd compressed files too):
  OTLP JSON Lines (one TracesData/MetricsData/LogsData per line: the OpenTelemetry file exporter),
  a single OTLP/JSON document, the Collector file exporter's length-prefixed protobuf (plain or zstd),
  or one raw protobuf Export*ServiceRequest (--signal names its signal when it is ambiguous).
Trace and span ids may be hex (OTLP/JSON) or base64 (protobuf's generic JSON mapping).
Each message becomes a record whose arrival time is its own earliest timestamp. All or nothing: when a
file is invalid, cut short or corrupt, no session is created and the error names the file and line.

Examples:
  otelrr sessions import traces.jsonl metrics.jsonl --description "staging, Tuesday"
  otelrr sessions import collector-out.pb --session incident-42
  otelrr sessions import request.bin --signal logs)");
  bind(import, RunImport);

  CLI::App* exp = sessions->add_subcommand("export", "Write a session as OTLP JSON Lines in arrival order");
  exp->add_option("ID", f->id, "session id")->required();
  exp->add_option("--out", f->out, "output file (default: standard output); written whole or not at all");
  exp->add_option("--signals", f->signals, "signals to export (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember({"traces", "metrics", "logs"}));
  exp->footer(R"(The output is what the Collector's otlpjsonfile receiver reads.

Examples:
  otelrr sessions export import-20261126-114544-a1b2c3 --out session.jsonl
  otelrr sessions export incident-42 --signals traces,logs | head)");
  bind(exp, RunExport);

  CLI::App* keep = sessions->add_subcommand("keep", "Set when a session expires: N days from now, or never");
  keep->add_option("ID", f->id, "session id")->required();
  keep->add_option_function<int64_t>("--days", [f](const int64_t& n) { f->days = n; },
                                     "the session expires N days from now (1 to 36500)")
      ->check(CLI::Range(int64_t{1}, session::kMaxRetentionDays));
  keep->add_flag("--forever", f->forever, "the session never expires: no retention policy removes it");
  keep->add_flag("--json", f->json, "print {\"sessionId\", \"expiresAt\"} as JSON");
  keep->footer(R"(Writes expiresAt in the session's metadata.json, under the session's lock: refused while the
session is being written. 'otelrr sessions prune' (and serve's scheduled retention) removes a session once
its expiresAt has passed, and never before: a later expiresAt protects it from --older-than,
--keep-last and --max-total-size. 'otelrr sessions delete' removes it whatever its expiresAt says.

Examples:
  otelrr sessions keep incident-42 --forever
  otelrr sessions keep capture-20261126-114544-a1b2c3 --days 90)");
  bind(keep, RunKeep);

  CLI::App* prune =
      sessions->add_subcommand("prune", "Remove (or archive) the sessions whose time is up by the retention policy");
  AddRetentionFlags(prune, &f->retention);
  prune->add_flag("--json", f->json,
                  "print the report as JSON: the policy, the totals and one {sessionId, action, reason} per session");
  prune->footer(std::string(kRetentionRules) + R"(

The report lists every session of --type with what happened to it and why: deleted, archived, kept,
skipped (being written, still active) or failed. Exits 0 when the policy ran, even when sessions were
skipped; 1 when a removal failed; 130 when stopped by Ctrl-C (between two sessions).

Examples:
  otelrr sessions prune                                    only the expired sessions
  otelrr sessions prune --older-than 30d --keep-last 5 --dry-run
  otelrr sessions prune --max-total-size 50GB --type capture
  otelrr sessions prune --older-than 90d --archive-to s3://otel-archive)");
  bind(prune, RunPrune);
  AddSessionToolCommands(sessions, store, handler);
}

}  // namespace otelrr::cli
