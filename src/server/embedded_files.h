// The web UI's files (src/server/ui), embedded into the binary at build time by cmake/EmbedFiles.cmake,
// and the handler that serves them (or a directory of them, `otelrr serve --ui-dir DIR`, while developing).
//
//   UiFiles ui({.dir = ""});                       // "": the embedded files
//   std::optional<net::HttpResponse> r = ui.Serve("GET", "/pages/sessions.js");
//   if (!r) ...                                    // not a UI path: let the API answer
//
// "/" serves /index.html. An embedded file is sent gzipped (compressed once, on its first request) to a
// client that accepts gzip. Answers carry the file's content type, Cache-Control: no-cache (a new binary
// serves new files at once), and headers that keep the page to itself: a Content-Security-Policy that
// allows only the server's own scripts, styles, images and API (no inline script, nothing from elsewhere),
// X-Content-Type-Options: nosniff, X-Frame-Options: DENY, Referrer-Policy: no-referrer.
#ifndef OTELRR_SERVER_EMBEDDED_FILES_H_
#define OTELRR_SERVER_EMBEDDED_FILES_H_

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_server.h"

namespace otelrr::server {

namespace internal {
struct EmbeddedFile {
  std::string_view path;  // "/index.html"
  std::string_view bytes;
};
extern const std::size_t kEmbeddedFileCount;
extern const EmbeddedFile kEmbeddedFiles[];  // sorted by path
}  // namespace internal

// The embedded file at `path` ("/app.js"), or nullopt.
std::optional<std::string_view> EmbeddedFile(std::string_view path);
// "text/javascript; charset=utf-8" for ".js", and so on for the UI's kinds of file.
std::string_view ContentTypeOf(std::string_view path);

struct UiOptions {
  std::string dir = {};  // serve this directory instead of the embedded files (development)
};

class UiFiles {
 public:
  explicit UiFiles(UiOptions options) : options_(std::move(options)) {}

  // The answer to `method` `path` when the path belongs to the UI (anything but /api/...): 200 with the
  // file, 404 for a file that is not there, 405 for a method other than GET or HEAD. nullopt for /api/.
  // Paths holding "..", "//", a backslash or a NUL are refused (404) before any file is looked at.
  // `accept_encoding`: the request's Accept-Encoding header.
  std::optional<net::HttpResponse> Serve(std::string_view method, std::string_view path,
                                         std::string_view accept_encoding = "") const;

 private:
  std::optional<std::string> Read(std::string_view path) const;
  // The gzip form of embedded file `path` (whose bytes are `bytes`), made on first use and kept.
  std::string Gzipped(std::string_view path, std::string_view bytes) const;

  const UiOptions options_;
  mutable std::mutex gzip_mu_;
  mutable std::map<std::string, std::string, std::less<>> gzipped_;  // guarded by gzip_mu_
};

}  // namespace otelrr::server

#endif  // OTELRR_SERVER_EMBEDDED_FILES_H_
