// A directory under $TMPDIR (or /tmp) that is removed with everything in it when the object dies.
//
//   TempDir dir("otelrr-writer-benchmark");
//   LocalStore::Open({.root = dir.path()});
#ifndef OTELRR_BENCH_TEMP_DIR_H_
#define OTELRR_BENCH_TEMP_DIR_H_

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace otelrr::bench {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror(pattern.c_str());
      std::exit(1);
    }
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace otelrr::bench

#endif  // OTELRR_BENCH_TEMP_DIR_H_
