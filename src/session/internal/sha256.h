// Streaming SHA-256 (OpenSSL EVP), for the checksums of the file index.
//
//   Sha256 h;  h.Update(a);  h.Update(b);  std::string hex = h.HexDigest();
#ifndef OTELRR_SESSION_INTERNAL_SHA256_H_
#define OTELRR_SESSION_INTERNAL_SHA256_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "store/object_store.h"

struct evp_md_ctx_st;

namespace otelrr::session::internal {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(std::string_view data);
  // Lowercase hex of the digest of everything passed to Update. Call once.
  std::string HexDigest();

 private:
  struct CtxDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;
};

// The lowercase hex SHA-256 and the size of an object's stored bytes, read as a stream.
absl::StatusOr<std::pair<std::string, uint64_t>> HashObject(store::ObjectStore& store, const std::string& key);

// Reads an object as a stream, handing each chunk (at most 1 MiB) to `sink` as it hashes it: the SHA-256 and
// size of the bytes read, or the first error of the store or of `sink`. Copies and packs read this way.
absl::StatusOr<std::pair<std::string, uint64_t>> StreamObject(store::ObjectStore& store, const std::string& key,
                                                               const std::function<absl::Status(std::string_view)>& sink);

}  // namespace otelrr::session::internal

#endif  // OTELRR_SESSION_INTERNAL_SHA256_H_
