// Fuzzes redaction at capture (otlp/redact.h) on untrusted bytes: the first byte picks the signal; the rest
// is the request, redacted with a fixed set of rules of every kind.
//
// Oracle: a request Summarize accepts is redacted without error into a request Summarize accepts too, with
// the same spans, data points and log records; redacting that output again finds nothing left to drop or
// replace and no body left to mask (every match was removed the first time).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/oracle.h"
#include "otlp/redact.h"
#include "otlp/wire.h"

namespace {

std::unique_ptr<otelrr::otlp::Redactor> MakeRedactor() {
  std::vector<otelrr::otlp::RedactionRule> rules;
  for (const char* text : {"drop:*secret*", "hash:user.*", "replace:t?ken=[gone]", "body:[0-9]{3,}"}) {
    rules.push_back(*otelrr::otlp::ParseRedactionRule(text));
  }
  return *otelrr::otlp::Redactor::Create(std::move(rules), "a fixed key for the fuzzer's hashes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace otelrr::otlp;
  using otelrr::fuzz::OracleFailed;
  constexpr std::string_view kName = "fuzz_redact";
  static const std::unique_ptr<Redactor> redactor = MakeRedactor();
  if (size == 0) return 0;
  Signal signal = otelrr::fuzz::kSignals[data[0] % 3];
  std::string_view request(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::string out;
  absl::StatusOr<RedactionCounts> counts = redactor->Redact(signal, request, &out);
  if (!counts.ok() && !out.empty()) OracleFailed(kName, "a refused request left output behind");
  absl::StatusOr<RequestSummary> in = Summarize(signal, request);
  if (!in.ok()) return 0;  // redaction may copy malformed bytes it does not look into: capture validates after it
  if (!counts.ok()) OracleFailed(kName, "a valid request could not be redacted");
  absl::StatusOr<RequestSummary> redacted = Summarize(signal, out);
  if (!redacted.ok()) OracleFailed(kName, "the redacted copy of a valid request is not valid");
  if (redacted->spans != in->spans || redacted->data_points != in->data_points ||
      redacted->log_records != in->log_records) {
    OracleFailed(kName, "redaction changed the number of items");
  }
  std::string again;
  absl::StatusOr<RedactionCounts> second = redactor->Redact(signal, out, &again);
  if (!second.ok()) OracleFailed(kName, "the redacted copy could not be redacted again");
  if (second->attributes_dropped != 0 || second->bodies_masked != 0) {
    OracleFailed(kName, "a second redaction still found attributes to drop or bodies to mask");
  }
  return 0;
}
