// A store that hands every call to another store: the base of the test stores that inject a fault
// into one operation (override it) and leave the others to a real store. ReadAll is not forwarded: it
// reads through Get, so a fault injected there reaches it too.
//
//   class NoDeletes : public ForwardingStore {
//    public:
//     using ForwardingStore::ForwardingStore;
//     absl::Status Delete(std::string_view) override { return absl::PermissionDeniedError("no"); }
//   };
#ifndef OTELRR_STORE_TESTING_FORWARDING_STORE_H_
#define OTELRR_STORE_TESTING_FORWARDING_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "store/object_store.h"

namespace otelrr::store::testing {

class ForwardingStore : public ObjectStore {
 public:
  explicit ForwardingStore(ObjectStore& inner) : inner_(inner) {}

  absl::Status Put(std::string_view key, std::string_view data) override { return inner_.Put(key, data); }
  absl::StatusOr<std::unique_ptr<ObjectReader>> Get(std::string_view key) override { return inner_.Get(key); }
  absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override { return inner_.List(prefix); }
  absl::StatusOr<std::vector<std::string>> ListDirectories(std::string_view prefix) override {
    return inner_.ListDirectories(prefix);
  }
  absl::StatusOr<ObjectInfo> Head(std::string_view key) override { return inner_.Head(key); }
  absl::Status Delete(std::string_view key) override { return inner_.Delete(key); }
  absl::Status DeletePrefix(std::string_view prefix) override { return inner_.DeletePrefix(prefix); }
  absl::StatusOr<std::unique_ptr<ObjectWriter>> Create(std::string_view key) override { return inner_.Create(key); }
  absl::Status Truncate(std::string_view key, uint64_t size) override { return inner_.Truncate(key, size); }
  absl::StatusOr<std::unique_ptr<ObjectLock>> TryLock(std::string_view name) override { return inner_.TryLock(name); }
  absl::StatusOr<size_t> AbortIncompleteWrites(std::string_view prefix) override {
    return inner_.AbortIncompleteWrites(prefix);
  }
  std::string Describe() const override { return inner_.Describe(); }

 private:
  ObjectStore& inner_;
};

}  // namespace otelrr::store::testing

#endif  // OTELRR_STORE_TESTING_FORWARDING_STORE_H_
