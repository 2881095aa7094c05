// Training rows: one flat row per span, metric data point or log record, as JSON Lines or CSV.
//
//   RowFormatter rows(Format::kCsv);
//   std::string out;
//   rows.Header(otlp::Signal::kTraces, &out);         // CSV: the header line; JSON Lines: nothing
//   rows.Span(span, {.phase = "failure", .anomaly = "inventoryFailure"}, &out);
//
// The columns (docs/TRAINING.md describes each) are the same in both formats and in the same order:
// SpanColumnNames(), PointColumnNames(), LogColumnNames(). JSON Lines: one object per line with every
// column, null where a value is absent; integers and unix-nanosecond times as JSON numbers, the
// attributes column as a nested object. CSV (RFC 4180): a header line, then one line per row, fields
// separated by commas, a field quoted with " when it holds a comma, a quote, CR or LF (a quote inside
// doubled), an absent value as an empty field, the attributes column as JSON text, lines ended by LF.
// Text is written as valid UTF-8 in both formats: invalid bytes become U+FFFD.
#ifndef OTELRR_TRAINING_ROWS_H_
#define OTELRR_TRAINING_ROWS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/signal.h"
#include "training/items.h"

namespace otelrr::training {

enum class Format : uint8_t { kJsonl, kCsv };
absl::StatusOr<Format> ParseFormat(std::string_view name);  // "jsonl" | "csv"
std::string_view FormatName(Format format);                 // "jsonl", "csv": also the file extension

// The row file of a signal: "spans", "metrics", "logs".
std::string_view RowFileStem(otlp::Signal signal);

std::span<const std::string_view> SpanColumnNames();
std::span<const std::string_view> PointColumnNames();
std::span<const std::string_view> LogColumnNames();
std::span<const std::string_view> ColumnNames(otlp::Signal signal);

struct Labels {
  std::string_view phase = {};    // "" when unlabelled
  std::string_view anomaly = {};  // "normal", the phase's flags, or "unlabelled"
};

// Appends a CSV field (RFC 4180 quoting, valid UTF-8).
void AppendCsvField(std::string_view text, std::string* out);

// Thread-compatible.
class RowFormatter {
 public:
  explicit RowFormatter(Format format);

  void Header(otlp::Signal signal, std::string* out) const;
  void Span(const SpanView& span, const Labels& labels, std::string* out);
  void Point(const PointView& point, const Labels& labels, std::string* out);
  void Log(const LogView& log, const Labels& labels, std::string* out);

 private:
  // One row, cell by cell, in ColumnNames order (the names at the calls are for the reader: each cell
  // takes the next column's prepared separator and key).
  void Begin(otlp::Signal signal, std::string* out);
  void End();
  void Name(std::string_view name);
  void Text(std::string_view name, std::string_view value);
  void Hex(std::string_view name, std::string_view bytes);  // null when empty
  void Uint(std::string_view name, uint64_t value);
  void Int(std::string_view name, int64_t value);
  void Double(std::string_view name, double value);
  void Bool(std::string_view name, bool value);
  void Null(std::string_view name);
  // An AnyValue: a string as text, anything else as its JSON (JSON Lines: the JSON value); null when empty.
  void Any(std::string_view name, std::string_view any_value);
  // A JSON value built in scratch_ (JSON Lines: as it is; CSV: as a quoted text field).
  void Json(std::string_view name, std::string_view json);
  void Attributes(const std::vector<AttributeView>* attributes);

  Format format_;
  // Per signal, what goes before each cell: JSON Lines ,"name": (no comma for the first), CSV a comma.
  otlp::PerSignal<std::vector<std::string>> prefixes_ = {};
  const std::vector<std::string>* row_prefixes_ = nullptr;
  size_t column_ = 0;
  std::string* out_ = nullptr;
  std::string scratch_ = {};
};

}  // namespace otelrr::training

#endif  // OTELRR_TRAINING_ROWS_H_
