// otelrr sessions: list, show, verify, delete, import and export the sessions of a store.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "session/export.h"
#include "session/import.h"
#include "session/session_id.h"
#include "session/session_store.h"

namespace otelrr::cli {
namespace {

using session::SessionMetadata;
using session::SessionStore;

struct SessionsFlags {
  std::string type;
  std::string id;
  bool json = false;
  // import
  std::vector<std::string> files;
  std::string signal;
  std::string description;
  // export
  std::string out;
  std::vector<std::string> signals;
};

// Opens the store and runs `fn` with its sessions; store errors become the one-line failure.
template <typename Fn>
int WithSessions(const StoreFlag& store_flag, Fn&& fn) {
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open();
  if (!store.ok()) return Fail(store.status());
  SessionStore sessions(**store);
  return fn(sessions, **store);
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

void Print(std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); }

int RunList(const StoreFlag& store_flag, const SessionsFlags& f) {
  return WithSessions(store_flag, [&](SessionStore& sessions, store::ObjectStore& store) {
    std::vector<std::string> problems;
    absl::StatusOr<std::vector<SessionMetadata>> all = sessions.List(&problems);
    if (!all.ok()) return Fail(all.status());
    std::vector<const SessionMetadata*> shown;
    for (const SessionMetadata& m : *all) {
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
      Print(fmt::format("no sessions in {}{}\n", store.Describe(), f.type.empty() ? "" : " of type " + f.type));
      return 0;
    }
    Print(fmt::format("{:<36} {:<8} {:<9} {:<19} {:>9} {:>10} {:>10} {:>10}  {}\n", "SESSION", "TYPE", "STATUS",
                      "STARTED (UTC)", "TRACES", "SPANS", "POINTS", "LOGS", "SIZE"));
    for (const SessionMetadata* m : shown) {
      Print(fmt::format("{:<36} {:<8} {:<9} {:<19} {:>9} {:>10} {:>10} {:>10}  {}\n", m->session_id,
                        session::SessionTypeName(m->session_type), session::SessionStatusName(m->status),
                        FormatTime(m->start_time_unix_nano), m->counts.traces, m->counts.spans,
                        m->counts.data_points, m->counts.log_records, FormatBytes(m->total_size_bytes)));
    }
    return 0;
  });
}

int RunShow(const StoreFlag& store_flag, const SessionsFlags& f) {
  return WithSessions(store_flag, [&](SessionStore& sessions, store::ObjectStore&) {
    absl::StatusOr<SessionMetadata> m = sessions.Load(f.id);
    if (!m.ok()) return Fail(m.status());
    Print(m->ToJson());
    Print("\n");
    return 0;
  });
}

int RunVerify(const StoreFlag& store_flag, const SessionsFlags& f) {
  return WithSessions(store_flag, [&](SessionStore& sessions, store::ObjectStore&) {
    absl::StatusOr<session::VerifyReport> r = sessions.Verify(f.id);
    if (!r.ok()) return Fail(r.status());
    if (f.json) {
      JsonWriter w(true);
      w.BeginObject();
      w.Key("sessionId");
      w.String(f.id);
      w.Key("ok");
      w.Bool(r->ok);
      w.Key("files");
      w.Uint(r->files_checked);
      w.Key("records");
      w.Uint(r->records);
      w.Key("traces");
      w.Uint(r->counts.traces);
      w.Key("spans");
      w.Uint(r->counts.spans);
      w.Key("dataPoints");
      w.Uint(r->counts.data_points);
      w.Key("logRecords");
      w.Uint(r->counts.log_records);
      w.Key("storedBytes");
      w.Uint(r->stored_bytes);
      w.Key("problems");
      w.BeginArray();
      for (const std::string& p : r->problems) w.String(p);
      w.EndArray();
      w.EndObject();
      Print(w.str());
      Print("\n");
    } else if (r->ok) {
      Print(fmt::format("session {} is intact: {} files, {} records ({} spans, {} data points, {} log records, "
                        "{} traces), {}\n",
                        f.id, r->files_checked, r->records, r->counts.spans, r->counts.data_points,
                        r->counts.log_records, r->counts.traces, FormatBytes(r->stored_bytes)));
    } else {
      std::fprintf(stderr, "otelrr: session %s is damaged (%zu problems):\n", f.id.c_str(), r->problems.size());
      for (const std::string& p : r->problems) std::fprintf(stderr, "  %s\n", p.c_str());
    }
    return r->ok ? 0 : 1;
  });
}

int RunDelete(const StoreFlag& store_flag, const SessionsFlags& f) {
  return WithSessions(store_flag, [&](SessionStore& sessions, store::ObjectStore&) {
    if (absl::Status s = sessions.Delete(f.id); !s.ok()) return Fail(s);
    if (f.json) {
      JsonWriter w;
      w.BeginObject();
      w.Key("sessionId");
      w.String(f.id);
      w.Key("deleted");
      w.Bool(true);
      w.EndObject();
      Print(w.str());
      Print("\n");
    } else {
      Print(fmt::format("deleted session {}\n", f.id));
    }
    return 0;
  });
}

int RunImport(const StoreFlag& store_flag, const SessionsFlags& f) {
  session::ImportOptions options{.session_id = f.id, .description = f.description};
  if (!f.type.empty() && !session::ParseSessionType(f.type, &options.session_type)) {
    return Fail("--type must be seed, capture or training");
  }
  if (!f.signal.empty()) {
    otlp::Signal s;
    if (!otlp::ParseSignal(f.signal, &s)) return Fail("--signal must be traces, metrics or logs");
    options.signal = s;
  }
  if (!f.id.empty()) {
    if (absl::Status s = session::ValidateSessionId(f.id); !s.ok()) return Fail(s);
  }
  return WithSessions(store_flag, [&](SessionStore& sessions, store::ObjectStore& store) {
    absl::StatusOr<session::ImportResult> r = session::ImportFiles(sessions, f.files, options);
    if (!r.ok()) return Fail(r.status());
    const SessionMetadata& m = r->metadata;
    std::string storage = fmt::format("{}/sessions/{}/", store.Describe(), m.session_id);
    if (f.json) {
      JsonWriter w(true);
      w.BeginObject();
      w.Key("sessionId");
      w.String(m.session_id);
      w.Key("files");
      w.BeginArray();
      for (const session::ImportedFile& file : r->files) {
        w.BeginObject();
        w.Key("path");
        w.String(file.path);
        w.Key("format");
        w.String(file.format);
        w.Key("messages");
        w.Uint(file.messages);
        w.EndObject();
      }
      w.EndArray();
      w.Key("records");
      w.Uint(m.counts.requests());
      w.Key("traces");
      w.Uint(m.counts.traces);
      w.Key("spans");
      w.Uint(m.counts.spans);
      w.Key("dataPoints");
      w.Uint(m.counts.data_points);
      w.Key("logRecords");
      w.Uint(m.counts.log_records);
      w.Key("storage");
      w.String(storage);
      w.EndObject();
      Print(w.str());
      Print("\n");
      return 0;
    }
    Print(fmt::format("Imported {} file(s) as session {}\n", r->files.size(), m.session_id));
    for (const session::ImportedFile& file : r->files) {
      Print(fmt::format("   {}: {}, {} messages\n", file.path, file.format, file.messages));
    }
    Print(fmt::format("   Records: {}  Traces: {}  Spans: {}  Data points: {}  Log records: {}\n",
                      m.counts.requests(), m.counts.traces, m.counts.spans, m.counts.data_points,
                      m.counts.log_records));
    Print(fmt::format("   Storage: {} ({})\n", storage, FormatBytes(m.total_size_bytes)));
    return 0;
  });
}

// Streams into a temp file renamed over OUT at the end, or to standard output.
class ExportOutput {
 public:
  explicit ExportOutput(std::string path) : path_(std::move(path)) {}
  ~ExportOutput() {
    if (file_ != nullptr && file_ != stdout) {
      std::fclose(file_);
      if (!in_place_) std::remove(tmp_.c_str());
    }
  }
  absl::Status Open() {
    if (path_.empty() || path_ == "-") {
      file_ = stdout;
      return absl::OkStatus();
    }
    // Replace regular files atomically; write devices and pipes (/dev/null, /dev/stdout, a fifo) in place:
    // renaming a temp file over them would replace the device.
    struct stat st;
    if (stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      file_ = std::fopen(path_.c_str(), "wb");
      if (file_ == nullptr) {
        return absl::PermissionDeniedError(fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
      }
      in_place_ = true;
      return absl::OkStatus();
    }
    tmp_ = path_ + ".tmp";
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (file_ == nullptr) {
      return absl::PermissionDeniedError(fmt::format("{}: cannot create: {}", path_, std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  absl::Status Write(std::string_view data) {
    if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
      return absl::UnavailableError(fmt::format("{}: write failed: {}", Name(), std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  absl::Status Finish() {
    if (file_ == stdout) {
      if (std::fflush(stdout) != 0) return absl::UnavailableError("standard output: write failed");
      return absl::OkStatus();
    }
    std::FILE* f = file_;
    file_ = nullptr;
    if (in_place_) {
      if (std::fclose(f) != 0) return absl::UnavailableError(fmt::format("{}: write failed", path_));
      return absl::OkStatus();
    }
    if (std::fclose(f) != 0 || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      std::remove(tmp_.c_str());
      return absl::UnavailableError(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
    }
    return absl::OkStatus();
  }

 private:
  std::string Name() const { return file_ == stdout ? "standard output" : path_; }
  std::string path_;
  std::string tmp_;
  std::FILE* file_ = nullptr;
  bool in_place_ = false;
};

int RunExport(const StoreFlag& store_flag, const SessionsFlags& f) {
  session::ExportOptions options;
  for (const std::string& name : f.signals) {
    otlp::Signal s;
    if (!otlp::ParseSignal(name, &s)) return Fail(fmt::format("--signals: '{}' is not traces, metrics or logs", name));
    options.signals.push_back(s);
  }
  return WithSessions(store_flag, [&](SessionStore& sessions, store::ObjectStore&) {
    ExportOutput out(f.out);
    if (absl::Status s = out.Open(); !s.ok()) return Fail(s);
    absl::StatusOr<session::ExportStats> stats = session::ExportJsonLines(
        sessions, f.id, options, [&](std::string_view chunk) { return out.Write(chunk); });
    if (!stats.ok()) return Fail(stats.status());
    if (absl::Status s = out.Finish(); !s.ok()) return Fail(s);
    if (!f.out.empty() && f.out != "-") {
      std::fprintf(stderr, "exported %llu records (%s) of session %s to %s\n",
                   static_cast<unsigned long long>(stats->records), FormatBytes(stats->bytes).c_str(), f.id.c_str(),
                   f.out.c_str());
    }
    return 0;
  });
}

void AddStoreOption(CLI::App* cmd, StoreFlag* store) {
  cmd->add_option("--store", store->uri, "session store: a path or file:// URI (default: $OTELRR_STORE or ./data)");
}

}  // namespace

void AddSessionsCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<SessionsFlags>();
  CLI::App* sessions = app.add_subcommand("sessions", "List, show, verify, delete, import and export sessions");
  sessions->require_subcommand(1);
  auto bind = [handler, store, f](CLI::App* cmd, int (*run)(const StoreFlag&, const SessionsFlags&)) {
    AddStoreOption(cmd, store);
    cmd->callback([handler, store, f, run] { *handler = [store, f, run] { return run(*store, *f); }; });
  };

  CLI::App* list = sessions->add_subcommand("list", "List the sessions in the store");
  list->add_option("--type", f->type, "only sessions of this type")->check(CLI::IsMember({"seed", "capture", "training"}));
  list->add_flag("--json", f->json, "print a JSON array of metadata objects");
  list->footer("Examples:\n  otelrr sessions list\n  otelrr sessions list --type seed --json");
  bind(list, RunList);

  CLI::App* show = sessions->add_subcommand("show", "Print a session's metadata.json");
  show->add_option("ID", f->id, "session id")->required();
  show->add_flag("--json", f->json, "the same JSON (metadata.json is JSON already)");
  show->footer("Example:\n  otelrr sessions show import-20261126-114544-a1b2c3");
  bind(show, RunShow);

  CLI::App* verify = sessions->add_subcommand(
      "verify", "Check that every file decodes and that checksums and counts match the metadata");
  verify->add_option("ID", f->id, "session id")->required();
  verify->add_flag("--json", f->json, "print the report as JSON");
  verify->footer("Exits 0 only when the session is intact; otherwise lists each problem.\n\nExample:\n"
                 "  otelrr sessions verify import-20261126-114544-a1b2c3");
  bind(verify, RunVerify);

  CLI::App* del = sessions->add_subcommand("delete", "Delete a session and all its files");
  del->add_option("ID", f->id, "session id")->required();
  del->add_flag("--json", f->json, "print {\"sessionId\", \"deleted\"} as JSON");
  del->footer("Example:\n  otelrr sessions delete import-20261126-114544-a1b2c3");
  bind(del, RunDelete);

  CLI::App* import = sessions->add_subcommand("import", "Create a session from files of OTLP data");
  import->add_option("FILE", f->files, "OTLP files")->required()->check(CLI::ExistingFile);
  import->add_option("--session", f->id, "the new session's id (default: import-<time>-<random>)");
  import->add_option("--type", f->type, "session type (default: capture)")
      ->check(CLI::IsMember({"seed", "capture", "training"}));
  import->add_option("--signal", f->signal, "signal of protobuf input when it cannot be detected")
      ->check(CLI::IsMember({"traces", "metrics", "logs"}));
  import->add_option("--description", f->description, "human-readable description");
  import->add_flag("--json", f->json, "print the result as JSON");
  import->footer(R"(Formats (detected from the content; gzip or zstd compressed files too):
  OTLP JSON Lines (one TracesData/MetricsData/LogsData per line: the OpenTelemetry file exporter),
  a single OTLP/JSON document, the Collector file exporter's length-prefixed protobuf (plain or zstd),
  or one raw protobuf Export*ServiceRequest (--signal names its signal when it is ambiguous).
Each message becomes a record whose arrival time is its own earliest timestamp. All or nothing: when a
file is invalid, no session is created and the error names the file and line.

Examples:
  otelrr sessions import traces.jsonl metrics.jsonl --description "staging, Tuesday"
  otelrr sessions import collector-out.pb --session incident-42
  otelrr sessions import request.bin --signal logs)");
  bind(import, RunImport);

  CLI::App* exp = sessions->add_subcommand("export", "Write a session as OTLP JSON Lines in arrival order");
  exp->add_option("ID", f->id, "session id")->required();
  exp->add_option("--out", f->out, "output file (default: standard output)");
  exp->add_option("--signals", f->signals, "signals to export (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember({"traces", "metrics", "logs"}));
  exp->footer(R"(The output is what the Collector's otlpjsonfile receiver reads.

Examples:
  otelrr sessions export import-20261126-114544-a1b2c3 --out session.jsonl
  otelrr sessions export incident-42 --signals traces,logs | head)");
  bind(exp, RunExport);
}

}  // namespace otelrr::cli
