// An ObjectStore in an S3 bucket (AWS S3, MinIO, SeaweedFS... anything that speaks the S3 REST API):
// key "sessions/s1/metadata.json" is the object "<prefix>sessions/s1/metadata.json" of the bucket.
//
//   absl::StatusOr<S3Config> config = S3ConfigFromEnvironment("s3://otel-data");
//   absl::StatusOr<std::unique_ptr<S3Store>> store = S3Store::Open(*config);   // checks bucket and keys
//
// How each call maps onto S3:
//   Put             PutObject (a multipart upload above multipart_threshold)
//   Get             GetObject in ranged reads of read_bytes, the next range fetched while the caller
//                   reads one (two buffers of read_bytes per reader), so a large object is never held whole
//   List            ListObjectsV2, following continuation tokens
//   ListDirectories ListObjectsV2 with Delimiter "/"
//   Head            HeadObject
//   Delete          HeadObject (NotFound when missing), DeleteObject
//   DeletePrefix    ListObjectsV2, then DeleteObjects in batches of 1000
//   Create          a writer that uploads parts of part_bytes as they fill (up to parts_in_flight at
//                   once) and completes the upload at Close (one PutObject when the object is small);
//                   a failed upload is aborted, so no part stays stored and billed. S3 cannot make an
//                   append durable: Sync() returns OK without doing anything, and an object exists
//                   only once Close() returned OK (capture keeps a local spool for this: spool_store.h).
//   Truncate        the kept range copied into a new upload of the same key
//   TryLock         a lease object "<dir>/.otelrr-lock-<name>" created with a conditional PUT
//                   (If-None-Match: *), renewed while held, deleted on release; a lease whose holder
//                   stopped renewing it expires after `lease` and may then be taken over (at once when
//                   the holder was a process of this host that no longer runs). A lease that names this
//                   call's holder is its own (a PUT whose answer was lost, retried: 412).
// Lease objects are never listed, as local lock files are not.
//
// Errors are the store's three kinds (object_store.h), with messages that name what to check (the
// credentials, the bucket, the endpoint); transient failures are retried inside (s3_client.h).
// Thread-safe.
#ifndef OTELRR_STORE_S3_STORE_H_
#define OTELRR_STORE_S3_STORE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "store/internal/xml.h"
#include "store/object_store.h"
#include "store/s3_client.h"
#include "store/s3_config.h"

namespace otelrr::store {

struct S3StoreOptions {
  // Multipart part size: S3's minimum, 5 MiB (10,000 parts: objects up to 48 GiB).
  size_t part_bytes = 5 << 20;
  // Parts being uploaded at once, all writers of the store together: with part_bytes, what bounds the
  // memory of uploads however many files are written at once (a seed writes three): 3 parts in flight
  // and one filling per open file, 30 MiB for a seed. On loopback one part in flight already keeps up
  // with capture; over a WAN each part in flight adds one connection's throughput.
  size_t parts_in_flight = 3;
  size_t multipart_threshold = 16 << 20;   // Put of more than this uses a multipart upload
  size_t read_bytes = 8 << 20;             // ranged GET size (a reader holds two)
  std::chrono::seconds lease = std::chrono::seconds(30);
  S3ClientOptions client = {};
};

class S3Store : public ObjectStore {
 public:
  // Opens the store and checks, with one request, that the endpoint answers, the credentials are
  // accepted and the bucket exists; each failure is a one-line error saying what to fix.
  static absl::StatusOr<std::unique_ptr<S3Store>> Open(S3Config config, S3StoreOptions options = {});
  ~S3Store() override;

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
  std::string Describe() const override { return client_.config().Describe(); }

  // Aborts the multipart uploads under `prefix` that were started and never completed or aborted (a
  // writer that died, a start whose answer was lost): their parts are stored, and billed, until then.
  // Returns how many.
  absl::StatusOr<size_t> AbortIncompleteWrites(std::string_view prefix) override;

  S3Client& client() { return client_; }
  const S3StoreOptions& options() const { return options_; }
  // The bucket's object key of a store key.
  std::string ObjectKey(std::string_view key) const { return client_.config().prefix + std::string(key); }
  // A slot for one part upload (parts_in_flight in all): waits for one to be free. ReleasePart gives it back.
  void AcquirePart();
  void ReleasePart();

 private:
  S3Store(S3Config config, S3StoreOptions options);
  // Every object under `prefix` (store keys), lease objects included when `with_leases`.
  absl::StatusOr<std::vector<ObjectInfo>> ListAll(std::string_view prefix, bool with_leases);
  // ListObjectsV2 of `full_prefix` (with Delimiter "/" when `directories`), page by page.
  absl::Status ListPages(std::string_view full_prefix, bool directories, std::string_view what,
                         const std::function<void(const internal::XmlElement&)>& page);

  const S3StoreOptions options_;
  S3Client client_;
  std::mutex parts_mu_;
  std::condition_variable parts_cv_;
  size_t parts_busy_ = 0;  // guarded by parts_mu_
};

}  // namespace otelrr::store

#endif  // OTELRR_STORE_S3_STORE_H_
