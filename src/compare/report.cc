#include "compare/report.h"

#include <algorithm>
#include <array>

#include "fmt/format.h"
#include "session/time_format.h"

namespace otelrr::compare {
namespace {

constexpr std::array<otlp::Signal, 3> kSignals = {otlp::Signal::kTraces, otlp::Signal::kMetrics, otlp::Signal::kLogs};

std::string TimeOf(uint64_t t) { return t == 0 ? "-" : session::FormatRfc3339Millis(t); }

std::string ShiftText(const CompareReport& r) {
  switch (r.time) {
    case TimeCheck::kExact: return "timestamps compared exactly";
    case TimeCheck::kIgnore: return "absolute timestamps not compared (durations and offsets within items are)";
    case TimeCheck::kShift:
      if (!r.shift_found) return "timestamps: no common item to infer a shift from";
      return fmt::format("timestamps shifted by {:+.9f} s ({})", static_cast<double>(r.shift_nanos) / 1e9,
                         r.shift_inferred ? "inferred" : "given");
  }
  return "";
}

std::string Verdict(const CompareReport& r, const ReportContext& c) {
  if (!c.verdict.empty()) return c.verdict;
  const SignalCounts t = r.total();
  if (t.differing() == 0) return fmt::format("identical: {} items match", t.matched);
  return fmt::format("{} differences: {} missing, {} extra, {} duplicated, {} altered", t.differing(), t.missing, t.extra,
                     t.duplicated, t.altered);
}

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

void CountsJson(const SignalCounts& c, JsonWriter* w) {
  w->BeginObject();
  w->Field("source", c.a);
  w->Field("received", c.b);
  w->Field("matched", c.matched);
  w->Field("altered", c.altered);
  w->Field("missing", c.missing);
  w->Field("extra", c.extra);
  w->Field("duplicated", c.duplicated);
  w->EndObject();
}

}  // namespace

std::string FormatReportText(const CompareReport& r, const ReportContext& c) {
  std::string out;
  for (const auto& [label, value] : c.facts) out += fmt::format("{}: {}\n", label, value);
  out += fmt::format("{}: {}\n{}: {}\n{}\n", c.a_role, c.a, c.b_role, c.b, ShiftText(r));
  out += fmt::format("{:<8} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>10}\n", "signal", c.a_role, c.b_role, "matched",
                     "altered", "missing", "extra", "duplicated");
  auto row = [&](std::string_view name, const SignalCounts& s) {
    out += fmt::format("{:<8} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>10}\n", name, s.a, s.b, s.matched, s.altered,
                       s.missing, s.extra, s.duplicated);
  };
  for (otlp::Signal s : kSignals) {
    if (r.signals[s].a + r.signals[s].b > 0) row(otlp::SignalName(s), r.signals[s]);
  }
  row("total", r.total());
  if (!r.phases.empty()) {
    out += "phases:\n";
    for (const PhaseCounts& p : r.phases) {
      out += fmt::format("  {:<24} {:>10} items, {:>10} matched, {:>8} altered\n", p.name, p.a, p.matched, p.altered);
    }
  }
  size_t shown = 0;
  for (const Difference& d : r.differences) {
    if (shown == c.max_differences) {
      out += fmt::format("  ... ({} more listed with --json)\n", r.differences.size() - shown);
      break;
    }
    if (shown++ == 0) out += "first differences:\n";
    out += fmt::format("  {:<10} {:<7} {} at {}\n", DifferenceKindName(d.kind), otlp::SignalName(d.signal), d.item,
                       TimeOf(d.time_unix_nano));
    for (const FieldChange& ch : d.changes) out += fmt::format("      {}: {} -> {}\n", ch.path, ch.a, ch.b);
  }
  out += Verdict(r, c) + "\n";
  return out;
}

void WriteReportJsonFields(const CompareReport& r, JsonWriter* w) {
  w->Key("time");
  w->BeginObject();
  w->Field("check", TimeCheckName(r.time));
  w->Field("shiftNanos", r.shift_nanos);
  w->Field("shiftInferred", r.shift_inferred);
  w->Field("shiftFound", r.shift_found);
  w->EndObject();
  w->Field("identical", r.identical());
  w->Key("signals");
  w->BeginObject();
  for (otlp::Signal s : kSignals) {
    w->Key(otlp::SignalName(s));
    CountsJson(r.signals[s], w);
  }
  w->EndObject();
  w->Key("total");
  CountsJson(r.total(), w);
  w->Key("differences");
  w->BeginArray();
  for (const Difference& d : r.differences) {
    w->BeginObject();
    w->Field("kind", DifferenceKindName(d.kind));
    w->Field("signal", otlp::SignalName(d.signal));
    w->Field("item", d.item);
    w->Field("timeUnixNano", fmt::format("{}", d.time_unix_nano));
    if (d.details_dropped) w->Field("detailsDropped", true);
    w->Key("changes");
    w->BeginArray();
    for (const FieldChange& ch : d.changes) {
      w->BeginObject();
      w->Field("path", ch.path);
      w->Field("source", ch.a);
      w->Field("received", ch.b);
      w->EndObject();
    }
    w->EndArray();
    w->EndObject();
  }
  w->EndArray();
  w->Key("phases");
  w->BeginArray();
  for (const PhaseCounts& p : r.phases) {
    w->BeginObject();
    w->Field("name", p.name);
    w->Field("startUnixNano", fmt::format("{}", p.start_unix_nano));
    w->Field("endUnixNano", fmt::format("{}", p.end_unix_nano));
    w->Field("source", p.a);
    w->Field("matched", p.matched);
    w->Field("altered", p.altered);
    w->EndObject();
  }
  w->EndArray();
  w->Key("buckets");
  w->BeginObject();
  w->Field("startUnixNano", fmt::format("{}", r.buckets_start_unix_nano));
  w->Field("widthNanos", fmt::format("{}", r.bucket_nanos));
  for (int which = 0; which < 3; ++which) {
    w->Key(which == 0 ? "source" : which == 1 ? "received" : "matched");
    w->BeginArray();
    for (const Bucket& b : r.buckets) w->Uint(which == 0 ? b.a : which == 1 ? b.b : b.matched);
    w->EndArray();
  }
  w->EndObject();
  w->Field("peakUnmatched", static_cast<uint64_t>(r.peak_unmatched));
}

namespace {

// A line chart of source, received and matched items per bucket, as inline SVG.
std::string Chart(const CompareReport& r) {
  if (r.buckets.empty()) return "<p>No timed items.</p>";
  constexpr double kWidth = 960, kHeight = 240, kLeft = 56, kBottom = 28, kTop = 10;
  uint64_t top = 1;
  for (const Bucket& b : r.buckets) top = std::max({top, b.a, b.b, b.matched});
  const size_t n = r.buckets.size();
  const double plot = kWidth - kLeft - 10;
  // Bucket i covers [i, i + 1) of the axis; its count is drawn at its middle.
  auto x = [&](size_t i) { return kLeft + (static_cast<double>(i) + 0.5) / static_cast<double>(n) * plot; };
  auto x_of_time = [&](uint64_t t) {
    const double span = static_cast<double>(r.bucket_nanos) * static_cast<double>(n);
    const double at = t <= r.buckets_start_unix_nano ? 0 : static_cast<double>(t - r.buckets_start_unix_nano) / span;
    return kLeft + std::min(at, 1.0) * plot;
  };
  auto y = [&](uint64_t v) { return kTop + (1 - static_cast<double>(v) / static_cast<double>(top)) * (kHeight - kTop - kBottom); };
  std::string svg = fmt::format(
      "<svg viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" aria-label=\"items per {} s\">"
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>"
      "<text x=\"4\" y=\"{}\" class=\"label\">{}</text><text x=\"4\" y=\"{}\" class=\"label\">0</text>"
      "<text x=\"{}\" y=\"{}\" class=\"label\">{}</text><text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"end\">+{} s</text>",
      kWidth, kHeight, r.bucket_nanos / 1'000'000'000, kLeft, kHeight - kBottom, kWidth - 10, kHeight - kBottom,
      kTop + 10, top, kHeight - kBottom, kLeft, kHeight - 8, TimeOf(r.buckets_start_unix_nano), kWidth - 10, kHeight - 8,
      n * (r.bucket_nanos / 1'000'000'000));
  // The phases as bands behind the lines, each named at its top.
  for (size_t i = 0; i < r.phases.size(); ++i) {
    const PhaseCounts& p = r.phases[i];
    const double x0 = x_of_time(p.start_unix_nano), x1 = x_of_time(p.end_unix_nano);
    if (x1 <= x0) continue;
    svg += fmt::format("<rect class=\"band{}\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\"/>"
                       "<text x=\"{:.1f}\" y=\"{}\" class=\"label\">{}</text>",
                       i % 2, x0, kTop, x1 - x0, kHeight - kTop - kBottom, x0 + 3, kTop + 10, Escape(p.name));
  }
  for (int which = 0; which < 3; ++which) {
    std::string points;
    for (size_t i = 0; i < n; ++i) {
      const Bucket& b = r.buckets[i];
      points += fmt::format("{:.1f},{:.1f} ", x(i), y(which == 0 ? b.a : which == 1 ? b.b : b.matched));
    }
    svg += fmt::format("<polyline class=\"s{}\" points=\"{}\"/>", which, points);
  }
  return svg + "</svg>";
}

}  // namespace

std::string FormatReportHtml(const CompareReport& r, const ReportContext& c) {
  std::string h;
  h += "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Escape(c.title) + "</title><style>";
  h += "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#1d232a}"
       "table{border-collapse:collapse;margin:.5em 0}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}"
       "td:first-child,th:first-child{text-align:left}.ok{color:#18794e}.bad{color:#c62828}"
       "svg .axis{stroke:#999}svg .label{font-size:11px;fill:#555}svg polyline{fill:none;stroke-width:1.5}"
       "svg .band0{fill:#eef3fb}svg .band1{fill:#f7f1e6}table.facts td{text-align:left}"
       "svg .s0{stroke:#1f6feb}svg .s1{stroke:#f59e0b;stroke-dasharray:4 3}svg .s2{stroke:#18794e}"
       ".key span{display:inline-block;margin-right:1.5em}.key i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:4px}"
       "code{font-size:12px}.diff{margin:.6em 0;padding:.4em .6em;background:#f6f8fa;border-radius:4px}";
  h += "</style></head><body>";
  const bool ok = c.verdict.empty() ? r.identical() : c.verdict.rfind("PASS", 0) == 0;
  h += "<h1>" + Escape(c.title) + "</h1>";
  h += fmt::format("<p class=\"{}\"><strong>{}</strong></p>", ok ? "ok" : "bad", Escape(Verdict(r, c)));
  h += "<table class=\"facts\">";
  h += fmt::format("<tr><td>{}</td><td>{}</td></tr><tr><td>{}</td><td>{}</td></tr>", Escape(c.a_role), Escape(c.a),
                   Escape(c.b_role), Escape(c.b));
  for (const auto& [label, value] : c.facts) h += fmt::format("<tr><td>{}</td><td>{}</td></tr>", Escape(label), Escape(value));
  h += fmt::format("<tr><td>time</td><td>{}</td></tr></table>", Escape(ShiftText(r)));

  h += "<h2>Items</h2><table><tr><th>signal</th><th>" + Escape(c.a_role) + "</th><th>" + Escape(c.b_role) +
       "</th><th>matched</th><th>altered</th><th>missing</th><th>extra</th><th>duplicated</th></tr>";
  auto row = [&](std::string_view name, const SignalCounts& s) {
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", name,
                     s.a, s.b, s.matched, s.altered, s.missing, s.extra, s.duplicated);
  };
  for (otlp::Signal s : kSignals) row(otlp::SignalName(s), r.signals[s]);
  row("total", r.total());
  h += "</table>";

  h += fmt::format("<h2>Items per {} s of the source's time</h2>", r.bucket_nanos / 1'000'000'000);
  h += "<p class=\"key\"><span><i style=\"background:#1f6feb\"></i>" + Escape(c.a_role) +
       "</span><span><i style=\"background:#f59e0b\"></i>" + Escape(c.b_role) +
       "</span><span><i style=\"background:#18794e\"></i>matched</span></p>";
  h += Chart(r);

  if (!r.phases.empty()) {
    h += "<h2>Per phase</h2><table><tr><th>phase</th><th>from</th><th>to</th><th>" + Escape(c.a_role) +
         "</th><th>matched</th><th>altered</th><th>not received</th></tr>";
    for (const PhaseCounts& p : r.phases) {
      h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", Escape(p.name),
                       TimeOf(p.start_unix_nano), TimeOf(p.end_unix_nano), p.a, p.matched, p.altered,
                       p.a - std::min(p.a, p.matched + p.altered));
    }
    h += "</table>";
  }

  h += "<h2>Differences</h2>";
  if (r.differences.empty()) h += "<p>None.</p>";
  for (const Difference& d : r.differences) {
    h += fmt::format("<div class=\"diff\"><strong>{}</strong> {} {} <small>at {}</small>", DifferenceKindName(d.kind),
                     otlp::SignalName(d.signal), Escape(d.item), TimeOf(d.time_unix_nano));
    if (!d.changes.empty()) {
      h += "<table><tr><th>field</th><th>" + Escape(c.a_role) + "</th><th>" + Escape(c.b_role) + "</th></tr>";
      for (const FieldChange& ch : d.changes) {
        h += fmt::format("<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>", Escape(ch.path),
                         Escape(ch.a), Escape(ch.b));
      }
      h += "</table>";
    }
    h += "</div>";
  }
  h += "<p><small>otelrr: the first differences of each kind are listed; counts are exact.</small></p></body></html>\n";
  return h;
}

}  // namespace otelrr::compare
