// otelrr sessions: list, show, verify, delete, copy, import and export the sessions of a store; keep
// (a session's expiry) and prune (the retention policy); pack and unpack (a session as one file).
// verify, delete, export and pack also work on several sessions: named, or matched by a filter.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "annotate/annotation_log.h"
#include "cli/commands.h"
#include "cli/compression_flags.h"
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
#include "session/pack.h"
#include "session/retention.h"
#include "session/session_id.h"
#include "session/session_store.h"
#include "session/shared.h"
#include "session/time_format.h"

namespace otelrr::cli {
namespace {

using session::SessionMetadata;
using session::SessionStore;

// What selects the sessions of a batch command (verify, delete, export, pack) when no id is given.
struct SessionFilterFlags {
  std::string type;               // --type
  std::string older_than;         // --older-than 7d: started at least that long ago
  std::string flag;               // --flag NAME: in the session's enabledFlags
  std::string description_match;  // --description-match REGEX: std::regex (ECMAScript), searched

  bool any() const { return !type.empty() || !older_than.empty() || !flag.empty() || !description_match.empty(); }
};

struct SessionsFlags {
  std::string type;
  std::string id;
  bool id_given = false;
  bool json = false;
  // verify, delete, export, pack: one id or several, or a filter
  std::vector<std::string> ids;
  SessionFilterFlags filter;
  bool yes = false;      // delete with a filter
  bool dry_run = false;  // delete
  // unpack
  std::string pack_file;
  // import
  std::vector<std::string> files;
  std::string signal;
  std::string description;
  std::optional<int64_t> retention_days;
  CompressionFlags compression;  // import, copy
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
    (void)session::AddLiveInstances(sessions->object_store(), &*m);  // a shared session's counts while recorded
    Print(m->ToJson());
    return 0;
  });
}

int RunVerifyOne(const StoreFlag& store_flag, const SessionsFlags& f) {
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

int RunSeal(const StoreFlag& store_flag, const SessionsFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return UsageError(s);
  return WithSessions(store_flag, StoreFlag::Access::kRead, "", [&](SessionStore* sessions, const absl::Status&) {
    absl::StatusOr<session::SealResult> r = sessions != nullptr
                                                ? session::SealSession(sessions->object_store(), f.id)
                                                : absl::StatusOr<session::SealResult>(session::NoSuchSession(f.id));
    if (!r.ok()) return FailAbout(r.status(), store_flag);
    const bool sealed = r->outcome != session::SealOutcome::kWaiting;
    if (f.json) {
      JsonWriter w(true);
      w.BeginObject();
      session::WriteSealResultFields(*r, &w);
      w.EndObject();
      Print(w.str());
      Print("\n");
    } else {
      Print(session::DescribeSeal(*r) + "\n");
    }
    // Not sealed because an instance is still recording: the seal did not happen, which a script must see.
    return sealed ? 0 : kExitFailed;
  });
}

int RunDeleteOne(const StoreFlag& store_flag, const SessionsFlags& f) {
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

int UnpackFile(const StoreFlag& store_flag, const std::string& path, const SessionsFlags& f);
bool IsPackFile(const std::string& path);

int RunImport(const StoreFlag& store_flag, const SessionsFlags& f) {
  // A pack holds a whole session, checked as unpack checks it: recognised by its content, whatever its name.
  const bool any_pack = std::any_of(f.files.begin(), f.files.end(), IsPackFile);
  if (any_pack) {
    if (f.files.size() > 1) {
      return UsageError("an otelrr pack holds a whole session: import it alone (or run 'otelrr sessions unpack FILE')");
    }
    if (!f.type.empty() || !f.signal.empty() || !f.description.empty() || f.retention_days.has_value()) {
      return UsageError(fmt::format("{} is an otelrr pack: it keeps its session's own type, description and "
                                    "expiry, so only --session applies",
                                    f.files[0]));
    }
    return UnpackFile(store_flag, f.files[0], f);
  }
  session::ImportOptions options{.session_id = f.id, .description = f.description, .retention_days = f.retention_days};
  if (absl::Status s = ApplyCompressionFlags(f.compression, &options.writer); !s.ok()) return UsageError(s);
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

int RunExportOne(const StoreFlag& store_flag, const SessionsFlags& f) {
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
  absl::StatusOr<std::optional<SessionCompression>> compression = ParseCompressionFlags(f.compression);
  if (!compression.ok()) return UsageError(compression.status());
  session::CopyOptions options;
  if (*compression) {
    options.compression = (*compression)->compression;
    options.compression_level = (*compression)->level;
  }
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> source = from.Open(StoreFlag::Access::kRead);
  if (!source.ok()) return Fail(Prefixed(source.status(), "--from"));
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> target = to.Open(StoreFlag::Access::kWrite);
  if (!target.ok()) return Fail(Prefixed(target.status(), "--to"));
  SessionStore source_sessions(**source), target_sessions(**target);
  absl::StatusOr<session::CopyReport> r = session::CopySession(source_sessions, target_sessions, f.id, options);
  if (!r.ok()) return FailAbout(r.status(), from);
  if (f.json) {
    JsonWriter w;
    w.BeginObject();
    w.Field("sessionId", f.id);
    w.Field("from", from.Resolved());
    w.Field("to", to.Resolved());
    w.Field("files", r->files);
    w.Field("recompressed", r->recompressed);
    w.Field("objects", r->objects);
    w.Field("bytes", r->bytes);
    w.EndObject();
    Print(w.str());
    Print("\n");
  } else {
    std::string recompressed =
        r->recompressed == 0 ? ""
                             : fmt::format(", {} of them recompressed as {}", r->recompressed,
                                           session::CompressionName(*options.compression));
    Print(fmt::format("copied session {} from {} to {}: {} {} ({}{}), checksums verified on both sides\n", f.id,
                      from.Resolved(), to.Resolved(), r->files, Plural(r->files, "file", "files"),
                      FormatBytes(r->bytes), recompressed));
  }
  return 0;
}


// ---- pack and unpack ----

bool IsPackFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(512, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return session::LooksLikePack(head);
}

// The file a pack of `id` goes to: `out` itself, or `out`/{id}.otelrr when `out` is a directory.
std::string PackPath(const std::string& out, std::string_view id, bool into_directory) {
  std::error_code ec;
  if (into_directory || std::filesystem::is_directory(out, ec)) {
    return (std::filesystem::path(out) / fmt::format("{}{}", id, session::kPackFileSuffix)).string();
  }
  return out;
}

// Packs one session into `path` (written whole or not at all).
absl::StatusOr<session::PackReport> PackInto(SessionStore& sessions, std::string_view id, const std::string& path) {
  OutputFile out(path);
  if (absl::Status s = out.Open(); !s.ok()) return s;
  absl::StatusOr<session::PackReport> r =
      session::PackSession(sessions, id, [&](std::string_view chunk) { return out.Write(chunk); });
  if (!r.ok()) return r.status();
  if (absl::Status s = out.Commit(); !s.ok()) return s;
  return r;
}

std::string DescribePack(const session::PackReport& r, const std::string& path) {
  return fmt::format("{} {}, {} stored, pack {} ({})", r.files, Plural(r.files, "file", "files"),
                     FormatBytes(r.stored_bytes), path, FormatBytes(r.pack_bytes));
}

int RunPackOne(const StoreFlag& store_flag, const SessionsFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return UsageError(s);
  return WithSessions(store_flag, StoreFlag::Access::kRead, "", [&](SessionStore* sessions, const absl::Status&) {
    if (sessions == nullptr) return FailAbout(session::NoSuchSession(f.id), store_flag);
    const std::string path = f.out == "-" ? f.out : PackPath(f.out, f.id, false);
    absl::StatusOr<session::PackReport> r = PackInto(*sessions, f.id, path);
    if (!r.ok()) return FailAbout(r.status(), store_flag);
    if (f.json) {
      JsonWriter w;
      w.BeginObject();
      w.Field("sessionId", f.id);
      w.Field("out", path);
      w.Field("files", r->files);
      w.Field("storedBytes", r->stored_bytes);
      w.Field("packBytes", r->pack_bytes);
      w.EndObject();
      std::fprintf(path == "-" ? stderr : stdout, "%s\n", w.str().c_str());
    } else {
      std::fprintf(path == "-" ? stderr : stdout, "packed session %s: %s\n", f.id.c_str(),
                   DescribePack(*r, path == "-" ? "standard output" : path).c_str());
    }
    return 0;
  });
}

int UnpackFile(const StoreFlag& store_flag, const std::string& path, const SessionsFlags& f) {
  session::UnpackOptions options;
  if (f.id_given) {
    if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return UsageError(Prefixed(s, "--session"));
    options.session_id = f.id;
  }
  // A renamed session's annotations name it: they are stored under the new id.
  options.rename_member = [](std::string_view member, std::string bytes, std::string_view old_id,
                             std::string_view new_id) -> absl::StatusOr<std::string> {
    if (member != annotate::kAnnotationsName) return bytes;
    absl::StatusOr<std::vector<annotate::Annotation>> list = annotate::ParseAnnotationsJsonl(old_id, bytes);
    if (!list.ok()) return list.status();
    annotate::RenameSession(&*list, old_id, new_id);
    return annotate::FormatAnnotationsJsonl(*list);
  };
  absl::StatusOr<std::unique_ptr<store::ObjectReader>> in = session::OpenPackFile(path);
  if (!in.ok()) return Fail(in.status());
  return WithSessions(store_flag, StoreFlag::Access::kWrite, "", [&](SessionStore* sessions, const absl::Status&) {
    absl::StatusOr<session::UnpackReport> r = session::UnpackSession(*sessions, **in, options);
    if (!r.ok()) return Fail(Prefixed(r.status(), path));
    const std::string storage = fmt::format("{}/sessions/{}/", sessions->object_store().Describe(), r->session_id);
    if (f.json) {
      JsonWriter w;
      w.BeginObject();
      w.Field("sessionId", r->session_id);
      w.Field("packedSessionId", r->packed_session_id);
      w.Field("files", r->files);
      w.Field("storedBytes", r->stored_bytes);
      w.Field("storage", storage);
      w.EndObject();
      Print(w.str());
      Print("\n");
    } else {
      Print(fmt::format("unpacked session {}{} into {}: {} {} ({}), every file checked against the pack's manifest "
                        "and metadata.json\n",
                        r->session_id,
                        r->session_id == r->packed_session_id
                            ? ""
                            : fmt::format(" (packed as {})", r->packed_session_id),
                        storage, r->files, Plural(r->files, "file", "files"), FormatBytes(r->stored_bytes)));
    }
    return 0;
  });
}

int RunUnpack(const StoreFlag& store_flag, const SessionsFlags& f) { return UnpackFile(store_flag, f.pack_file, f); }

// ---- several sessions at once: verify, delete, export and pack by ids or by a filter ----

enum class BatchOp { kVerify, kDelete, kExport, kPack };

std::string_view BatchOpName(BatchOp op) {
  switch (op) {
    case BatchOp::kVerify: return "verify";
    case BatchOp::kDelete: return "delete";
    case BatchOp::kExport: return "export";
    case BatchOp::kPack: return "pack";
  }
  return "";
}

// What happened to one session of a batch.
struct BatchOutcome {
  std::string session_id = {};
  bool ok = false;
  std::string result = {};  // "intact", "damaged", "deleted", "would delete", "exported", "packed", "failed"
  std::string detail = {};  // the numbers, or what went wrong
  // The --json members beyond sessionId and result; null: {"ok", "error" (when it failed)}.
  std::function<void(JsonWriter*)> json = {};
};

BatchOutcome Failed(std::string_view id, const absl::Status& s) {
  return {.session_id = std::string(id), .ok = false, .result = "failed", .detail = std::string(s.message())};
}

// Whether a session had feature flag `flag` on: in its enabledFlags, or in the flags of one of its phases (a
// seed pattern's incident phase turns flags on for its duration only).
bool HasFlag(const SessionMetadata& m, const std::string& flag) {
  auto in = [&](const std::vector<std::string>& flags) { return std::find(flags.begin(), flags.end(), flag) != flags.end(); };
  if (in(m.enabled_flags)) return true;
  return std::any_of(m.phases.begin(), m.phases.end(), [&](const session::Phase& p) { return in(p.flags); });
}

// The filter of a batch command, parsed: each mistake is a usage error naming its flag.
struct SessionFilter {
  std::optional<session::SessionType> type;
  std::optional<uint64_t> started_before_unix_nano;
  std::string flag;
  std::optional<std::regex> description;

  bool Matches(const SessionMetadata& m) const {
    if (type && m.session_type != *type) return false;
    if (started_before_unix_nano && m.start_time_unix_nano > *started_before_unix_nano) return false;
    if (!flag.empty() && !HasFlag(m, flag)) return false;
    if (description && !std::regex_search(m.description, *description)) return false;
    return true;
  }
};

absl::StatusOr<SessionFilter> ParseFilter(const SessionFilterFlags& flags, uint64_t now_unix_nano) {
  SessionFilter filter;
  if (!flags.type.empty()) {
    session::SessionType t;
    if (!session::ParseSessionType(flags.type, &t)) {
      return absl::InvalidArgumentError("--type must be seed, capture or training");
    }
    filter.type = t;
  }
  if (!flags.older_than.empty()) {
    absl::StatusOr<std::chrono::nanoseconds> age = session::ParseDuration(flags.older_than);
    if (!age.ok()) return Prefixed(age.status(), "--older-than");
    const uint64_t ns = static_cast<uint64_t>(age->count());
    filter.started_before_unix_nano = now_unix_nano > ns ? now_unix_nano - ns : 0;
  }
  filter.flag = flags.flag;
  if (!flags.description_match.empty()) {
    try {
      filter.description.emplace(flags.description_match, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(
          fmt::format("--description-match: '{}' is not a valid regular expression ({})", flags.description_match,
                      e.what()));
    }
  }
  return filter;
}

// Whether the command names exactly one session: then it keeps its single-session output.
bool IsSingle(const SessionsFlags& f) { return f.ids.size() == 1 && !f.filter.any(); }

BatchOutcome VerifyOne(SessionStore& sessions, const std::string& id) {
  absl::StatusOr<session::VerifyReport> r = sessions.Verify(id);
  if (!r.ok()) return Failed(id, r.status());
  BatchOutcome o{.session_id = id, .ok = r->ok, .result = r->ok ? "intact" : "damaged"};
  if (r->ok) {
    o.detail = fmt::format("{} {}, {} {}, {}", r->files_checked, Plural(r->files_checked, "file", "files"), r->records,
                           Plural(r->records, "record", "records"), FormatBytes(r->stored_bytes));
  } else {
    o.detail = fmt::format("{} {}: {}{}", r->problems.size(), Plural(r->problems.size(), "problem", "problems"),
                           r->problems.front(),
                           r->problems.size() > 1 ? fmt::format(" (all of them: otelrr sessions verify {})", id) : "");
  }
  o.json = [report = std::move(*r)](JsonWriter* w) { session::WriteVerifyReportFields(report, w); };
  return o;
}

BatchOutcome DeleteOne(SessionStore& sessions, const SessionMetadata* m, const std::string& id, bool dry_run) {
  if (dry_run) {
    // What the delete would meet: a session being written is refused.
    absl::StatusOr<std::unique_ptr<session::SessionLock>> lock = session::LockSession(sessions.object_store(), id);
    if (session::IsSessionLocked(lock.status())) {
      return Failed(id, absl::FailedPreconditionError("is being written: it would not be deleted"));
    }
    absl::StatusOr<bool> exists = sessions.Exists(id);
    if (!exists.ok()) return Failed(id, exists.status());
    if (!*exists) return Failed(id, session::NoSuchSession(id));
    return {.session_id = id, .ok = true, .result = "would delete",
            .detail = m != nullptr ? FormatBytes(m->total_size_bytes) : ""};
  }
  if (absl::Status s = sessions.Delete(id); !s.ok()) return Failed(id, s);
  return {.session_id = id, .ok = true, .result = "deleted",
          .detail = m != nullptr ? FormatBytes(m->total_size_bytes) : ""};
}

BatchOutcome ExportOne(SessionStore& sessions, const std::string& id, const SessionsFlags& f) {
  session::ExportOptions options;
  for (const std::string& name : f.signals) {
    otlp::Signal s;
    if (otlp::ParseSignal(name, &s)) options.signals.push_back(s);
  }
  const std::string path = (std::filesystem::path(f.out) / (id + ".jsonl")).string();
  OutputFile out(path);
  if (absl::Status s = out.Open(); !s.ok()) return Failed(id, s);
  absl::StatusOr<session::ExportStats> stats =
      session::ExportJsonLines(sessions, id, options, [&](std::string_view chunk) { return out.Write(chunk); });
  if (!stats.ok()) return Failed(id, stats.status());
  if (absl::Status s = out.Commit(); !s.ok()) return Failed(id, s);
  BatchOutcome o{.session_id = id, .ok = true, .result = "exported",
                 .detail = fmt::format("{} {} ({}) to {}", stats->records, Plural(stats->records, "record", "records"),
                                       FormatBytes(stats->bytes), path)};
  o.json = [path, stats = *stats](JsonWriter* w) {
    w->Field("ok", true);
    w->Field("out", path);
    w->Field("records", stats.records);
    w->Field("bytes", stats.bytes);
  };
  return o;
}

BatchOutcome PackOne(SessionStore& sessions, const std::string& id, const SessionsFlags& f) {
  const std::string path = PackPath(f.out, id, true);
  absl::StatusOr<session::PackReport> r = PackInto(sessions, id, path);
  if (!r.ok()) return Failed(id, r.status());
  BatchOutcome o{.session_id = id, .ok = true, .result = "packed", .detail = DescribePack(*r, path)};
  o.json = [path, r = *r](JsonWriter* w) {
    w->Field("ok", true);
    w->Field("out", path);
    w->Field("files", r.files);
    w->Field("storedBytes", r.stored_bytes);
    w->Field("packBytes", r.pack_bytes);
  };
  return o;
}

std::string BatchSummary(BatchOp op, const std::vector<BatchOutcome>& outcomes, bool dry_run, const std::string& out) {
  size_t ok = 0;
  for (const BatchOutcome& o : outcomes) ok += o.ok ? 1 : 0;
  const size_t failed = outcomes.size() - ok;
  const std::string n = fmt::format("{} {}", outcomes.size(), Plural(outcomes.size(), "session", "sessions"));
  std::string line;
  switch (op) {
    case BatchOp::kVerify:
      line = fmt::format("verified {}: {} intact, {} damaged or unreadable", n, ok, failed);
      return line;
    case BatchOp::kDelete:
      line = dry_run ? fmt::format("would delete {} of {} (dry run: nothing was deleted)", ok, n)
                     : fmt::format("deleted {} of {}", ok, n);
      break;
    case BatchOp::kExport: line = fmt::format("exported {} of {} into {}", ok, n, out); break;
    case BatchOp::kPack: line = fmt::format("packed {} of {} into {}", ok, n, out); break;
  }
  if (failed > 0) line += fmt::format(", {} failed", failed);
  return line;
}

// verify, delete, export and pack for several ids or a filter: one result per session, a total, exit 1 when
// any session failed.
int RunBatch(const StoreFlag& store_flag, const SessionsFlags& f, BatchOp op) {
  const std::string_view name = BatchOpName(op);
  if (!f.ids.empty() && f.filter.any()) {
    return UsageError("give session ids or a filter (--type, --older-than, --flag, --description-match), not both");
  }
  if (f.ids.empty() && !f.filter.any()) {
    return UsageError(fmt::format("give the id of a session (or several), or a filter (--type, --older-than, "
                                  "--flag, --description-match) to {} every session it matches",
                                  name));
  }
  for (const std::string& id : f.ids) {
    if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return UsageError(s);
  }
  absl::StatusOr<SessionFilter> filter = ParseFilter(f.filter, RealClock().WallNowUnixNano());
  if (!filter.ok()) return UsageError(filter.status());
  if (op == BatchOp::kDelete && f.filter.any() && !f.yes && !f.dry_run) {
    return UsageError("delete with a filter removes every session it matches: add --dry-run to list them first, "
                      "then --yes to delete them");
  }
  if (op == BatchOp::kExport || op == BatchOp::kPack) {
    if (f.out.empty() || f.out == "-") {
      return UsageError(fmt::format("--out DIR is required to {} several sessions: each goes to DIR/<id>{}", name,
                                    op == BatchOp::kPack ? session::kPackFileSuffix : std::string_view(".jsonl")));
    }
    std::error_code ec;
    std::filesystem::create_directories(f.out, ec);
    if (ec || !std::filesystem::is_directory(f.out)) {
      return Fail(fmt::format("--out {}: not a directory that can be written ({})", f.out,
                              ec ? ec.message() : "a file has that name"));
    }
  }
  // Ctrl-C stops between two sessions, never in the middle of one.
  StopSignals stop;
  auto run = [&](SessionStore* sessions, const absl::Status&) {
    std::vector<std::string> ids;
    std::map<std::string, SessionMetadata> matched;  // with a filter: what it matched on
    if (f.filter.any() && sessions != nullptr) {
      std::vector<std::string> problems;
      absl::StatusOr<std::vector<SessionMetadata>> all = sessions->List(&problems);
      if (!all.ok()) return Fail(all.status());
      for (const std::string& p : problems) std::fprintf(stderr, "otelrr: warning: %s (not matched)\n", p.c_str());
      for (SessionMetadata& m : *all) {
        if (!filter->Matches(m)) continue;
        std::string id = m.session_id;
        ids.push_back(id);
        matched.emplace(std::move(id), std::move(m));
      }
    } else if (!f.filter.any()) {
      std::set<std::string> seen;
      for (const std::string& id : f.ids) {
        if (seen.insert(id).second) ids.push_back(id);
      }
    }
    std::vector<BatchOutcome> outcomes;
    for (const std::string& id : ids) {
      if (stop.signal() != 0) break;
      if (sessions == nullptr) {
        outcomes.push_back(Failed(id, session::NoSuchSession(id)));
        continue;
      }
      switch (op) {
        case BatchOp::kVerify: outcomes.push_back(VerifyOne(*sessions, id)); break;
        case BatchOp::kDelete: {
          // The size it frees, for the report: from the listing, or read for a session named by id.
          std::optional<SessionMetadata> m;
          if (auto it = matched.find(id); it != matched.end()) {
            m = it->second;
          } else if (absl::StatusOr<SessionMetadata> loaded = sessions->Load(id); loaded.ok()) {
            m = std::move(*loaded);
          }
          outcomes.push_back(DeleteOne(*sessions, m ? &*m : nullptr, id, f.dry_run));
          break;
        }
        case BatchOp::kExport: outcomes.push_back(ExportOne(*sessions, id, f)); break;
        case BatchOp::kPack: outcomes.push_back(PackOne(*sessions, id, f)); break;
      }
    }
    const bool all_ok = std::all_of(outcomes.begin(), outcomes.end(), [](const BatchOutcome& o) { return o.ok; });
    const std::string summary = BatchSummary(op, outcomes, f.dry_run, f.out);
    if (f.json) {
      JsonWriter w(true);
      w.BeginObject();
      w.Field("command", name);
      if (op == BatchOp::kDelete) w.Field("dryRun", f.dry_run);
      w.Field("total", outcomes.size());
      w.Field("ok", static_cast<uint64_t>(std::count_if(outcomes.begin(), outcomes.end(),
                                                        [](const BatchOutcome& o) { return o.ok; })));
      w.Field("failed", static_cast<uint64_t>(std::count_if(outcomes.begin(), outcomes.end(),
                                                            [](const BatchOutcome& o) { return !o.ok; })));
      w.Field("summary", summary);
      w.Key("sessions");
      w.BeginArray();
      for (const BatchOutcome& o : outcomes) {
        w.BeginObject();
        w.Field("sessionId", o.session_id);
        w.Field("result", o.result);
        if (o.json) {
          o.json(&w);
        } else {
          w.Field("ok", o.ok);
          if (!o.ok) w.Field("error", o.detail);
        }
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
      Print(w.str());
      Print("\n");
    } else {
      if (outcomes.empty() && f.filter.any()) {
        Print(fmt::format("no session in {} matches the filter\n", store_flag.Resolved()));
      }
      size_t id_width = std::string_view("SESSION").size();
      for (const BatchOutcome& o : outcomes) id_width = std::max(id_width, o.session_id.size());
      for (const BatchOutcome& o : outcomes) {
        Print(fmt::format("{:<{}}  {:<12}  {}\n", o.session_id, id_width, o.result, o.detail));
      }
      Print(summary + "\n");
    }
    return all_ok ? 0 : kExitFailed;
  };
  const int code = WithSessions(store_flag, StoreFlag::Access::kRead, "", run);
  return stop.signal() != 0 ? kExitInterrupted : code;
}

// The single-session form keeps its own output; several ids or a filter go through RunBatch.
template <int (*One)(const StoreFlag&, const SessionsFlags&), BatchOp op>
int RunOneOrBatch(const StoreFlag& store_flag, const SessionsFlags& f) {
  if (!IsSingle(f)) return RunBatch(store_flag, f, op);
  if (op == BatchOp::kDelete && f.dry_run) return RunBatch(store_flag, f, op);
  SessionsFlags one = f;
  one.id = f.ids.front();
  return One(store_flag, one);
}

int RunVerify(const StoreFlag& s, const SessionsFlags& f) {
  return RunOneOrBatch<RunVerifyOne, BatchOp::kVerify>(s, f);
}
int RunDelete(const StoreFlag& s, const SessionsFlags& f) {
  return RunOneOrBatch<RunDeleteOne, BatchOp::kDelete>(s, f);
}
int RunExport(const StoreFlag& s, const SessionsFlags& f) {
  return RunOneOrBatch<RunExportOne, BatchOp::kExport>(s, f);
}
int RunPack(const StoreFlag& s, const SessionsFlags& f) {
  if (IsSingle(f) && f.out.empty()) return UsageError("--out is required: the file to write the pack to");
  return RunOneOrBatch<RunPackOne, BatchOp::kPack>(s, f);
}

// --type, --older-than, --flag and --description-match of verify, delete, export and pack.
void AddSessionFilterFlags(CLI::App* cmd, SessionFilterFlags* filter) {
  cmd->add_option("--type", filter->type, "without ids: the sessions of this type")
      ->check(CLI::IsMember({"seed", "capture", "training"}));
  cmd->add_option("--older-than", filter->older_than,
                  "without ids: the sessions that started at least this long ago (7d, 12h, 90m)");
  cmd->add_option("--flag", filter->flag,
                  "without ids: the sessions with this feature flag on, in their enabledFlags or in one of their phases");
  cmd->add_option("--description-match", filter->description_match,
                  "without ids: the sessions whose description contains a match of this regular expression "
                  "(ECMAScript syntax, std::regex)");
}

// The --help of the batch forms (verify, delete, export, pack).
inline constexpr std::string_view kBatchHelp =
    R"(Several sessions: give several ids, or instead of ids a filter (--type, --older-than, --flag,
--description-match; all that are given must match) to act on every session that matches. Each session
gets one result line, then a total; --json prints one JSON object {command, total, ok, failed, summary,
sessions: [{sessionId, result, ok, ...}]}. Exits 1 when any session failed.)";

}  // namespace

void AddSessionsCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<SessionsFlags>();
  CLI::App* sessions =
      app.add_subcommand("sessions",
                         "List, show, verify, delete, copy, import, export, pack, unpack, keep, prune, slice, merge and diff sessions");
  sessions->require_subcommand(1);
  auto bind = [handler, store, f](CLI::App* cmd, int (*run)(const StoreFlag&, const SessionsFlags&)) {
    AddStoreOption(cmd, store);
    cmd->callback([handler, store, f, run, cmd] {
      const CLI::Option* session = cmd->get_option_no_throw("--session");
      f->id_given = session != nullptr && session->count() > 0;
      *handler = [store, f, run] { return run(*store, *f); };
    });
  };

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
  verify->add_option("ID", f->ids, "session id (several ids, or a filter instead: see below)");
  AddSessionFilterFlags(verify, &f->filter);
  verify->add_flag("--json", f->json, "print the report as JSON (also when the session cannot be read)");
  verify->footer(std::string("Exits 0 only when the session is intact; otherwise lists each problem.\n\n") +
                 std::string(kBatchHelp) +
                 "\n\nExamples:\n  otelrr sessions verify import-20261126-114544-a1b2c3\n"
                 "  otelrr sessions verify seed-1 seed-2 capture-7\n  otelrr sessions verify --type seed --json");
  bind(verify, RunVerify);

  CLI::App* seal = sessions->add_subcommand(
      "seal", "Merge the instances' parts of a shared session into its metadata.json (capture --instance)");
  seal->add_option("ID", f->id, "session id")->required();
  seal->add_flag("--json", f->json, "print the outcome and the sealed metadata (without the file index) as JSON");
  seal->footer(
      "Several `otelrr capture --instance NAME` (or serve) processes can record one session on a shared store;\n"
      "the last one to stop seals it. Run this when that one did not (it was killed): instances that died are\n"
      "recovered first, each alone, and the session is marked failed naming them. Refused (exit 1, nothing\n"
      "written) while an instance is still recording.\n\n"
      "Example:\n  otelrr sessions seal loadtest-1");
  bind(seal, RunSeal);

  CLI::App* del = sessions->add_subcommand("delete", "Delete a session and all its files");
  del->add_option("ID", f->ids, "session id (several ids, or a filter instead: see below)");
  AddSessionFilterFlags(del, &f->filter);
  del->add_flag("--dry-run", f->dry_run, "list what would be deleted; delete nothing");
  del->add_flag("--yes", f->yes, "with a filter: delete every session it matches (required unless --dry-run)");
  del->add_flag("--json", f->json, "print {\"sessionId\", \"deleted\"} as JSON (several sessions: the report below)");
  del->footer(std::string("Refused while the session is being written (a capture recording it, a seed being "
                          "generated).\nSessions named by id are deleted as asked; with a filter nothing is deleted "
                          "without --yes,\nso run it with --dry-run first to see what it matches.\n\n") +
              std::string(kBatchHelp) +
              "\n\nExamples:\n  otelrr sessions delete import-20261126-114544-a1b2c3\n"
              "  otelrr sessions delete --type capture --older-than 30d --dry-run\n"
              "  otelrr sessions delete --type capture --older-than 30d --yes");
  bind(del, RunDelete);

  CLI::App* copy = sessions->add_subcommand("copy", "Copy a session to another store (local disk or S3)");
  copy->add_option("ID", f->id, "session id")->required();
  copy->add_option("--from", f->from, "the store to copy from (default: the --store one)");
  copy->add_option("--to", f->to, "the store to copy into: a directory, file:// or s3://BUCKET[/PREFIX]")->required();
  AddCompressionFlags(copy, &f->compression, "each file as it is");
  copy->add_flag("--json", f->json, "print the result as JSON");
  copy->footer(R"(Every file is checked against its checksum as it is read and again as the target stores it;
metadata.json goes last, so the copy exists only once it is whole. A session being written is refused.

Examples:
  otelrr sessions copy capture-1 --to s3://otel-data          push a local session to S3
  otelrr sessions copy seed-7 --from s3://otel-data --to ./data
  otelrr sessions copy old-capture --to s3://otel-data --compression zstd   gzip files become zstd ones)");
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
  AddCompressionFlags(import, &f->compression);
  import->add_flag("--json", f->json, "print the result as JSON");
  import->footer(R"(Formats (detected from the content; gzip or zstd compressed files too):
  an otelrr pack (sessions pack): restored whole, as 'otelrr sessions unpack' does (only --session applies),
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
  exp->add_option("ID", f->ids, "session id (several ids, or a filter instead: see below)");
  AddSessionFilterFlags(exp, &f->filter);
  exp->add_option("--out", f->out,
                  "output file (default: standard output); written whole or not at all. Several sessions: a "
                  "directory, one <id>.jsonl each");
  exp->add_flag("--json", f->json, "several sessions: print the results as JSON");
  exp->add_option("--signals", f->signals, "signals to export (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember({"traces", "metrics", "logs"}));
  exp->footer(R"(The output is what the Collector's otlpjsonfile receiver reads.

)" + std::string(kBatchHelp) + R"(

Examples:
  otelrr sessions export import-20261126-114544-a1b2c3 --out session.jsonl
  otelrr sessions export incident-42 --signals traces,logs | head
  otelrr sessions export --type seed --out exports/)");
  bind(exp, RunExport);

  CLI::App* pack = sessions->add_subcommand("pack", "Write a session as one file (.otelrr): for Git LFS, CI, mail");
  pack->add_option("ID", f->ids, "session id (several ids, or a filter instead: see below)");
  AddSessionFilterFlags(pack, &f->filter);
  pack->add_option("--out", f->out,
                   "the pack file (FILE.otelrr, '-' for standard output); a directory: <id>.otelrr in it (several "
                   "sessions: always a directory)");
  pack->add_flag("--json", f->json, "print the result as JSON");
  pack->footer(R"(A pack is a tar file: a manifest (otelrr-pack.json), metadata.json and the session's files byte
for byte (docs/FORMAT.md, "Session packs"). The same session always gives the same bytes, so a pack
changes in Git only when its session does. Every file is checked against its checksum as it is read;
a session being written (or still active) is refused. 'otelrr sessions unpack' (or import) restores it.

)" + std::string(kBatchHelp) + R"(

Examples:
  otelrr sessions pack seed-1 --out testdata/seed-1.otelrr
  otelrr sessions pack --type seed --out packs/)");
  bind(pack, RunPack);

  CLI::App* unpack = sessions->add_subcommand("unpack", "Restore a session from a pack (.otelrr) into the store");
  unpack->add_option("FILE", f->pack_file, "the pack file")->required()->check(CLI::ExistingFile);
  unpack->add_option("--session", f->id, "the session's id in this store (default: the id it was packed with)");
  unpack->add_flag("--json", f->json, "print the result as JSON");
  unpack->footer(R"(Every member is checked against the pack's manifest (size and SHA-256) and against metadata.json's
file index; metadata.json is written last. A truncated, damaged or foreign file, a path outside the
session, a member the manifest does not list: refused, and nothing is left in the store. An existing
session is never overwritten: choose another id with --session. 'otelrr sessions import FILE' does the
same when FILE is a pack.

Examples:
  otelrr sessions unpack testdata/seed-1.otelrr
  otelrr sessions unpack seed-1.otelrr --session seed-1-ci --store s3://otel-data)");
  bind(unpack, RunUnpack);

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
  AddSessionsDiffCommand(sessions, store, handler);
}

}  // namespace otelrr::cli
