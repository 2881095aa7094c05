// Shared set-up for the session tests: a LocalStore in a temp dir, a simulated clock, and helpers to
// write a session and read it back.
#ifndef OTELRR_SESSION_TESTING_FIXTURE_H_
#define OTELRR_SESSION_TESTING_FIXTURE_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "session/session_store.h"
#include "otlp/testing/requests.h"
#include "store/local_store.h"
#include "store/testing/temp_dir.h"

namespace otelrr::session::testing {

using otlp::testing::Fixed64Field;
using otlp::testing::LenField;
using otlp::testing::LogsRequest;
using otlp::testing::MetricsRequest;
using otlp::testing::TraceId;
using otlp::testing::TraceRequest;

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
    return WriterOptions{.clock = &clock_, .random_seed = 1};
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
  // Time stands still unless a test moves it: wall time kT0 + 1 h (the endTime of closed sessions).
  SimulatedClock clock_{kT0 + 3600 * 1'000'000'000ull};
};

}  // namespace otelrr::session::testing

#endif  // OTELRR_SESSION_TESTING_FIXTURE_H_
