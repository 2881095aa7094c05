// otelrr training show | export: a session as labelled training data (src/training/).
//
//   otelrr training show seed-1                       phases, times, labels, items per phase and signal
//   otelrr training export seed-1 --out ds --format csv --phases failure
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "annotate/annotation_service.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "cli/otlp_target.h"
#include "cli/stop_signals.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "session/session_id.h"
#include "session/time_format.h"
#include "training/dataset.h"
#include "training/export.h"

namespace otelrr::cli {
namespace {

using training::DatasetPhase;
using training::TrainingDataset;

struct TrainingFlags {
  std::string session_id;
  bool json = false;
  std::string out;
  std::vector<std::string> phases;
  std::vector<std::string> signals;
  std::string format = "jsonl";
};

int FailAbout(const absl::Status& s, const StoreFlag& store_flag) {
  if (s.code() == absl::StatusCode::kNotFound) return Fail(fmt::format("{} (store: {})", s.message(), store_flag.Resolved()));
  return Fail(s);
}

std::string When(uint64_t t) { return t == training::kOpenEnd ? std::string("-") : session::FormatRfc3339(t); }

std::string Counts(const otlp::PerSignal<uint64_t>& items) {
  return fmt::format("{}/{}/{}", items[otlp::Signal::kTraces], items[otlp::Signal::kMetrics],
                     items[otlp::Signal::kLogs]);
}

// The table of `training show`.
std::string Table(const TrainingDataset& d) {
  std::string out = fmt::format(
      "session {} ({}), {} .. {}; phases from {}\n", d.session_id, session::SessionTypeName(d.session_type),
      session::FormatRfc3339(d.start_time_unix_nano), d.end_time_unix_nano ? When(*d.end_time_unix_nano) : "(active)",
      d.annotations_from == "clickhouse" ? "ClickHouse's annotations" : "the session's annotations");
  if (d.phases.empty()) {
    out += "no phases: every item is unlabelled (label stretches with `otelrr annotate SESSION --key test.phase.NAME "
           "--from ... --to ...`)\n";
  }
  size_t name_w = std::string_view("(unlabelled)").size(), anomaly_w = std::string_view("ANOMALY").size();
  size_t time_w = std::string_view("START (UTC)").size();
  for (const DatasetPhase& p : d.phases) {
    name_w = std::max(name_w, p.name.size());
    anomaly_w = std::max(anomaly_w, p.anomaly.size());
    time_w = std::max({time_w, When(p.start_unix_nano).size(), When(p.end_unix_nano).size()});
  }
  auto row = [&](std::string_view name, std::string_view start, std::string_view end, std::string_view anomaly,
                 std::string_view spans, std::string_view points, std::string_view logs, std::string_view files) {
    out += fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {:>10}  {:>10}  {:>10}  {:>5}\n", name, name_w, start, time_w,
                       end, time_w, anomaly, anomaly_w, spans, points, logs, files);
  };
  row("PHASE", "START (UTC)", "END (UTC)", "ANOMALY", "SPANS", "POINTS", "LOGS", "FILES");
  using otlp::Signal;
  auto n = [](uint64_t v) { return fmt::format_int(v).str(); };
  for (const DatasetPhase& p : d.phases) {
    row(p.name, When(p.start_unix_nano), When(p.end_unix_nano), p.anomaly, n(p.items[Signal::kTraces]),
        n(p.items[Signal::kMetrics]), n(p.items[Signal::kLogs]), n(p.files.size()));
  }
  row("(unlabelled)", "", "", training::kUnlabelled, n(d.unlabelled[Signal::kTraces]), n(d.unlabelled[Signal::kMetrics]),
      n(d.unlabelled[Signal::kLogs]), "");
  row("total", "", "", "", n(d.items[Signal::kTraces]), n(d.items[Signal::kMetrics]), n(d.items[Signal::kLogs]), "");
  if (!d.anomaly_types.empty()) {
    std::vector<std::string> types;
    for (const training::AnomalyType& t : d.anomaly_types) {
      types.push_back(fmt::format("{} ({})", t.name, fmt::join(t.phases, ", ")));
    }
    out += fmt::format("anomaly types: {}\n", fmt::join(types, ", "));
  }
  out += "items are counted in the phase of their own time (span start, point time, log time), phases as [start, end)\n";
  return out;
}

// Opens the store, the optional ClickHouse sink and the annotation service, then runs `fn`.
template <typename Fn>
int WithTraining(const StoreFlag& store_flag, const ClickHouseFlag& clickhouse, Fn&& fn) {
  absl::StatusOr<std::unique_ptr<annotate::ClickHouseSink>> sink = clickhouse.Open();
  if (!sink.ok()) return UsageError(sink.status());
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kRead, "training");
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  annotate::AnnotationService annotations(sessions, sink->get());
  return fn(sessions, annotations);
}

int RunShow(const StoreFlag& store_flag, const ClickHouseFlag& clickhouse, const TrainingFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.session_id); !s.ok()) return UsageError(s);
  StopSignals stop;
  return WithTraining(store_flag, clickhouse, [&](session::SessionStore& sessions, annotate::AnnotationService& a) {
    absl::StatusOr<TrainingDataset> d = training::BuildDataset(sessions, a, f.session_id, &stop.cancellation());
    if (!d.ok()) {
      if (stop.signal() != 0) {
        std::fprintf(stderr, "otelrr training show: stopped by a signal\n");
        return kExitInterrupted;
      }
      return FailAbout(d.status(), store_flag);
    }
    if (f.json) {
      JsonWriter w(true);
      training::WriteJson(*d, &w);
      Print(w.str());
      Print("\n");
    } else {
      Print(Table(*d));
    }
    return 0;
  });
}

int RunExport(const StoreFlag& store_flag, const ClickHouseFlag& clickhouse, const TrainingFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.session_id); !s.ok()) return UsageError(s);
  training::ExportOptions options{.dir = f.out, .phases = f.phases};
  absl::StatusOr<training::Format> format = training::ParseFormat(f.format);
  if (!format.ok()) return UsageError(Prefixed(format.status(), "--format"));
  options.format = *format;
  for (const std::string& name : f.signals) {
    otlp::Signal s;
    if (!otlp::ParseSignal(name, &s)) return UsageError(fmt::format("--signals: '{}' is not traces, metrics or logs", name));
    if (std::find(options.signals.begin(), options.signals.end(), s) == options.signals.end()) options.signals.push_back(s);
  }
  StopSignals stop;
  options.cancel = &stop.cancellation();
  return WithTraining(store_flag, clickhouse, [&](session::SessionStore& sessions, annotate::AnnotationService& a) {
    absl::StatusOr<TrainingDataset> d = training::DescribeSession(sessions, a, f.session_id);
    if (!d.ok()) return FailAbout(d.status(), store_flag);
    if (absl::Status s = training::ValidatePhaseNames(*d, options.phases); !s.ok()) {
      return UsageError(Prefixed(s, "--phases"));
    }
    if (absl::Status s = training::ValidateExportOptions(*d, options); !s.ok()) return UsageError(Prefixed(s, "--out"));
    absl::StatusOr<training::ExportReport> r = training::ExportDataset(sessions, *std::move(d), options);
    if (!r.ok()) {
      if (stop.signal() != 0 || r.status().code() == absl::StatusCode::kCancelled) {
        std::fprintf(stderr, "otelrr training export: stopped by a signal; nothing was written to %s\n", f.out.c_str());
        return kExitInterrupted;
      }
      return FailAbout(r.status(), store_flag);
    }
    std::vector<std::string> files, phases;
    for (const training::ExportedFile& file : r->files) {
      files.push_back(fmt::format("{} {} rows", file.path.substr(file.path.find_last_of('/') + 1), file.rows));
    }
    for (const DatasetPhase& p : r->dataset.phases) {
      if (f.phases.empty() || std::find(f.phases.begin(), f.phases.end(), p.name) != f.phases.end()) {
        phases.push_back(fmt::format("{} {}", p.name, Counts(p.items)));
      }
    }
    if (f.phases.empty()) phases.push_back(fmt::format("unlabelled {}", Counts(r->dataset.unlabelled)));
    Print(fmt::format("exported session {} to {} ({}): {}; rows per phase (spans/points/logs): {}\n", f.session_id,
                      f.out, training::FormatName(options.format), fmt::join(files, ", "), fmt::join(phases, ", ")));
    return 0;
  });
}

}  // namespace

void AddTrainingCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<TrainingFlags>();
  auto clickhouse = std::make_shared<ClickHouseFlag>();
  CLI::App* training = app.add_subcommand("training", "A session as labelled training data: its phases and flat rows");
  training->require_subcommand(1);

  CLI::App* show = training->add_subcommand("show", "The phases of a session, their labels and items per signal");
  show->add_option("session", f->session_id, "the session")->required();
  show->add_flag("--json", f->json, "the TrainingDataset as JSON (what dataset.json holds)");
  clickhouse->AddTo(show);
  AddStoreOption(show, store);
  show->footer(R"(Phases are the session's test.phase.NAME annotations (ClickHouse's when --clickhouse or
CLICKHOUSE_URL is given, else those kept with the session) and its metadata's phases. Every span, data point
and log record is counted in the phase of its own time (span start, point time, log time), a phase being
[start, end). The anomaly label of a phase is its flags, or "normal"; items outside every phase are
"unlabelled". The whole session is read once to count. docs/TRAINING.md says more.

Examples:
  otelrr training show seed-20260101-000000-a1b2c3
  otelrr training show capture-1 --json --clickhouse http://localhost:8123)");
  show->callback([=] { *handler = [=] { return RunShow(*store, *clickhouse, *f); }; });

  CLI::App* exp = training->add_subcommand("export", "Flat rows (one per span, data point, log record) with their labels");
  exp->add_option("session", f->session_id, "the session")->required();
  exp->add_option("--out", f->out, "the directory to write into (created when missing)")->required();
  exp->add_option("--phases", f->phases, "only the items of these phases (default: every item, unlabelled too)")
      ->delimiter(',');
  exp->add_option("--signals", f->signals, "signals to export (default: all)")->delimiter(',');
  exp->add_option("--format", f->format, "jsonl (JSON Lines) or csv (default: jsonl)");
  clickhouse->AddTo(exp);
  AddStoreOption(exp, store);
  exp->footer(R"(Writes DIR/spans.FORMAT, DIR/metrics.FORMAT, DIR/logs.FORMAT (one row per item, with its phase and
anomaly labels) and DIR/dataset.json (the phases and their counts). Each file is written under a temp name
and renamed when the export is complete: a failed or stopped export (Ctrl-C: exit 130) leaves no file.
The columns are in docs/TRAINING.md; pandas reads them with read_csv or read_json(lines=True).

Examples:
  otelrr training export seed-1 --out dataset --format csv
  otelrr training export seed-1 --out failure --phases failure --signals traces)");
  exp->callback([=] { *handler = [=] { return RunExport(*store, *clickhouse, *f); }; });
}

}  // namespace otelrr::cli
