#include "server/embedded_files.h"

#include <fmt/format.h>
#include <libdeflate.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace otelrr::server {
namespace {

net::HttpResponse Page(int status, std::string content_type, std::string body) {
  net::HttpResponse r{.status = status, .content_type = std::move(content_type), .body = std::move(body)};
  r.headers = {
      {"Cache-Control", "no-cache"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
  };
  return r;
}

bool SafePath(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path.find("..") != std::string_view::npos || path.find("//") != std::string_view::npos) return false;
  return path.find('\\') == std::string_view::npos && path.find('\0') == std::string_view::npos;
}

}  // namespace

std::optional<std::string_view> EmbeddedFile(std::string_view path) {
  const internal::EmbeddedFile* begin = internal::kEmbeddedFiles;
  const internal::EmbeddedFile* end = begin + internal::kEmbeddedFileCount;
  const internal::EmbeddedFile* it =
      std::lower_bound(begin, end, path, [](const internal::EmbeddedFile& f, std::string_view p) { return f.path < p; });
  if (it == end || it->path != path) return std::nullopt;
  return it->bytes;
}

std::string_view ContentTypeOf(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".json", "application/json"},
      {".ico", "image/x-icon"},              {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (path.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

std::optional<std::string> UiFiles::Read(std::string_view path) const {
  if (options_.dir.empty()) {
    std::optional<std::string_view> bytes = EmbeddedFile(path);
    if (!bytes) return std::nullopt;
    return std::string(*bytes);
  }
  const std::string file = options_.dir + std::string(path);
  struct stat st;
  if (stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return std::move(bytes).str();
}

std::string UiFiles::Gzipped(std::string_view path, std::string_view bytes) const {
  std::lock_guard<std::mutex> lock(gzip_mu_);
  auto it = gzipped_.find(path);
  if (it != gzipped_.end()) return it->second;
  std::string out(libdeflate_gzip_compress_bound(nullptr, bytes.size()), '\0');
  libdeflate_compressor* c = libdeflate_alloc_compressor(9);
  size_t n = c == nullptr ? 0 : libdeflate_gzip_compress(c, bytes.data(), bytes.size(), out.data(), out.size());
  libdeflate_free_compressor(c);
  if (n == 0) return "";  // not compressed: sent as it is
  out.resize(n);
  return gzipped_.emplace(std::string(path), std::move(out)).first->second;
}

std::optional<net::HttpResponse> UiFiles::Serve(std::string_view method, std::string_view path,
                                                std::string_view accept_encoding) const {
  if (path == "/api" || path.starts_with("/api/")) return std::nullopt;
  if (method != "GET" && method != "HEAD") {
    net::HttpResponse r = Page(405, "text/plain; charset=utf-8", fmt::format("{} is not allowed on {}: use GET\n", method, path));
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const std::string_view file = path == "/" ? std::string_view("/index.html") : path;
  std::optional<std::string> bytes;
  if (SafePath(file)) bytes = Read(file);
  if (!bytes) {
    return Page(404, "text/plain; charset=utf-8",
                fmt::format("no such page {}: the web UI starts at /\n", path.substr(0, 200)));
  }
  net::HttpResponse r = Page(200, std::string(ContentTypeOf(file)), "");
  r.headers.emplace_back("Vary", "Accept-Encoding");
  std::string gzipped;
  if (options_.dir.empty() && net::AcceptsGzip(accept_encoding)) gzipped = Gzipped(file, *bytes);
  if (!gzipped.empty()) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    bytes = std::move(gzipped);
  }
  if (method != "HEAD") r.body = std::move(*bytes);
  return r;
}

}  // namespace otelrr::server
