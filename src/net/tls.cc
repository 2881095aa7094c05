#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "fmt/format.h"

namespace otelrr::net {
namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();  // the earliest error says what went wrong first
  ERR_clear_error();
  if (e == 0) return "no detail from OpenSSL";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

// The whole file; a directory or a read error is refused by name (fopen opens a directory, fread fails on it).
absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::InvalidArgumentError(fmt::format("{} {}: cannot read the file: {}", flag, path, std::strerror(errno)));
  }
  std::string data;
  char buf[1 << 14];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  const int error = std::ferror(f) != 0 ? errno : 0;
  std::fclose(f);
  if (error != 0) {
    return absl::InvalidArgumentError(fmt::format("{} {}: cannot read the file: {}", flag, path, std::strerror(error)));
  }
  return data;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioFree> MemoryBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The PEM certificates in `pem`, counted; 0 when the first one does not parse.
int CountCertificates(const std::string& pem) {
  auto bio = MemoryBio(pem);
  int n = 0;
  while (true) {
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    ++n;
  }
  ERR_clear_error();  // the end of the file reads as an error
  return n;
}

}  // namespace

absl::StatusOr<TlsServerFiles> LoadTlsServerFiles(const TlsServerOptions& options) {
  TlsServerFiles files;
  if (!options.enabled()) return files;
  if (options.cert_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls-cert (the server's certificate, PEM) and --tls-key (its private key, PEM)");
  }
  absl::StatusOr<std::string> cert = ReadFile("--tls-cert", options.cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile("--tls-key", options.key_file);
  if (!key.ok()) return key.status();

  auto cert_bio = MemoryBio(*cert);
  std::unique_ptr<X509, X509Free> leaf(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) {
    return absl::InvalidArgumentError(fmt::format(
        "--tls-cert {}: not a PEM certificate (a file starting -----BEGIN CERTIFICATE-----): {}", options.cert_file,
        OpenSslError()));
  }
  auto key_bio = MemoryBio(*key);
  // No passphrase callback: an encrypted key fails here instead of prompting.
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
  if (!pkey) {
    return absl::InvalidArgumentError(fmt::format(
        "--tls-key {}: not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----): {}", options.key_file,
        OpenSslError()));
  }
  if (X509_check_private_key(leaf.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(fmt::format("--tls-key {} is not the private key of the certificate in --tls-cert {}",
                                                  options.key_file, options.cert_file));
  }
  files.cert_chain_pem = std::move(*cert);
  files.key_pem = std::move(*key);
  if (!options.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadFile("--tls-client-ca", options.client_ca_file);
    if (!ca.ok()) return ca.status();
    if (CountCertificates(*ca) == 0) {
      return absl::InvalidArgumentError(
          fmt::format("--tls-client-ca {}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)", options.client_ca_file));
    }
    files.client_ca_pem = std::move(*ca);
  }
  return files;
}

}  // namespace otelrr::net
