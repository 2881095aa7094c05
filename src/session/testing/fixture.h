// Shared set-up for the session tests: a LocalStore in a temp dir, a fake clock, and helpers to write a
// session and read it back.
#ifndef OTELRR_SESSION_TESTING_FIXTURE_H_
#define OTELRR_SESSION_TESTING_FIXTURE_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "session/session_store.h"
#include "session/testing/requests.h"
#include "store/local_store.h"
#include "store/testing/temp_dir.h"

namespace otelrr::session::testing {

// 2026-11-26T11:45:44.123Z
inline constexpr uint64_t kT0 = 1795693544123000000ull;

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<store::LocalStore>> s = store::LocalStore::Open({.root = dir_.path()});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    sessions_ = std::make_unique<SessionStore>(*store_);
  }

  WriterOptions Options() {
    return WriterOptions{.steady_now = [this] { return now_; },
                         .wall_now_unix_nano = [] { return kT0 + 3600 * 1'000'000'000ull; },
                         .random_seed = 1};
  }

  std::unique_ptr<SessionWriter> NewWriter(std::string id, WriterOptions options) {
    absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions_->Create(
        {.session_id = std::move(id), .session_type = SessionType::kCapture, .start_time_unix_nano = kT0,
         .created_by = "test"},
        std::move(options));
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }

  static Record Rec(uint64_t arrival, otlp::Signal signal, std::string payload,
                    Transport transport = Transport::kHttp) {
    return Record{.arrival_unix_nano = arrival,
                  .signal = signal,
                  .transport = transport,
                  .encoding = Encoding::kProtobuf,
                  .payload = std::move(payload)};
  }

  std::vector<Record> ReadAll(const std::string& id, ReaderOptions options = {}) {
    std::vector<Record> out;
    absl::StatusOr<std::unique_ptr<SessionReader>> r = sessions_->OpenReader(id, std::move(options));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return out;
    Record rec;
    while (true) {
      absl::StatusOr<bool> more = (*r)->Next(&rec);
      EXPECT_TRUE(more.ok()) << more.status();
      if (!more.ok() || !*more) break;
      out.push_back(rec);
    }
    return out;
  }

  std::filesystem::path FileOf(const std::string& id, const std::string& relative) {
    return dir_.path() / "sessions" / id / relative;
  }

  store::testing::TempDir dir_;
  std::unique_ptr<store::LocalStore> store_;
  std::unique_ptr<SessionStore> sessions_;
  std::chrono::steady_clock::time_point now_{};
};

}  // namespace otelrr::session::testing

#endif  // OTELRR_SESSION_TESTING_FIXTURE_H_
