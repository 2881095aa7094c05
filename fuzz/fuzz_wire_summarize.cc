// Fuzzes the protobuf wire walker: Summarize (with and without trace ids), Validate, Locate and ForEachTraceId
// on untrusted bytes.
// The first byte picks the signal; the rest is the request.
//
// Oracle: the four entry points agree on whether the request is well formed, and when it is, every
// located offset lies inside the request with room for its 8 or 16 bytes, and the summary is coherent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/oracle.h"
#include "otlp/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace otelrr::otlp;
  using otelrr::fuzz::OracleFailed;
  constexpr std::string_view kName = "fuzz_wire_summarize";
  if (size == 0) return 0;
  Signal signal = otelrr::fuzz::kSignals[data[0] % 3];
  std::string_view request(reinterpret_cast<const char*>(data) + 1, size - 1);

  absl::StatusOr<RequestSummary> summary = Summarize(signal, request);
  absl::Status valid = Validate(signal, request);
  FieldLocations loc;
  absl::Status located = Locate(signal, request, &loc);
  size_t trace_ids = 0;
  std::string visited;
  absl::Status walked = ForEachTraceId(signal, request, [&](const uint8_t* id) {
    if (id < data + 1 || id + 16 > data + size) OracleFailed(kName, "a trace id outside the request");
    ++trace_ids;
    visited.append(reinterpret_cast<const char*>(id), 16);
  });
  // The fused walk (capture's): the same verdict, and on success the same ids in the same order.
  std::string fused;
  absl::StatusOr<RequestSummary> with_ids = Summarize(signal, request, &fused);
  if (with_ids.ok() != summary.ok()) OracleFailed(kName, "Summarize with trace ids disagrees on validity");
  if (with_ids.ok() ? fused != visited : !fused.empty()) {
    OracleFailed(kName, "Summarize's trace ids differ from ForEachTraceId's (or were kept after a refusal)");
  }
  // The trusted walks (stored records) find the same ids and count the same items in a valid request.
  if (summary.ok()) {
    absl::StatusOr<uint64_t> items = CountStoredItems(signal, request);
    if (!items.ok() || *items != summary->items()) {
      OracleFailed(kName, "CountStoredItems differs from Summarize on a valid request");
    }
    std::string trusted;
    absl::Status t = ForEachTraceId(
        signal, request, [&](const uint8_t* id) { trusted.append(reinterpret_cast<const char*>(id), 16); },
        LocateMode::kTrusted);
    if (!t.ok() || trusted != visited) OracleFailed(kName, "the trusted trace-id walk differs on a valid request");
  }

  if (summary.ok() != valid.ok() || summary.ok() != located.ok() || summary.ok() != walked.ok()) {
    OracleFailed(kName, "Summarize, Validate, Locate and ForEachTraceId disagree on validity");
  }
  if (!summary.ok()) {
    if (summary.status().message().empty()) OracleFailed(kName, "an error without a message");
    return 0;
  }
  auto in_range = [&](uint32_t offset, size_t width) {
    return offset <= request.size() && width <= request.size() - offset;
  };
  for (uint32_t o : loc.timestamps) {
    if (!in_range(o, 8)) OracleFailed(kName, "timestamp offset out of range");
  }
  for (uint32_t o : loc.trace_ids) {
    if (!in_range(o, 16)) OracleFailed(kName, "trace id offset out of range");
  }
  for (uint32_t o : loc.span_ids) {
    if (!in_range(o, 8)) OracleFailed(kName, "span id offset out of range");
  }
  if (trace_ids > loc.trace_ids.size()) OracleFailed(kName, "more trace ids visited than located");
  if (summary->min_time_unix_nano > summary->max_time_unix_nano) OracleFailed(kName, "min time after max time");
  if ((summary->min_time_unix_nano == 0) != (summary->max_time_unix_nano == 0)) {
    OracleFailed(kName, "only one of min and max time set");
  }
  return 0;
}
