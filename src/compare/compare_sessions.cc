#include "compare/compare_sessions.h"

#include <memory>
#include <utility>

#include "fmt/format.h"

namespace otelrr::compare {
namespace {

using session::Record;
using session::SessionReader;

// Where a reader is, as a fraction of its session.
class Pace {
 public:
  Pace(const std::optional<session::SessionMetadata>& m, const std::vector<otlp::Signal>& signals, bool by_records) {
    if (!m.has_value()) return;
    if (by_records) {
      uint64_t total = 0;
      for (otlp::Signal s : signals) {
        total += s == otlp::Signal::kTraces ? m->counts.trace_requests
                 : s == otlp::Signal::kMetrics ? m->counts.metric_requests
                                               : m->counts.log_requests;
      }
      records_ = total > 0 ? static_cast<double>(total) : 0;
      return;
    }
    if (m->first_arrival_unix_nano && m->last_arrival_unix_nano && *m->last_arrival_unix_nano > *m->first_arrival_unix_nano) {
      first_ = *m->first_arrival_unix_nano;
      span_ = static_cast<double>(*m->last_arrival_unix_nano - *m->first_arrival_unix_nano);
    }
  }
  double At(const Record& r, uint64_t read) const {
    if (records_ > 0) return static_cast<double>(read) / records_;
    if (span_ > 0) return r.arrival_unix_nano <= first_ ? 0 : static_cast<double>(r.arrival_unix_nano - first_) / span_;
    return 0;
  }

 private:
  uint64_t first_ = 0;
  double span_ = 0;
  double records_ = 0;
};

std::vector<otlp::Signal> SignalsOf(const SessionCompareOptions& o) {
  if (!o.signals.empty()) return o.signals;
  return {otlp::Signal::kTraces, otlp::Signal::kMetrics, otlp::Signal::kLogs};
}

absl::StatusOr<std::unique_ptr<SessionReader>> Open(session::SessionStore& sessions, std::string_view id,
                                                    const std::vector<otlp::Signal>& signals) {
  return sessions.OpenReader(id, {.signals = signals});
}

// Reads the next record of `reader` that the transform keeps; false at the end.
absl::StatusOr<bool> NextKept(SessionReader& reader, Record* r,
                              const std::function<absl::StatusOr<bool>(Record&)>& transform) {
  while (true) {
    absl::StatusOr<bool> more = reader.Next(r);
    if (!more.ok() || !*more) return more;
    if (!transform) return true;
    absl::StatusOr<bool> keep = transform(*r);
    if (!keep.ok()) return keep.status();
    if (*keep) return true;
  }
}

}  // namespace

absl::StatusOr<CompareReport> CompareSessions(session::SessionStore& sessions, std::string_view a,
                                              std::string_view b, const SessionCompareOptions& options) {
  const std::vector<otlp::Signal> signals = SignalsOf(options);
  absl::StatusOr<std::unique_ptr<SessionReader>> ra = Open(sessions, a, signals);
  if (!ra.ok()) return ra.status();
  absl::StatusOr<std::unique_ptr<SessionReader>> rb = Open(sessions, b, signals);
  if (!rb.ok()) return rb.status();
  const Pace pace_a((*ra)->metadata(), signals, options.by_records);
  const Pace pace_b((*rb)->metadata(), signals, options.by_records);

  Comparator cmp(options.compare);
  Record rec_a, rec_b;
  uint64_t read_a = 0, read_b = 0;
  absl::StatusOr<bool> has_a = NextKept(**ra, &rec_a, options.transform_a);
  if (!has_a.ok()) return has_a.status();
  absl::StatusOr<bool> has_b = NextKept(**rb, &rec_b, nullptr);
  if (!has_b.ok()) return has_b.status();
  uint64_t added = 0;
  while (*has_a || *has_b) {
    const bool take_a = *has_a && (!*has_b || pace_a.At(rec_a, read_a) <= pace_b.At(rec_b, read_b));
    Record& rec = take_a ? rec_a : rec_b;
    absl::Status s = cmp.Add(take_a ? Side::kA : Side::kB, rec.signal, std::move(rec.payload));
    if (!s.ok()) {
      return absl::DataLossError(fmt::format("session {}: record {}: {}", take_a ? a : b, rec.sequence, std::string(s.message())));
    }
    if (take_a) {
      ++read_a;
      has_a = NextKept(**ra, &rec_a, options.transform_a);
      if (!has_a.ok()) return has_a.status();
    } else {
      ++read_b;
      has_b = NextKept(**rb, &rec_b, nullptr);
      if (!has_b.ok()) return has_b.status();
    }
    if (options.progress && (++added & 1023) == 0) options.progress(added);
  }
  ra->reset();
  rb->reset();

  auto reread = [&](const std::function<absl::Status(otlp::Signal, std::string_view)>& fn) -> absl::Status {
    absl::StatusOr<std::unique_ptr<SessionReader>> r = Open(sessions, a, signals);
    if (!r.ok()) return r.status();
    Record rec;
    while (true) {
      absl::StatusOr<bool> more = NextKept(**r, &rec, options.transform_a);
      if (!more.ok()) return more.status();
      if (!*more) return absl::OkStatus();
      absl::Status s = fn(rec.signal, rec.payload);
      if (!s.ok()) return s;
    }
  };
  return cmp.Finish(reread);
}

}  // namespace otelrr::compare
