// An ObjectReader over bytes in memory, for tests of the readers: at most `max_read` bytes per Read, so
// tests can make reads end anywhere.
#ifndef OTELRR_SESSION_TESTING_STRING_READER_H_
#define OTELRR_SESSION_TESTING_STRING_READER_H_

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "store/object_store.h"

namespace otelrr::session::testing {

class StringReader : public store::ObjectReader {
 public:
  explicit StringReader(std::string data, size_t max_read = std::numeric_limits<size_t>::max())
      : data_(std::move(data)), max_read_(max_read) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min({n, max_read_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t max_read_;
  size_t pos_ = 0;
};

}  // namespace otelrr::session::testing

#endif  // OTELRR_SESSION_TESTING_STRING_READER_H_
