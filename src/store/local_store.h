// An ObjectStore over a directory of the local file system: key "a/b/c" is the file root/a/b/c.
//
//   absl::StatusOr<std::unique_ptr<LocalStore>> store = LocalStore::Open({.root = "/srv/otelrr"});
//   (*store)->Put("sessions/s1/metadata.json", json);
//
// Put writes a temporary file in the target directory, fsyncs it, renames it over the key and fsyncs
// the directory: after a crash the key holds the old content or the new, never a torn write.
// Temporary files are named ".otelrr-tmp-*" and are never listed.
//
// Create opens the final path for appending (exclusively: it never overwrites). It is used for the raw
// session files, which are append-only and recoverable after a crash, so they need no rename. Sync() is
// fdatasync, plus an fsync of the directories the file and its parents were created in, once.
//
// Truncate is ftruncate plus fdatasync. TryLock(name) takes flock(LOCK_EX | LOCK_NB) on the file
// ".otelrr-lock-{last segment}" in the folder of `name` ("sessions/s1/writer" is the file
// sessions/s1/.otelrr-lock-writer), created when missing and never listed. flock belongs to the open
// file description, so a second TryLock fails while the first lock lives, in this process as in any
// other, and the kernel drops the lock when its holder dies. The file holds the holder's pid (for
// messages) and is removed, with folders left empty, on release; a crashed holder leaves it behind,
// which is harmless: the next TryLock reuses it. Locks need a local file system (not NFS).
//
// Errors map errno as the ObjectStore contract asks: ENOENT -> NotFound; EAGAIN, EBUSY, ETIMEDOUT, EINTR
// (after retries) -> Unavailable; EACCES, EPERM, EROFS -> PermissionDenied; ENOSPC, EDQUOT ->
// ResourceExhausted; anything else -> Internal. Messages name the path and the system error.
#ifndef OTELRR_STORE_LOCAL_STORE_H_
#define OTELRR_STORE_LOCAL_STORE_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "store/object_store.h"

namespace otelrr::store {

struct LocalStoreOptions {
  std::filesystem::path root;
  // Create the root directory (and its parents) when missing.
  bool create_root = true;
};

class LocalStore : public ObjectStore {
 public:
  static absl::StatusOr<std::unique_ptr<LocalStore>> Open(LocalStoreOptions options);

  absl::Status Put(std::string_view key, std::string_view data) override;
  absl::StatusOr<std::unique_ptr<ObjectReader>> Get(std::string_view key) override;
  absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  absl::StatusOr<std::vector<std::string>> ListDirectories(std::string_view prefix) override;
  absl::StatusOr<ObjectInfo> Head(std::string_view key) override;
  absl::Status Delete(std::string_view key) override;
  absl::Status DeletePrefix(std::string_view prefix) override;
  absl::StatusOr<std::unique_ptr<ObjectWriter>> Create(std::string_view key) override;
  absl::Status Truncate(std::string_view key, uint64_t size) override;
  absl::StatusOr<std::unique_ptr<ObjectLock>> TryLock(std::string_view name) override;
  std::string Describe() const override { return root_.string(); }

  const std::filesystem::path& root() const { return root_; }
  // The file a key is stored in (the key must be valid).
  std::filesystem::path PathOf(std::string_view key) const;
  // The file that holds lock `name` (the name must be a valid key).
  std::filesystem::path LockPathOf(std::string_view name) const;

 private:
  explicit LocalStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace otelrr::store

#endif  // OTELRR_STORE_LOCAL_STORE_H_
