// An in-memory ObjectStore for the fuzz targets: objects are strings in a map, a reader reads a copy of
// the object as Get found it, in chunks of at most `read_chunk` bytes (so readers see short reads at
// every boundary), and nothing touches the disk. A fake: it checks keys like the real stores, but has
// no durability to speak of.
#ifndef OTELRR_FUZZ_MEMORY_STORE_H_
#define OTELRR_FUZZ_MEMORY_STORE_H_

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status.h"
#include "store/object_store.h"
#include "store/testing/string_reader.h"

namespace otelrr::fuzz {

class MemoryStore : public store::ObjectStore {
 public:
  explicit MemoryStore(size_t read_chunk = size_t{1} << 20) : read_chunk_(std::max<size_t>(read_chunk, 1)) {}

  void set_read_chunk(size_t n) { read_chunk_ = std::max<size_t>(n, 1); }

  absl::Status Put(std::string_view key, std::string_view data) override {
    if (absl::Status s = store::ValidateKey(key); !s.ok()) return s;
    objects_[std::string(key)] = std::string(data);
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<store::ObjectReader>> Get(std::string_view key) override {
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return absl::NotFoundError(std::string(key));
    return std::unique_ptr<store::ObjectReader>(new store::testing::StringReader(it->second, read_chunk_));
  }

  absl::StatusOr<std::vector<store::ObjectInfo>> List(std::string_view prefix) override {
    std::vector<store::ObjectInfo> out;
    for (const auto& [key, data] : objects_) {
      if (key.starts_with(prefix)) out.push_back({.key = key, .size = data.size()});
    }
    return out;
  }

  absl::StatusOr<std::vector<std::string>> ListDirectories(std::string_view prefix) override {
    std::vector<std::string> out;
    for (const auto& [key, data] : objects_) {
      if (!key.starts_with(prefix)) continue;
      std::string_view rest = std::string_view(key).substr(prefix.size());
      size_t slash = rest.find('/');
      if (slash == std::string_view::npos) continue;
      std::string dir(rest.substr(0, slash));
      if (out.empty() || out.back() != dir) out.push_back(std::move(dir));
    }
    return out;
  }

  absl::StatusOr<store::ObjectInfo> Head(std::string_view key) override {
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return absl::NotFoundError(std::string(key));
    return store::ObjectInfo{.key = it->first, .size = it->second.size()};
  }

  absl::Status Delete(std::string_view key) override {
    if (objects_.erase(std::string(key)) == 0) return absl::NotFoundError(std::string(key));
    return absl::OkStatus();
  }

  absl::Status DeletePrefix(std::string_view prefix) override {
    std::erase_if(objects_, [&](const auto& kv) { return kv.first.starts_with(prefix); });
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<store::ObjectWriter>> Create(std::string_view key) override {
    if (absl::Status s = store::ValidateKey(key); !s.ok()) return s;
    auto [it, inserted] = objects_.try_emplace(std::string(key));
    if (!inserted) return absl::AlreadyExistsError(std::string(key));
    return std::unique_ptr<store::ObjectWriter>(new Writer(&it->second));
  }

  std::string Describe() const override { return "memory"; }

 private:
  class Writer : public store::ObjectWriter {
   public:
    explicit Writer(std::string* target) : target_(target) {}
    absl::Status Append(std::string_view data) override {
      target_->append(data);
      return absl::OkStatus();
    }
    absl::Status Sync() override { return absl::OkStatus(); }
    absl::Status Close() override { return absl::OkStatus(); }
    uint64_t size() const override { return target_->size(); }

   private:
    std::string* target_;
  };

  std::map<std::string, std::string> objects_;
  size_t read_chunk_;
};

}  // namespace otelrr::fuzz

#endif  // OTELRR_FUZZ_MEMORY_STORE_H_
