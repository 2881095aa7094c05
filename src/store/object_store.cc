#include "store/object_store.h"

#include <fmt/format.h>

#include "store/local_store.h"
#include "store/s3_store.h"

namespace otelrr::store {

absl::StatusOr<std::string> ObjectStore::ReadAll(std::string_view key) {
  absl::StatusOr<std::unique_ptr<ObjectReader>> reader = Get(key);
  if (!reader.ok()) return reader.status();
  std::string out;
  char buf[64 * 1024];
  while (true) {
    absl::StatusOr<size_t> n = (*reader)->Read(buf, sizeof(buf));
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf, *n);
  }
  return out;
}

absl::Status ObjectStore::Truncate(std::string_view key, uint64_t size) {
  return absl::UnimplementedError(
      fmt::format("store {} cannot truncate objects (asked to cut {} to {} bytes)", Describe(), key, size));
}

absl::StatusOr<size_t> ObjectStore::AbortIncompleteWrites(std::string_view) { return size_t{0}; }

absl::StatusOr<std::unique_ptr<ObjectLock>> ObjectStore::TryLock(std::string_view name) {
  return absl::UnimplementedError(fmt::format("store {} has no locks (asked for lock {})", Describe(), name));
}

absl::Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("invalid object key \"{}\": {}", key, why));
  };
  if (key.empty()) return bad("it is empty");
  if (key.find('\0') != std::string_view::npos) return bad("it contains a NUL byte");
  if (key.front() == '/') return bad("it must be relative (no leading '/')");
  if (key.back() == '/') return bad("it must not end with '/'");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty()) return bad("it has an empty path segment ('//')");
    if (segment == "." || segment == "..") return bad("'.' and '..' segments are not allowed");
    start = end + 1;
  }
  return absl::OkStatus();
}

absl::Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return absl::OkStatus();
  if (prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.empty()) return absl::InvalidArgumentError("invalid key prefix \"/\": it must be relative");
  return ValidateKey(prefix);
}

absl::StatusOr<std::unique_ptr<ObjectStore>> OpenStore(std::string_view uri, bool create) {
  if (uri.empty()) {
    return absl::InvalidArgumentError("empty store location: give a directory path or a file:// URI");
  }
  std::string_view path = uri;
  if (uri.starts_with("s3://")) {
    absl::StatusOr<S3Config> config = S3ConfigFromEnvironment(uri);
    if (!config.ok()) return config.status();
    absl::StatusOr<std::unique_ptr<S3Store>> s3 = S3Store::Open(std::move(*config));
    if (!s3.ok()) return s3.status();
    return std::unique_ptr<ObjectStore>(std::move(*s3));
  }
  if (uri.starts_with("file://")) {
    path = uri.substr(7);
    // file://localhost/path is the long form of file:///path.
    if (path.starts_with("localhost/")) path.remove_prefix(9);
    if (!path.starts_with("/")) {
      return absl::InvalidArgumentError(fmt::format(
          "store URI \"{}\": a file:// URI needs an absolute path (file:///srv/otelrr); use a plain path "
          "for a relative directory",
          uri));
    }
  } else if (uri.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(fmt::format(
        "store \"{}\": unsupported scheme; use a directory path, a file:// URI or s3://bucket/prefix",
        uri));
  }
  absl::StatusOr<std::unique_ptr<LocalStore>> local = LocalStore::Open({.root = std::string(path), .create_root = create});
  if (!local.ok()) return local.status();
  return std::unique_ptr<ObjectStore>(std::move(*local));
}

}  // namespace otelrr::store
