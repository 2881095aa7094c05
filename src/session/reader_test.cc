#include "session/reader.h"

#include <fstream>

#include "gtest/gtest.h"
#include "session/file_reader.h"
#include "session/testing/fixture.h"

// In session::testing, so the fixture's names (kT0, TraceRequest...) need no using-declarations.
namespace otelrr::session::testing {
namespace {

using otlp::Signal;

class ReaderTest : public testing::SessionTest {
 protected:
  // One traces file of 10 records in 10 members (member_bytes 1: every record is its own member).
  FileEntry WriteOneFile(const std::string& id) {
    WriterOptions options = Options();
    options.member_bytes = 1;
    auto w = NewWriter(id, options);
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(w->Append(Rec(kT0 + i, Signal::kTraces, TraceRequest(i + 1, 2))).ok());
    EXPECT_TRUE(w->Close().ok());
    return sessions_->Load(id)->files.at(0);
  }

  struct ReadOutcome {
    absl::Status error;  // OK when the reader came to a clean end
    int records = 0;     // read before the error or the end
  };

  // Reads session `id` with the default options until the reader fails or ends.
  ReadOutcome ReadUntilError(const std::string& id) {
    absl::StatusOr<std::unique_ptr<SessionReader>> r = sessions_->OpenReader(id);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {.error = r.status()};
    Record rec;
    ReadOutcome out;
    while (true) {
      absl::StatusOr<bool> more = (*r)->Next(&rec);
      if (!more.ok()) {
        out.error = more.status();
        return out;
      }
      if (!*more) return out;
      ++out.records;
    }
  }
};

TEST_F(ReaderTest, TruncatedLastMemberKeepsEveryEarlierMember) {
  FileEntry f = WriteOneFile("cut");
  std::filesystem::path path = FileOf("cut", f.path);
  uint64_t size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 5);  // cut into the last member's trailer

  // Default: the damage is an error naming the file.
  auto [error, read] = ReadUntilError("cut");
  EXPECT_EQ(error.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(error.message()).find(f.path), std::string::npos) << error;
  EXPECT_NE(std::string(error.message()).find("cut short"), std::string::npos) << error;
  EXPECT_EQ(read, 9);

  // Stop-at-damage: the 9 intact members, then a clean end and a report of what was dropped.
  absl::StatusOr<std::unique_ptr<SessionReader>> r = sessions_->OpenReader("cut", {.stop_at_damage = true});
  ASSERT_TRUE(r.ok());
  Record rec;
  std::vector<uint64_t> sequences;
  while (true) {
    absl::StatusOr<bool> more = (*r)->Next(&rec);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    sequences.push_back(rec.sequence);
  }
  EXPECT_EQ(sequences, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  ASSERT_EQ((*r)->damage().size(), 1u);
  const FileDamage& d = (*r)->damage()[0];
  EXPECT_EQ(d.key, "sessions/cut/" + f.path);
  EXPECT_EQ(d.valid_bytes + d.dropped_bytes, size - 5);
  EXPECT_GT(d.dropped_bytes, 0u);
  // Cutting the file at valid_bytes leaves a file that reads cleanly.
  std::filesystem::resize_file(path, d.valid_bytes);
  absl::StatusOr<std::unique_ptr<FileReader>> fr = FileReader::Open(*store_, d.key, {});
  ASSERT_TRUE(fr.ok());
  int n = 0;
  while (*(*fr)->Next(&rec)) ++n;
  EXPECT_EQ(n, 9);
  EXPECT_EQ((*fr)->members(), 9u);
}

TEST_F(ReaderTest, CorruptByteInAMemberIsDataLossNamingTheFile) {
  FileEntry f = WriteOneFile("flip");
  std::filesystem::path path = FileOf("flip", f.path);
  {
    std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(static_cast<std::streamoff>(f.size_bytes / 2));
    char c;
    io.read(&c, 1);
    io.seekp(static_cast<std::streamoff>(f.size_bytes / 2));
    c = static_cast<char>(c ^ 0x55);
    io.write(&c, 1);
  }
  absl::Status error = ReadUntilError("flip").error;
  EXPECT_EQ(error.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(error.message()).find(f.path), std::string::npos) << error;
}

TEST_F(ReaderTest, ReadsAnActiveSessionByListingItsFiles) {
  WriterOptions options = Options();
  options.max_file_bytes = 1;  // a file per member
  options.member_bytes = 1;
  {
    auto w = NewWriter("crashed", options);
    for (int i = 0; i < 12; ++i) {
      Signal signal = static_cast<Signal>(1 + i % 3);
      std::string body = signal == Signal::kTraces    ? TraceRequest(1, 1)
                         : signal == Signal::kMetrics ? MetricsRequest(1)
                                                      : LogsRequest(1);
      // Arrivals interleave across signals, a few ms apart so file names order them.
      ASSERT_TRUE(w->Append(Rec(kT0 + static_cast<uint64_t>(12 - i) * 1'000'000, signal, body)).ok());
    }
    // Destroyed without Close(): metadata.json stays "active" and has no index, as after a crash.
  }
  EXPECT_EQ(sessions_->Load("crashed")->status, SessionStatus::kActive);
  absl::StatusOr<std::unique_ptr<SessionReader>> r = sessions_->OpenReader("crashed");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)->using_index());
  EXPECT_EQ((*r)->files().size(), 12u);
  std::vector<Record> got = ReadAll("crashed");
  ASSERT_EQ(got.size(), 12u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].sequence, 11 - i);
}

TEST_F(ReaderTest, FiltersBySignal) {
  auto w = NewWriter("mix", Options());
  for (int i = 0; i < 9; ++i) {
    Signal signal = static_cast<Signal>(1 + i % 3);
    std::string body = signal == Signal::kTraces    ? TraceRequest(1, 1)
                       : signal == Signal::kMetrics ? MetricsRequest(1)
                                                    : LogsRequest(1);
    ASSERT_TRUE(w->Append(Rec(kT0 + static_cast<uint64_t>(i), signal, body)).ok());
  }
  ASSERT_TRUE(w->Close().ok());
  std::vector<Record> got = ReadAll("mix", {.signals = {Signal::kLogs, Signal::kTraces}});
  std::vector<uint64_t> sequences;
  for (const Record& r : got) {
    EXPECT_NE(r.signal, Signal::kMetrics);
    sequences.push_back(r.sequence);
  }
  EXPECT_EQ(sequences, (std::vector<uint64_t>{0, 2, 3, 5, 6, 8}));
  EXPECT_EQ(ReadAll("mix", {.use_index = false}).size(), 9u);
}

TEST_F(ReaderTest, MissingSessionAndInvalidIds) {
  EXPECT_EQ(sessions_->OpenReader("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sessions_->OpenReader("../etc").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace otelrr::session::testing
