// Object storage as the session format needs it: whole-object writes, streaming reads, listing by key
// prefix, and append-style streaming writes for files that grow while a session is recorded.
//
//   absl::StatusOr<std::unique_ptr<ObjectStore>> store = OpenStore("./data");  // or "file:///srv/otelrr"
//   if (!store.ok()) return store.status();
//   RETURN_IF_ERROR((*store)->Put("sessions/s1/metadata.json", json));  // atomic: readers see old or new
//   absl::StatusOr<std::string> body = (*store)->ReadAll("sessions/s1/metadata.json");
//   absl::StatusOr<std::vector<ObjectInfo>> objects = (*store)->List("sessions/s1/raw/");
//
//   absl::StatusOr<std::unique_ptr<ObjectWriter>> w = (*store)->Create("sessions/s1/raw/.../x.otlp.gz");
//   (*w)->Append(bytes);  (*w)->Sync();  (*w)->Close();
//
// Keys are '/'-separated relative paths ("sessions/s1/metadata.json"). A key never starts or ends with
// '/', has no empty segment, no "." or ".." segment and no NUL byte: ValidateKey() enforces this in every
// implementation, so no key reaches outside the store. A prefix is a plain string prefix of keys, as in
// S3 ("sessions/s1/" lists that session; "sessions/s1" would also list "sessions/s10/...").
//
// Errors. Every failure is one of three kinds, and only the kind decides whether a caller retries:
//   - absl::StatusCode::kNotFound: the object (or prefix) does not exist;
//   - absl::StatusCode::kUnavailable: transient (network, throttling, EAGAIN, EINTR storms): retry;
//   - anything else (InvalidArgument, PermissionDenied, ResourceExhausted, DataLoss, Internal...):
//     permanent; retrying gives the same answer.
// IsRetryable() encodes this rule.
//
// Locks. TryLock(name) takes an exclusive lock that lives beside the objects, not among them: it is
// never listed, read or deleted through the object calls, so it does not make a prefix look non-empty.
// Whoever holds the returned ObjectLock holds the lock until it destroys it; a process that dies
// (even by SIGKILL) gives up its locks. TryLock does not wait: when another holder (another process,
// or another ObjectLock in this one) has the lock it returns FailedPrecondition, and only then
// (IsLockHeld()). Callers use a lock to tell a live writer from a crashed one.
//
//   absl::StatusOr<std::unique_ptr<ObjectLock>> lock = store->TryLock("sessions/s1/writer");
//   if (IsLockHeld(lock.status())) return;   // someone is writing s1
//   if (!lock.ok()) return lock.status();
//
// Implementations: LocalStore (local_store.h), a directory on a local file system, and S3Store
// (s3_store.h), a bucket of any S3-compatible server (each call's S3 form is listed there). An S3 writer
// cannot make data durable before Close, so Sync() is allowed to be a no-op that returns OK there:
// callers use Sync() for "as durable as this store allows", and Close() for "the object now exists".
// Truncate and TryLock are optional (the base class says Unimplemented).
#ifndef OTELRR_STORE_OBJECT_STORE_H_
#define OTELRR_STORE_OBJECT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace otelrr::store {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // Last modification time, unix nanoseconds (S3: LastModified).
  int64_t mtime_unix_nano = 0;
};

// A streaming read of one object.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // Reads up to `n` bytes into `buf`. Returns the number read; 0 only at the end of the object.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// An append-style write of one new object.
class ObjectWriter {
 public:
  // Destroying a writer without Close() closes it, ignoring errors (the object may then be incomplete).
  virtual ~ObjectWriter() = default;
  virtual absl::Status Append(std::string_view data) = 0;
  // Makes everything appended so far durable, as far as the store allows (see the header comment).
  virtual absl::Status Sync() = 0;
  // Finishes the object. No call is valid afterwards.
  virtual absl::Status Close() = 0;
  // Bytes appended so far.
  virtual uint64_t size() const = 0;
};

// An exclusive lock taken with ObjectStore::TryLock. Destroying it releases the lock.
class ObjectLock {
 public:
  virtual ~ObjectLock() = default;
  // The name it was taken with.
  virtual const std::string& name() const = 0;
};

// Thread-safe: implementations take calls from many threads at once (capture writes while the API lists).
// ObjectReader and ObjectWriter are thread-compatible: one thread uses each.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Writes the whole object atomically: a reader sees the previous content or the new one, never a mix.
  virtual absl::Status Put(std::string_view key, std::string_view data) = 0;
  // Opens the object for a streaming read. NotFound when it does not exist.
  virtual absl::StatusOr<std::unique_ptr<ObjectReader>> Get(std::string_view key) = 0;
  // The whole object in memory: for small objects such as metadata.json.
  virtual absl::StatusOr<std::string> ReadAll(std::string_view key);
  // Every object whose key starts with `prefix` (recursively), sorted by key. An empty result is OK.
  virtual absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;
  // The distinct next path segments below `prefix`, which must be empty or end with '/': for
  // "sessions/" this is the session ids. Sorted. Lets a caller list sessions without listing every file.
  virtual absl::StatusOr<std::vector<std::string>> ListDirectories(std::string_view prefix) = 0;
  // Size and time of one object. NotFound when it does not exist.
  virtual absl::StatusOr<ObjectInfo> Head(std::string_view key) = 0;
  // Deletes one object. NotFound when it does not exist.
  virtual absl::Status Delete(std::string_view key) = 0;
  // Deletes every object under `prefix` (which must end with '/'). OK when there is none.
  virtual absl::Status DeletePrefix(std::string_view prefix) = 0;
  // Starts a new object written by appends. AlreadyExists when the key exists (local stores).
  virtual absl::StatusOr<std::unique_ptr<ObjectWriter>> Create(std::string_view key) = 0;
  // Cuts the object to its first `size` bytes and makes that durable; the bytes kept are never
  // rewritten, so a crash during the call leaves the old length or the new one. InvalidArgument when
  // `size` is larger than the object, NotFound when it does not exist. Unimplemented by default.
  virtual absl::Status Truncate(std::string_view key, uint64_t size);
  // Takes the exclusive lock `name` (a valid key; see "Locks" above) without waiting. FailedPrecondition
  // when another holder has it. Unimplemented by default (a store that cannot lock).
  virtual absl::StatusOr<std::unique_ptr<ObjectLock>> TryLock(std::string_view name);
  // Discards the writes under `prefix` that were started and never finished (S3: multipart uploads of a
  // writer that died, or whose start was answered too late to be used), whose parts a store keeps (and
  // bills) until then. Returns how many. Callers hold what makes the prefix theirs (the session's lock), so
  // no live write is discarded. Nothing to do by default (a local store finishes or removes its writes).
  virtual absl::StatusOr<size_t> AbortIncompleteWrites(std::string_view prefix);
  // Where the store is, for messages: "/srv/otelrr/data", "s3://bucket/prefix".
  virtual std::string Describe() const = 0;
};

// InvalidArgument unless `key` is a valid object key (see the header comment).
absl::Status ValidateKey(std::string_view key);
// InvalidArgument unless `prefix` is empty or a valid key prefix (a valid key, optionally ending in '/').
absl::Status ValidatePrefix(std::string_view prefix);

// Whether a store error is worth retrying (kUnavailable only).
inline bool IsRetryable(const absl::Status& status) { return status.code() == absl::StatusCode::kUnavailable; }

// Whether TryLock failed because another holder has the lock (and not for any other reason).
inline bool IsLockHeld(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition;
}

// Opens a store from the --store / OTELRR_STORE value: a path or a file:// URI gives a LocalStore (the
// directory is created when missing and `create` is set, else NotFound); s3://bucket[/prefix] gives an
// S3Store configured from the environment (s3_config.h), checked with one request.
absl::StatusOr<std::unique_ptr<ObjectStore>> OpenStore(std::string_view uri, bool create = true);

}  // namespace otelrr::store

#endif  // OTELRR_STORE_OBJECT_STORE_H_
