// A bounded queue of session records from one producer thread to one consumer, and a session reader that
// reads ahead on a thread of its own through one (ReadAhead: replay, slice and merge read this way, so that
// decompressing overlaps with what they do with each record). A seed generated straight to the sender
// (`otelrr seed --live-only`: generate::GenerateStream on a thread of its own) feeds one too.
//
//   RecordPipe pipe({.max_records = 128, .max_bytes = 2 << 20});
//   producer:  while (...) if (!pipe.Push(std::move(record))) break;   // false: the consumer closed it
//              pipe.Finish(status);                                      // the end, or why it ended
//   consumer:  while (*pipe.Next(&record)) Use(record);                 // an error: the producer's
//              pipe.Close();                                             // stops the producer early
#ifndef OTELRR_SESSION_RECORD_PIPE_H_
#define OTELRR_SESSION_RECORD_PIPE_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "session/reader.h"
#include "session/record.h"

namespace otelrr::session {

// Records in arrival order, one at a time (a session reader, a pipe).
class RecordStream {
 public:
  virtual ~RecordStream() = default;
  // The next record: true, false after the last one, or why the stream failed.
  virtual absl::StatusOr<bool> Next(Record* out) = 0;
};

struct RecordPipeOptions {
  // The producer waits while this many records, or this many payload bytes, are queued (one record is
  // always let through, however large). Once it waits, it waits until the consumer has taken half of
  // them: the producer then runs in bursts, not woken for every record the consumer takes.
  size_t max_records = 128;
  size_t max_bytes = 2 << 20;
};

class RecordPipe : public RecordStream {
 public:
  explicit RecordPipe(RecordPipeOptions options = {}) : options_(options) {}

  // Producer: queues `record`, waiting for room. False once the consumer closed the pipe (the record is dropped).
  bool Push(Record record);
  // Producer: there is nothing more. Next returns false after the last record when `status` is OK, else `status`.
  void Finish(absl::Status status = absl::OkStatus());

  // Consumer.
  absl::StatusOr<bool> Next(Record* out) override;
  // Consumer: stops the producer (Push returns false from now on, and what is queued is dropped).
  void Close();

 private:
  // Whether the producer may go on, and (once it waits) whether it may go on again.
  bool Full() const;
  bool Drained() const;

  const RecordPipeOptions options_;
  std::mutex mu_;
  std::condition_variable room_;     // the producer waits on it
  std::condition_variable records_;  // the consumer waits on it
  bool producer_waits_ = false;
  bool consumer_waits_ = false;
  std::deque<Record> queue_;
  size_t bytes_ = 0;
  bool finished_ = false;
  bool closed_ = false;
  absl::Status status_;
};

// A session reader read ahead on a thread of its own, a bounded distance (the pipe's options) ahead of the
// caller. Destroying it stops the thread.
class ReadAhead : public RecordStream {
 public:
  explicit ReadAhead(std::unique_ptr<SessionReader> reader, RecordPipeOptions options = {});
  ~ReadAhead() override;
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  absl::StatusOr<bool> Next(Record* out) override { return pipe_.Next(out); }
  // The reader, once Next returned false or an error (its damage(), files()...).
  const SessionReader& reader() const { return *reader_; }

 private:
  void Run();

  std::unique_ptr<SessionReader> reader_;  // used by the thread only, until it ends
  RecordPipe pipe_;
  std::thread thread_;  // last
};

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_RECORD_PIPE_H_
