// A fresh directory under $TMPDIR for one test, removed with everything in it when the object dies.
//
//   TempDir dir;
//   auto store = LocalStore::Open({.root = dir.path()});
#ifndef OTELRR_STORE_TESTING_TEMP_DIR_H_
#define OTELRR_STORE_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace otelrr::store::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "otelrr-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace otelrr::store::testing

#endif  // OTELRR_STORE_TESTING_TEMP_DIR_H_
