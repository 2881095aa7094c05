#include "session/internal/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

#include <fmt/format.h>

namespace otelrr::session::internal {

void Sha256::CtxDeleter::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  // Failing here means OpenSSL cannot allocate or lacks SHA-256: nothing sensible can continue.
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) std::abort();
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(std::string_view data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_.get(), data.data(), data.size());
}

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), digest, &len);
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

absl::StatusOr<std::pair<std::string, uint64_t>> HashObject(store::ObjectStore& store, const std::string& key) {
  return StreamObject(store, key, [](std::string_view) { return absl::OkStatus(); });
}

absl::StatusOr<std::pair<std::string, uint64_t>> StreamObject(store::ObjectStore& store, const std::string& key,
                                                               const std::function<absl::Status(std::string_view)>& sink) {
  absl::StatusOr<std::unique_ptr<store::ObjectReader>> reader = store.Get(key);
  if (!reader.ok()) return reader.status();
  Sha256 sha;
  uint64_t size = 0;
  std::string buf(1 << 20, '\0');
  while (true) {
    absl::StatusOr<size_t> n = (*reader)->Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    std::string_view chunk(buf.data(), *n);
    sha.Update(chunk);
    size += *n;
    if (absl::Status s = sink(chunk); !s.ok()) return s;
  }
  return std::make_pair(sha.HexDigest(), size);
}

}  // namespace otelrr::session::internal
