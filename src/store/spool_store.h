// An ObjectStore that writes new objects into a local spool and uploads each to a remote store when it
// is closed; every other call goes to the remote store. It gives an S3 store what capture needs: an
// append that is durable once Sync() returns (the spool is a local directory, fsynced), so a request can
// be acknowledged as soon as it is written, as on local disk. This is the ingester pattern of Grafana
// Tempo and Loki: a write-ahead log on local disk, finished blocks to object storage.
//
//   auto spool = LocalStore::Open({.root = "/var/cache/otelrr/spool/otel-data"});
//   SpoolStore store(std::move(s3), std::move(*spool));
//   auto w = store.Create("sessions/c1/raw/.../traces-1-x.otlp.gz");  // a file in the spool
//   (*w)->Append(member); (*w)->Sync();                                  // durable on local disk
//   (*w)->Close();                                                       // uploaded, removed from the spool
//
// A writer that dies leaves its files in the spool; session::UploadSpoolLeftovers (session/recover.h)
// cuts them after their last complete member and uploads them before the session is recovered. While a
// file is in the spool the remote store does not list it. Locks are the remote store's.
// Thread-safe as its two stores are.
#ifndef OTELRR_STORE_SPOOL_STORE_H_
#define OTELRR_STORE_SPOOL_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "store/local_store.h"
#include "store/object_store.h"

namespace otelrr::store {

class SpoolStore : public ObjectStore {
 public:
  SpoolStore(std::unique_ptr<ObjectStore> remote, std::unique_ptr<LocalStore> spool)
      : remote_(std::move(remote)), spool_(std::move(spool)) {}

  absl::Status Put(std::string_view key, std::string_view data) override { return remote_->Put(key, data); }
  absl::StatusOr<std::unique_ptr<ObjectReader>> Get(std::string_view key) override { return remote_->Get(key); }
  absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override { return remote_->List(prefix); }
  absl::StatusOr<std::vector<std::string>> ListDirectories(std::string_view prefix) override {
    return remote_->ListDirectories(prefix);
  }
  absl::StatusOr<ObjectInfo> Head(std::string_view key) override { return remote_->Head(key); }
  absl::Status Delete(std::string_view key) override { return remote_->Delete(key); }
  absl::Status DeletePrefix(std::string_view prefix) override { return remote_->DeletePrefix(prefix); }
  absl::Status Truncate(std::string_view key, uint64_t size) override { return remote_->Truncate(key, size); }
  absl::StatusOr<std::unique_ptr<ObjectLock>> TryLock(std::string_view name) override { return remote_->TryLock(name); }
  absl::StatusOr<size_t> AbortIncompleteWrites(std::string_view prefix) override {
    return remote_->AbortIncompleteWrites(prefix);
  }
  std::string Describe() const override { return remote_->Describe(); }

  // A writer into the spool; its Close uploads the object and removes it from the spool (a failed
  // upload leaves it there, and says so).
  absl::StatusOr<std::unique_ptr<ObjectWriter>> Create(std::string_view key) override;

  // Uploads the spooled object `key` to the remote store and removes it from the spool.
  absl::Status Upload(std::string_view key);

  ObjectStore& remote() { return *remote_; }
  LocalStore& spool() { return *spool_; }

 private:
  std::unique_ptr<ObjectStore> remote_;
  std::unique_ptr<LocalStore> spool_;
};

}  // namespace otelrr::store

#endif  // OTELRR_STORE_SPOOL_STORE_H_
