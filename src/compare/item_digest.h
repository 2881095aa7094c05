// What identifies and describes each item (span, data point, log record) of an OTLP request, for
// comparing two streams of requests item by item (compare/comparator.h).
//
//   ItemDigester digester;
//   absl::Status s = digester.Digest(Signal::kTraces, record.payload, [&](const ItemDigest& d) {
//     index.Add(d.id, d.content, d.time);
//   });
//
// Hashes are of meaning, not of bytes: two encodings of one item (fields in another order, attributes
// reordered, a default value written or left out, an empty message or none) hash the same, so an item
// that went through the Collector (which decodes and encodes again) still matches its source. Every
// timestamp is hashed relative to the item's own time (training's rule: a span's start, a point's
// time, a log record's time or else its observed time), so an item moved in time keeps its content
// hash; the comparator checks the move itself. Fields this schema does not know are hashed as their
// bytes. Hashes are 64-bit and seeded per process: compare within one process only.
//
// Describe() turns an item back into named fields (paths like `attributes[http.route]`,
// `events[0].name`, `resource.attributes[service.name]`) for the differences a report lists.
//
// Thread-compatible.
#ifndef OTELRR_COMPARE_ITEM_DIGEST_H_
#define OTELRR_COMPARE_ITEM_DIGEST_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "otlp/signal.h"

namespace otelrr::compare {

struct ItemDigest {
  otlp::Signal signal = otlp::Signal::kTraces;
  uint64_t time = 0;     // the item's own time, unix ns (0 when it has none)
  uint64_t id = 0;       // spans: (trace id, span id); 0 for a span with neither, and for other items
  uint64_t content = 0;  // everything: resource, scope, metric, the item; timestamps relative to `time`
  // What a changed item still shares with its source (reports pair a lost item with a new one by it
  // and by time): points, the metric's name and the point's attributes; log records, their trace id,
  // span id and severity; spans, their id.
  uint64_t series = 0;
  // The item and its context, views into the request (valid during the callback).
  std::string_view resource = {};  // a Resource message (empty when the request has none)
  std::string_view scope = {};     // an InstrumentationScope message
  std::string_view metric = {};    // points: their Metric message (which holds every point of it)
  std::string_view item = {};      // a Span, a data point or a LogRecord message
  uint8_t point_kind = 0;          // points: the Metric field of their data (5 gauge, 7 sum, 9, 10, 11)
};

class ItemDigester {
 public:
  // Calls `fn` for each item of the request, in order. DataLoss when the bytes are not a request.
  absl::Status Digest(otlp::Signal signal, std::string_view request, const std::function<void(const ItemDigest&)>& fn);
};

// One field of an item, by path, as text.
struct FieldText {
  std::string path;
  std::string value;
};

// The item's fields (its own, then its metric's, scope's and resource's), sorted by path. Timestamps are
// written relative to the item's own time ("+1500000ns"), ids in hex, attribute values as JSON.
std::vector<FieldText> Describe(const ItemDigest& item);

// A Metric message without its data points (name, description, unit, metadata, the data's temporality
// and monotonicity): what a point needs of its metric once the request is gone.
std::string MetricHeader(std::string_view metric);

// A short name for the item in a report: `span "GET /cart" (service cart) trace 4bf9…/00f0…`,
// `point of http.server.duration (service cart)`, `log record "payment failed" (service pay)`.
std::string ItemLabel(const ItemDigest& item);

}  // namespace otelrr::compare

#endif  // OTELRR_COMPARE_ITEM_DIGEST_H_
