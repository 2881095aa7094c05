// An ObjectReader over bytes in memory, for tests of the readers and for in-memory stores: at most
// `max_read` bytes per Read, so a test can make reads end anywhere.
#ifndef OTELRR_STORE_TESTING_STRING_READER_H_
#define OTELRR_STORE_TESTING_STRING_READER_H_

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "store/object_store.h"

namespace otelrr::store::testing {

class StringReader : public ObjectReader {
 public:
  explicit StringReader(std::string data, size_t max_read = std::numeric_limits<size_t>::max())
      : data_(std::move(data)), max_read_(max_read) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min({n, max_read_, data_.size() - pos_});
    if (k > 0) std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t max_read_;
  size_t pos_ = 0;
};

}  // namespace otelrr::store::testing

#endif  // OTELRR_STORE_TESTING_STRING_READER_H_
