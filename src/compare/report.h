// A comparison's report (comparator.h) for people and for CI: a terminal table with the first
// differences, JSON, and a self-contained HTML page (charts of source vs received per second and per
// phase, the differences) that opens offline.
//
//   Print(FormatReportText(report, {.a = "seed-1", .b = "capture-7"}));
//   JsonWriter w;  w.BeginObject();  WriteReportJsonFields(report, {}, &w);  w.EndObject();
//   WriteFile("report.html", FormatReportHtml(report, {.title = "validate seed-1"}));
#ifndef OTELRR_COMPARE_REPORT_H_
#define OTELRR_COMPARE_REPORT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json_writer.h"
#include "compare/comparator.h"

namespace otelrr::compare {

struct ReportContext {
  std::string title = "otelrr comparison";
  std::string a = "A";  // what A and B are ("source seed-1", "received capture-7")
  std::string b = "B";
  std::string a_role = "source";
  std::string b_role = "received";
  size_t max_differences = 10;  // printed in the text form
  // Lines of context shown above the comparison (the replay's delivery, the settings), label: value.
  std::vector<std::pair<std::string, std::string>> facts = {};
  std::string verdict = {};  // the one-line result, when the caller decides it (tolerance)
};

std::string FormatReportText(const CompareReport& report, const ReportContext& context);
// The report's members into an open JSON object: shift, signals{...}, total, differences[...], phases[...],
// buckets{startUnixNano, widthNanos, source[], received[], matched[]}.
void WriteReportJsonFields(const CompareReport& report, JsonWriter* w);
std::string FormatReportHtml(const CompareReport& report, const ReportContext& context);

}  // namespace otelrr::compare

#endif  // OTELRR_COMPARE_REPORT_H_
