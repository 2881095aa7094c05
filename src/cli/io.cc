#include "cli/io.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "fmt/format.h"

namespace otelrr::cli {

void Print(std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); }

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  const int error = std::ferror(f) != 0 ? errno : 0;
  if (f != stdin) std::fclose(f);
  if (error != 0) return absl::DataLossError(fmt::format("{}: read error: {}", path, std::strerror(error)));
  return data;
}

OutputFile::~OutputFile() {
  if (file_ == nullptr || file_ == stdout) return;
  std::fclose(file_);
  if (!in_place_) std::remove(tmp_.c_str());
}

std::string OutputFile::name() const { return path_.empty() || path_ == "-" ? "standard output" : path_; }

absl::Status OutputFile::Open() {
  if (path_.empty() || path_ == "-") {
    file_ = stdout;
    return absl::OkStatus();
  }
  struct stat st;
  if (stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    file_ = std::fopen(path_.c_str(), "wb");
    if (file_ == nullptr) {
      return absl::PermissionDeniedError(fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
    }
    in_place_ = true;
    return absl::OkStatus();
  }
  tmp_ = path_ + ".tmp";
  file_ = std::fopen(tmp_.c_str(), "wb");
  if (file_ == nullptr) {
    return absl::PermissionDeniedError(fmt::format("{}: cannot create: {}", path_, std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status OutputFile::Write(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    return absl::UnavailableError(fmt::format("{}: write failed: {}", name(), std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status OutputFile::Commit() {
  if (file_ == stdout) {
    if (std::fflush(stdout) != 0) return absl::UnavailableError("standard output: write failed");
    return absl::OkStatus();
  }
  std::FILE* f = file_;
  file_ = nullptr;
  const bool closed = std::fclose(f) == 0;
  if (in_place_) {
    if (!closed) return absl::UnavailableError(fmt::format("{}: write failed", path_));
    return absl::OkStatus();
  }
  if (!closed || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp_.c_str());
    return absl::UnavailableError(fmt::format("{}: write failed: {}", path_, why));
  }
  return absl::OkStatus();
}

absl::Status WriteOutput(const std::string& path, std::string_view data) {
  OutputFile out(path);
  if (absl::Status s = out.Open(); !s.ok()) return s;
  if (absl::Status s = out.Write(data); !s.ok()) return s;
  return out.Commit();
}

}  // namespace otelrr::cli
