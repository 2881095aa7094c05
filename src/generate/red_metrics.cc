#include "generate/red_metrics.h"

#include <cstring>

#include "otlp/proto_writer.h"

namespace otelrr::generate {
namespace {

using otlp::AppendFixed64;
using otlp::AppendTag;
using otlp::AppendVarint;
using otlp::BeginLengthDelimited;
using otlp::EndLengthDelimited;
using otlp::WireType;

void AppendDouble(std::string* out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  AppendFixed64(out, bits);
}

}  // namespace

RedMetrics::RedMetrics(const Pattern& pattern, const SpanEncoder& encoder, int resources, uint64_t start_unix_nano)
    : pattern_(pattern), encoder_(encoder), start_unix_nano_(start_unix_nano), by_resource_(static_cast<size_t>(resources)) {}

void RedMetrics::Add(const ServerSample& s) {
  uint64_t key = (static_cast<uint64_t>(s.resource) << 44) | (static_cast<uint64_t>(s.operation) << 20) |
                 static_cast<uint64_t>(static_cast<uint32_t>(s.status) & 0xfffff);
  auto [it, inserted] = index_.try_emplace(key, static_cast<uint32_t>(series_.size()));
  if (inserted) {
    series_.push_back(Series{.resource = s.resource, .operation = s.operation, .status = s.status, .exemplar = {}});
    by_resource_[static_cast<size_t>(s.resource)].push_back(it->second);
  }
  Series& series = series_[it->second];
  double seconds = static_cast<double>(s.duration_ns) / 1e9;
  series.count += 1;
  series.sum += seconds;
  size_t b = 0;
  while (b < kDurationBounds.size() && seconds > kDurationBounds[b]) ++b;
  series.buckets[b] += 1;
  if (!series.has_exemplar) {
    series.has_exemplar = true;
    series.exemplar = s;
  }
  changed_ = true;
}

size_t RedMetrics::BeginPoint(const Series& s, uint32_t attributes_field, uint64_t time, std::string* out) const {
  AppendTag(out, 1, WireType::kLen);
  size_t dp = BeginLengthDelimited(out);
  encoder_.AppendMetricAttributes(s.operation, s.status, attributes_field, out);
  AppendTag(out, 2, WireType::kFixed64);
  AppendFixed64(out, start_unix_nano_);
  AppendTag(out, 3, WireType::kFixed64);
  AppendFixed64(out, time);
  return dp;
}

uint64_t RedMetrics::Encode(uint64_t time, std::string* out) {
  out->clear();
  uint64_t points = 0;
  for (size_t r = 0; r < by_resource_.size(); ++r) {
    const std::vector<uint32_t>& ids = by_resource_[r];
    if (ids.empty()) continue;
    AppendTag(out, 1, WireType::kLen);  // resource_metrics
    size_t rm = BeginLengthDelimited(out);
    out->append(encoder_.resource(static_cast<int>(r)));
    AppendTag(out, 2, WireType::kLen);  // scope_metrics
    size_t sm = BeginLengthDelimited(out);
    out->append(encoder_.scope(static_cast<int>(r)));
    for (Protocol protocol : {Protocol::kHttp, Protocol::kGrpc}) {
      bool any = false;
      for (uint32_t id : ids) any |= pattern_.operations[static_cast<size_t>(series_[id].operation)].protocol == protocol;
      if (!any) continue;
      bool http = protocol == Protocol::kHttp;
      // The counter.
      AppendTag(out, 2, WireType::kLen);  // metrics
      size_t m = BeginLengthDelimited(out);
      AppendStringField(out, 1, http ? "http.server.request.count" : "rpc.server.request.count");
      AppendStringField(out, 2, "Number of requests the server handled.");
      AppendStringField(out, 3, "{request}");
      AppendTag(out, 7, WireType::kLen);  // sum
      size_t sum = BeginLengthDelimited(out);
      for (uint32_t id : ids) {
        const Series& s = series_[id];
        if (pattern_.operations[static_cast<size_t>(s.operation)].protocol != protocol) continue;
        size_t dp = BeginPoint(s, /*attributes_field=*/7, time, out);
        AppendTag(out, 6, WireType::kFixed64);  // as_int (sfixed64)
        AppendFixed64(out, s.count);
        EndLengthDelimited(out, dp);
        ++points;
      }
      AppendTag(out, 2, WireType::kVarint);
      AppendVarint(out, 2);  // cumulative
      AppendTag(out, 3, WireType::kVarint);
      AppendVarint(out, 1);  // monotonic
      EndLengthDelimited(out, sum);
      EndLengthDelimited(out, m);

      // The histogram.
      AppendTag(out, 2, WireType::kLen);
      m = BeginLengthDelimited(out);
      AppendStringField(out, 1, http ? "http.server.request.duration" : "rpc.server.call.duration");
      AppendStringField(out, 2, http ? "Duration of HTTP server requests." : "Duration of RPC server calls.");
      AppendStringField(out, 3, "s");
      AppendTag(out, 9, WireType::kLen);  // histogram
      size_t h = BeginLengthDelimited(out);
      for (uint32_t id : ids) {
        Series& s = series_[id];
        if (pattern_.operations[static_cast<size_t>(s.operation)].protocol != protocol) continue;
        size_t dp = BeginPoint(s, /*attributes_field=*/9, time, out);
        AppendTag(out, 4, WireType::kFixed64);
        AppendFixed64(out, s.count);
        AppendTag(out, 5, WireType::kFixed64);
        AppendDouble(out, s.sum);
        AppendTag(out, 6, WireType::kLen);
        AppendVarint(out, 8 * s.buckets.size());
        for (uint64_t c : s.buckets) AppendFixed64(out, c);
        AppendTag(out, 7, WireType::kLen);
        AppendVarint(out, 8 * kDurationBounds.size());
        for (double b : kDurationBounds) AppendDouble(out, b);
        if (s.has_exemplar) {
          AppendTag(out, 8, WireType::kLen);
          size_t ex = BeginLengthDelimited(out);
          AppendTag(out, 2, WireType::kFixed64);
          AppendFixed64(out, s.exemplar.end_unix_nano);
          AppendTag(out, 3, WireType::kFixed64);
          AppendDouble(out, static_cast<double>(s.exemplar.duration_ns) / 1e9);
          AppendTag(out, 4, WireType::kLen);
          AppendVarint(out, 8);
          out->append(reinterpret_cast<const char*>(s.exemplar.span_id), 8);
          AppendTag(out, 5, WireType::kLen);
          AppendVarint(out, 16);
          out->append(reinterpret_cast<const char*>(s.exemplar.trace_id), 16);
          EndLengthDelimited(out, ex);
          s.has_exemplar = false;
        }
        EndLengthDelimited(out, dp);
        ++points;
      }
      AppendTag(out, 2, WireType::kVarint);
      AppendVarint(out, 2);  // cumulative
      EndLengthDelimited(out, h);
      EndLengthDelimited(out, m);
    }
    EndLengthDelimited(out, sm);
    EndLengthDelimited(out, rm);
  }
  changed_ = false;
  return points;
}

}  // namespace otelrr::generate
