// otelrr sessions diff A B: what differs between two sessions, item by item (src/compare/).
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/io.h"
#include "cli/otlp_target.h"
#include "common/json_writer.h"
#include "compare/compare_sessions.h"
#include "compare/report.h"
#include "fmt/format.h"
#include "session/retention.h"
#include "session/session_store.h"

namespace otelrr::cli {
namespace {

struct DiffFlags {
  std::string a;
  std::string b;
  std::string shift = "auto";
  std::vector<std::string> signals;
  size_t max_differences = 10;
  std::string report;
  bool json = false;
};

absl::Status ParseShift(std::string_view text, compare::CompareOptions* options) {
  if (text == "auto") {
    options->time = compare::TimeCheck::kShift;
    return absl::OkStatus();
  }
  if (text == "none" || text == "0") {
    options->time = compare::TimeCheck::kExact;
    return absl::OkStatus();
  }
  if (text == "ignore") {
    options->time = compare::TimeCheck::kIgnore;
    return absl::OkStatus();
  }
  bool negative = !text.empty() && text[0] == '-';
  std::string_view magnitude = !text.empty() && (text[0] == '-' || text[0] == '+') ? text.substr(1) : text;
  absl::StatusOr<std::chrono::nanoseconds> d = session::ParseDuration(magnitude);
  if (!d.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("--shift '{}' is not auto, none, ignore or a signed duration such as +1h, -90s, 1500ms", text));
  }
  options->time = compare::TimeCheck::kShift;
  options->shift_nanos = negative ? -d->count() : d->count();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<otlp::Signal>> ParseSignalList(const std::vector<std::string>& names, std::string_view flag) {
  std::vector<otlp::Signal> out;
  for (const std::string& name : names) {
    otlp::Signal s;
    if (!otlp::ParseSignal(name, &s)) {
      return absl::InvalidArgumentError(fmt::format("{}: '{}' is not traces, metrics or logs", flag, name));
    }
    out.push_back(s);
  }
  return out;
}

// As diff(1): 1 says the sessions differ, so a failure to compare them at all is 2 (with its message).
template <typename Why>
int Trouble(const Why& why) {
  (void)Fail(why);
  return kExitUsage;
}

int RunDiff(const StoreFlag& store_flag, const DiffFlags& f) {
  compare::SessionCompareOptions options;
  if (absl::Status s = ParseShift(f.shift, &options.compare); !s.ok()) return UsageError(s);
  absl::StatusOr<std::vector<otlp::Signal>> signals = ParseSignalList(f.signals, "--signals");
  if (!signals.ok()) return UsageError(signals.status());
  options.signals = *signals;
  options.compare.max_differences = std::max<size_t>(f.max_differences, 1);
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kRead);
  if (!store.ok()) return Trouble(store.status());
  session::SessionStore sessions(**store);
  for (const std::string& id : {f.a, f.b}) {
    absl::StatusOr<session::SessionMetadata> m = sessions.Load(id);
    if (!m.ok() && m.status().code() == absl::StatusCode::kNotFound) {
      return Trouble(fmt::format("{} (store: {})", std::string(m.status().message()), store_flag.Resolved()));
    }
  }
  absl::StatusOr<compare::CompareReport> r = compare::CompareSessions(sessions, f.a, f.b, options);
  if (!r.ok()) return Trouble(r.status());
  compare::ReportContext context{.title = fmt::format("otelrr sessions diff {} {}", f.a, f.b),
                                 .a = f.a,
                                 .b = f.b,
                                 .a_role = "A",
                                 .b_role = "B",
                                 .max_differences = f.max_differences};
  if (!f.report.empty()) {
    if (absl::Status s = WriteOutput(f.report, compare::FormatReportHtml(*r, context)); !s.ok()) return Trouble(s);
  }
  if (f.json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Field("a", f.a);
    w.Field("b", f.b);
    compare::WriteReportJsonFields(*r, &w);
    w.EndObject();
    Print(w.str());
    Print("\n");
  } else {
    Print(compare::FormatReportText(*r, context));
  }
  return r->identical() ? 0 : kExitFailed;
}

}  // namespace

void AddSessionsDiffCommand(CLI::App* sessions, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<DiffFlags>();
  CLI::App* cmd = sessions->add_subcommand("diff", "What differs between two sessions, item by item");
  cmd->add_option("A", f->a, "the first session (the source)")->required();
  cmd->add_option("B", f->b, "the second session")->required();
  cmd->add_option("--shift", f->shift,
                  "how B's timestamps relate to A's: auto (one constant shift, found from the items; the default), "
                  "none (equal), ignore (not compared), or a signed duration (+1h, -90s)");
  cmd->add_option("--signals", f->signals, "compare only these signals (default: all)")->delimiter(',');
  cmd->add_option("--max-differences", f->max_differences, "differences listed per kind (default: 10)");
  cmd->add_option("--report", f->report, "also write a self-contained HTML report to this file");
  cmd->add_flag("--json", f->json, "print the comparison as one JSON object");
  AddStoreOption(cmd, store);
  cmd->footer(R"(Items are matched by identity: spans by trace and span id, data points and log records by their
whole content and time. Each is "missing" (in A only), "extra" (in B only), "duplicated" (in B more often
than in A) or "altered" (in both, changed: the fields that differ are listed). Attribute order and the
encoding do not matter. Exits 0 when the sessions hold the same items, 1 when they differ, and 2 when they
cannot be compared (a bad flag, a session that is missing or damaged), as diff(1) does.

Examples:
  otelrr sessions diff seed-20261126-114544-a1b2c3 capture-20261126-120001-d4e5f6
  otelrr sessions diff A B --shift none --json
  otelrr sessions diff A B --report diff.html)");
  cmd->callback([handler, store, f] { *handler = [store, f] { return RunDiff(*store, *f); }; });
}

}  // namespace otelrr::cli
