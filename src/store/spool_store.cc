#include "store/spool_store.h"

#include <fmt/format.h>

#include "common/status.h"

namespace otelrr::store {
namespace {

class SpoolWriter : public ObjectWriter {
 public:
  SpoolWriter(SpoolStore& store, std::string key, std::unique_ptr<ObjectWriter> local)
      : store_(store), key_(std::move(key)), local_(std::move(local)) {}

  ~SpoolWriter() override {
    if (!closed_) (void)Close();
  }

  absl::Status Append(std::string_view data) override { return local_->Append(data); }
  absl::Status Sync() override { return local_->Sync(); }
  uint64_t size() const override { return local_->size(); }

  absl::Status Close() override {
    if (closed_) return absl::OkStatus();
    closed_ = true;
    if (absl::Status s = local_->Close(); !s.ok()) return s;
    return store_.Upload(key_);
  }

 private:
  SpoolStore& store_;
  const std::string key_;
  std::unique_ptr<ObjectWriter> local_;
  bool closed_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ObjectWriter>> SpoolStore::Create(std::string_view key) {
  absl::StatusOr<std::unique_ptr<ObjectWriter>> local = spool_->Create(key);
  if (!local.ok()) return local.status();
  return std::unique_ptr<ObjectWriter>(new SpoolWriter(*this, std::string(key), std::move(*local)));
}

absl::Status SpoolStore::Upload(std::string_view key) {
  absl::StatusOr<std::unique_ptr<ObjectReader>> reader = spool_->Get(key);
  if (!reader.ok()) return reader.status();
  absl::StatusOr<std::unique_ptr<ObjectWriter>> writer = remote_->Create(key);
  if (!writer.ok()) return writer.status();
  std::string buf(1 << 20, '\0');
  while (true) {
    absl::StatusOr<size_t> n = (*reader)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    if (absl::Status s = (*writer)->Append(std::string_view(buf.data(), *n)); !s.ok()) {
      return Prefixed(s, fmt::format("uploading {} from the spool {} (it stays there)", key, spool_->Describe()));
    }
  }
  if (absl::Status s = (*writer)->Close(); !s.ok()) {
    return Prefixed(s, fmt::format("uploading {} from the spool {} (it stays there)", key, spool_->Describe()));
  }
  return spool_->Delete(key);
}

}  // namespace otelrr::store
