#include "session/session_store.h"

#include <algorithm>
#include <fstream>

#include "gtest/gtest.h"
#include "session/testing/fixture.h"

// In session::testing, so the fixture's names (kT0, TraceRequest...) need no using-declarations.
namespace otelrr::session::testing {
namespace {

using otlp::Signal;

class SessionStoreTest : public testing::SessionTest {
 protected:
  void WriteSession(const std::string& id, int records = 6) {
    auto w = NewWriter(id, Options());
    for (int i = 0; i < records; ++i) {
      Signal signal = static_cast<Signal>(1 + i % 3);
      std::string body = signal == Signal::kTraces    ? TraceRequest(i + 1, 2)
                         : signal == Signal::kMetrics ? MetricsRequest(3)
                                                      : LogsRequest(2, 1);
      ASSERT_TRUE(w->Append(Rec(kT0 + static_cast<uint64_t>(i), signal, body)).ok());
    }
    ASSERT_TRUE(w->Close().ok());
  }

  std::vector<std::string> Problems(const std::string& id) {
    absl::StatusOr<VerifyReport> r = sessions_->Verify(id);
    EXPECT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->ok, r->problems.empty());
    return r->problems;
  }

  static bool Mentions(const std::vector<std::string>& problems, std::string_view a, std::string_view b) {
    return std::any_of(problems.begin(), problems.end(), [&](const std::string& p) {
      return p.find(a) != std::string::npos && p.find(b) != std::string::npos;
    });
  }
};

TEST_F(SessionStoreTest, ListLoadExistsDelete) {
  WriteSession("b");
  WriteSession("a");
  ASSERT_TRUE(store_->Put("sessions/broken/metadata.json", "{").ok());
  ASSERT_TRUE(store_->Put("sessions/nometa/raw/x", "").ok());
  std::vector<std::string> problems;
  absl::StatusOr<std::vector<SessionMetadata>> all = sessions_->List(&problems);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].session_id, "a");
  EXPECT_EQ((*all)[1].session_id, "b");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("session broken: session broken: metadata.json is not valid JSON"), std::string::npos)
      << problems[0];
  EXPECT_NE(problems[1].find("nometa"), std::string::npos);

  EXPECT_TRUE(*sessions_->Exists("a"));
  EXPECT_TRUE(*sessions_->Exists("nometa"));
  EXPECT_FALSE(*sessions_->Exists("zzz"));
  ASSERT_TRUE(sessions_->Delete("a").ok());
  EXPECT_FALSE(*sessions_->Exists("a"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "sessions/a"));
  EXPECT_EQ(sessions_->Delete("a").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(*sessions_->Exists("b"));
  EXPECT_EQ(sessions_->Load("a").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SessionStoreTest, EveryEntryPointRejectsInvalidIds) {
  for (std::string id : {std::string("../x"), std::string("a/b"), std::string(""), std::string(129, 'a'),
                         std::string(".."), std::string(".")}) {
    EXPECT_EQ(sessions_->Load(id).status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(sessions_->Exists(id).status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(sessions_->Delete(id).code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(sessions_->Verify(id).status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(sessions_->OpenReader(id).status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(sessions_->Create({.session_id = id}).status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(sessions_->Save({.session_id = id}).code(), absl::StatusCode::kInvalidArgument) << id;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path().parent_path() / "x"));
}

TEST_F(SessionStoreTest, VerifyAcceptsAnIntactSessionAndRecomputesCounts) {
  WriteSession("ok");
  absl::StatusOr<VerifyReport> r = sessions_->Verify("ok");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << ::testing::PrintToString(r->problems);
  EXPECT_EQ(r->counts, sessions_->Load("ok")->counts);
  EXPECT_EQ(r->counts.spans, 2u * 2);
  EXPECT_EQ(r->counts.traces, 2u);  // trace ids 1 and 4 from spans; the logs' trace id 1 again
  EXPECT_EQ(r->files_checked, 3u);
  EXPECT_EQ(sessions_->Verify("missing").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SessionStoreTest, VerifyNamesACorruptedFile) {
  WriteSession("flip");
  SessionMetadata m = *sessions_->Load("flip");
  const FileEntry& f = m.files[1];
  std::filesystem::path path = FileOf("flip", f.path);
  {
    std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(20);
    io.put('\x7f');
  }
  std::vector<std::string> problems = Problems("flip");
  EXPECT_TRUE(Mentions(problems, f.path, "SHA-256") || Mentions(problems, f.path, "does not decode"))
      << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, f.path, "does not decode")) << ::testing::PrintToString(problems);
}

TEST_F(SessionStoreTest, VerifyCatchesTruncationCountMismatchAndUnlistedFiles) {
  WriteSession("v", 9);
  SessionMetadata m = *sessions_->Load("v");
  // A count that disagrees with the records.
  m.counts.spans += 1;
  m.captured_logs = 99;
  ASSERT_TRUE(sessions_->Save(m).ok());
  // A file nobody indexed.
  std::filesystem::copy_file(FileOf("v", m.files[0].path), FileOf("v", "raw/2026-11-26/11/stray.otlp.gz"));
  // A truncated file.
  std::filesystem::path cut = FileOf("v", m.files[2].path);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 3);

  std::vector<std::string> problems = Problems("v");
  EXPECT_TRUE(Mentions(problems, "metadata.json", "counts.spans is")) << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "metadata.json", "capturedLogs is 99")) << ::testing::PrintToString(problems);
  EXPECT_TRUE(Mentions(problems, "raw/2026-11-26/11/stray.otlp.gz", "not listed in the index"));
  EXPECT_TRUE(Mentions(problems, m.files[2].path, "bytes stored, the index records"));
  EXPECT_TRUE(Mentions(problems, m.files[2].path, "cut short"));
}

TEST_F(SessionStoreTest, VerifyReportsMissingFilesAndActiveSessions) {
  WriteSession("gone");
  SessionMetadata m = *sessions_->Load("gone");
  ASSERT_TRUE(store_->Delete("sessions/gone/" + m.files[0].path).ok());
  EXPECT_TRUE(Mentions(Problems("gone"), m.files[0].path, "missing from the store"));
  auto w = NewWriter("active", Options());
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_TRUE(Mentions(Problems("active"), "metadata.json", "status is \"active\""));
  ASSERT_TRUE(w->Close().ok());
}

}  // namespace
}  // namespace otelrr::session::testing
