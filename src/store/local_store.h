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
// Errors map errno as the ObjectStore contract asks: ENOENT -> NotFound; EAGAIN, EBUSY, ETIMEDOUT, EINTR
// (after retries) -> Unavailable; EACCES, EPERM, EROFS -> PermissionDenied; ENOSPC, EDQUOT ->
// ResourceExhausted; anything else -> Internal. Messages name the path and the system error.
#ifndef OTELRR_STORE_LOCAL_STORE_H_
#define OTELRR_STORE_LOCAL_STORE_H_

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
  std::string Describe() const override { return root_.string(); }

  const std::filesystem::path& root() const { return root_; }
  // The file a key is stored in (the key must be valid).
  std::filesystem::path PathOf(std::string_view key) const;

 private:
  explicit LocalStore(std::filesystem::path root) : root_(std::move(root)) {}
  // Removes the now-empty directories from `dir` up to (not including) the root.
  void PruneEmptyDirectories(std::filesystem::path dir) const;

  std::filesystem::path root_;
};

}  // namespace otelrr::store

#endif  // OTELRR_STORE_LOCAL_STORE_H_
