// Reads a whole session in arrival order, across all its files and signals, with bounded memory.
//
//   SessionStore sessions(store);
//   absl::StatusOr<std::unique_ptr<SessionReader>> r =
//       sessions.OpenReader("capture-1", {.signals = {otlp::Signal::kTraces}});
//   Record rec;
//   while (true) {
//     absl::StatusOr<bool> more = (*r)->Next(&rec);
//     if (!more.ok()) return more.status();
//     if (!*more) break;
//     Send(rec);                       // ordered by (arrival_unix_nano, sequence)
//   }
//
// Each file is sorted by arrival, so the reader is a k-way merge: a file is opened when the merge
// reaches its first arrival (from the metadata index; for a session without a usable index - an
// active or crashed one - from the timestamp in the file name, which is the first arrival rounded down to
// the millisecond) and closed at its end. At any time only the files whose time ranges overlap are
// open, each holding one gzip member and a read buffer: memory does not grow with the session.
//
// Damage: by default a damaged file makes Next() fail with DataLoss naming the file. With
// stop_at_damage, each damaged file ends at its last intact member, the merge goes on, and damage()
// lists what was dropped (see FileReader).
#ifndef OTELRR_SESSION_READER_H_
#define OTELRR_SESSION_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "session/file_reader.h"
#include "session/metadata.h"
#include "session/record.h"
#include "store/object_store.h"

namespace otelrr::session {

struct ReaderOptions {
  // The signals to read; empty reads all three.
  std::vector<otlp::Signal> signals = {};
  bool stop_at_damage = false;
  // Use the file index of metadata.json when the session is closed (completed or failed). False always
  // lists raw/ instead (the index is ignored for active sessions anyway).
  bool use_index = true;
  size_t read_buffer_bytes = 256 << 10;
};

// Thread-compatible: one thread reads (replay reads on a thread of its own, replay/replay.cc).
class SessionReader {
 public:
  // NotFound when the session has neither metadata.json nor raw files.
  static absl::StatusOr<std::unique_ptr<SessionReader>> Open(store::ObjectStore& store, std::string_view session_id,
                                                             ReaderOptions options);
  ~SessionReader();

  // The next record in (arrival, sequence) order: true, or false after the last one.
  absl::StatusOr<bool> Next(Record* out);

  // metadata.json, when it could be read.
  const std::optional<SessionMetadata>& metadata() const { return metadata_; }
  // Files cut short at damage (stop_at_damage only).
  const std::vector<FileDamage>& damage() const { return damage_; }
  // Files the reader will read, in order of their first arrival (paths relative to the session).
  std::vector<std::string> files() const;
  bool using_index() const { return using_index_; }

 private:
  struct PendingFile {
    std::string key;
    std::string path;
    uint64_t lower_bound_unix_nano;  // no record of the file arrived earlier
  };
  struct Cursor {
    std::unique_ptr<FileReader> reader;
    Record current;
  };

  SessionReader(store::ObjectStore& store, ReaderOptions options) : store_(store), options_(std::move(options)) {}
  absl::Status OpenFile(const PendingFile& file);
  // Reads the cursor's next record into its `current`; false (and collects damage) at the end.
  absl::StatusOr<bool> Advance(Cursor& cursor);
  static bool Later(const std::unique_ptr<Cursor>& a, const std::unique_ptr<Cursor>& b);

  store::ObjectStore& store_;
  ReaderOptions options_;
  std::optional<SessionMetadata> metadata_;
  bool using_index_ = false;
  std::vector<PendingFile> pending_;
  size_t next_pending_ = 0;
  std::vector<std::unique_ptr<Cursor>> heap_;  // min-heap on (arrival, sequence)
  bool advance_back_ = false;                  // heap_.back() was just returned and is off the heap
  std::vector<FileDamage> damage_;
};

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_READER_H_
