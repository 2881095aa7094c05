#include "session/reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "session/layout.h"
#include "session/session_id.h"

namespace otelrr::session {
absl::StatusOr<std::unique_ptr<SessionReader>> SessionReader::Open(store::ObjectStore& store,
                                                                   std::string_view session_id, ReaderOptions options) {
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  std::unique_ptr<SessionReader> reader(new SessionReader(store, std::move(options)));
  auto wanted = [&](otlp::Signal signal) {
    const std::vector<otlp::Signal>& s = reader->options_.signals;
    return s.empty() || std::find(s.begin(), s.end(), signal) != s.end();
  };
  std::string prefix = SessionPrefix(session_id);

  absl::StatusOr<std::string> json = store.ReadAll(MetadataKey(session_id));
  if (json.ok()) {
    absl::StatusOr<SessionMetadata> m = SessionMetadata::FromJson(*json);
    if (m.ok()) reader->metadata_ = std::move(*m);
  } else if (json.status().code() != absl::StatusCode::kNotFound) {
    return json.status();
  }

  const std::optional<SessionMetadata>& m = reader->metadata_;
  if (m && m->status != SessionStatus::kActive && reader->options_.use_index) {
    reader->using_index_ = true;
    for (const FileEntry& f : m->files) {
      if (!wanted(f.signal)) continue;
      if (store::ValidateKey(prefix + f.path).ok() && f.path.starts_with("raw/")) {
        reader->pending_.push_back({prefix + f.path, f.path, f.first_arrival_unix_nano});
      } else {
        return absl::DataLossError(fmt::format("session {}: metadata.json lists an invalid file path \"{}\"",
                                               session_id, f.path));
      }
    }
  } else {
    absl::StatusOr<std::vector<store::ObjectInfo>> listing = store.List(RawPrefix(session_id));
    if (!listing.ok()) return listing.status();
    if (listing->empty() && !json.ok()) {
      return NoSuchSession(session_id);
    }
    for (const store::ObjectInfo& o : *listing) {
      std::string path = o.key.substr(prefix.size());
      RawFileName name;
      if (!ParseRawFilePath(path, &name) || !wanted(name.signal)) continue;
      reader->pending_.push_back({o.key, path, name.timestamp_unix_milli * 1'000'000});
    }
  }
  std::stable_sort(reader->pending_.begin(), reader->pending_.end(), [](const PendingFile& a, const PendingFile& b) {
    return std::tie(a.lower_bound_unix_nano, a.path) < std::tie(b.lower_bound_unix_nano, b.path);
  });
  return reader;
}

SessionReader::~SessionReader() = default;

std::vector<std::string> SessionReader::files() const {
  std::vector<std::string> out;
  for (const PendingFile& f : pending_) out.push_back(f.path);
  return out;
}

absl::StatusOr<bool> SessionReader::Advance(Cursor& cursor) {
  uint64_t previous = cursor.current.arrival_unix_nano;
  bool first = cursor.reader->records() == 0;
  absl::StatusOr<bool> more = cursor.reader->Next(&cursor.current);
  if (!more.ok()) return more.status();
  if (!*more) {
    if (cursor.reader->damage()) damage_.push_back(*cursor.reader->damage());
    return false;
  }
  if (!first && cursor.current.arrival_unix_nano < previous) {
    return absl::DataLossError(fmt::format("{}: record {} arrived at {}, before the previous record ({}): the file "
                                           "is not sorted by arrival",
                                           cursor.reader->key(), cursor.reader->records(),
                                           cursor.current.arrival_unix_nano, previous));
  }
  return true;
}

absl::Status SessionReader::OpenFile(const PendingFile& file) {
  absl::StatusOr<std::unique_ptr<FileReader>> r =
      FileReader::Open(store_, file.key,
                       {.stop_at_damage = options_.stop_at_damage, .read_buffer_bytes = options_.read_buffer_bytes});
  if (!r.ok()) return r.status();
  auto cursor = std::make_unique<Cursor>();
  cursor->reader = std::move(*r);
  absl::StatusOr<bool> more = Advance(*cursor);
  if (!more.ok()) return more.status();
  if (*more) {
    heap_.push_back(std::move(cursor));
    std::push_heap(heap_.begin(), heap_.end(), Later);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SessionReader::Next(Record* out) {
  // The file of the record returned last advances only now, so an error in it surfaces after every
  // record before it has been returned.
  if (advance_back_) {
    absl::StatusOr<bool> more = Advance(*heap_.back());
    if (!more.ok()) return more.status();
    advance_back_ = false;
    if (*more) {
      std::push_heap(heap_.begin(), heap_.end(), Later);
    } else {
      heap_.pop_back();  // closes the file
    }
  }
  // Open every file that could hold a record no later than the earliest one in hand. Ties open too:
  // an equal arrival with a smaller sequence number must come first.
  while (next_pending_ < pending_.size() &&
         (heap_.empty() || pending_[next_pending_].lower_bound_unix_nano <= heap_.front()->current.arrival_unix_nano)) {
    if (absl::Status s = OpenFile(pending_[next_pending_++]); !s.ok()) return s;
  }
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), Later);
  *out = std::move(heap_.back()->current);  // Advance only needs its arrival, which a move keeps
  advance_back_ = true;
  return true;
}

// std::push_heap builds a max-heap: ordering by "later" puts the earliest record on top.
bool SessionReader::Later(const std::unique_ptr<Cursor>& a, const std::unique_ptr<Cursor>& b) {
  return std::tie(a->current.arrival_unix_nano, a->current.sequence) >
         std::tie(b->current.arrival_unix_nano, b->current.sequence);
}

}  // namespace otelrr::session
