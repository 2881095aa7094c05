#include "session/writer.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "common/status.h"
#include "gtest/gtest.h"
#include "otlp/wire.h"
#include "session/layout.h"
#include "session/testing/fixture.h"
#include "session/time_format.h"
#include "store/testing/forwarding_store.h"

// In session::testing, so the fixture's names (kT0, TraceRequest...) need no using-declarations.
namespace otelrr::session::testing {
namespace {

using otlp::Signal;

class WriterTest : public testing::SessionTest {};

// Every compression writes and reads back the same records.
class WriterCompressionTest : public testing::SessionTest, public ::testing::WithParamInterface<Compression> {
 protected:
  WriterOptions CompressedOptions() {
    WriterOptions o = Options();
    o.compression = GetParam();
    return o;
  }
};

INSTANTIATE_TEST_SUITE_P(AllCompressions, WriterCompressionTest, ::testing::ValuesIn(kCompressions),
                         [](const auto& p) { return std::string(CompressionName(p.param)); });

std::string Slurp(const std::filesystem::path& p) {
  std::string out(std::filesystem::file_size(p), '\0');
  std::ifstream in(p, std::ios::binary);
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

TEST_P(WriterCompressionTest, RoundTripsExactRecordsInOrderAcrossSignalsAndRotatedFiles) {
  WriterOptions options = CompressedOptions();
  options.member_bytes = 600;     // several members per file
  options.max_file_bytes = 1000;  // several files per signal
  auto w = NewWriter("s1", options);
  ASSERT_NE(w, nullptr);
  std::vector<Record> expected;
  for (int i = 0; i < 150; ++i) {
    Signal signal = static_cast<Signal>(1 + i % 3);
    std::string payload = signal == Signal::kTraces    ? TraceRequest(i % 10 + 1, 1 + i % 4)
                          : signal == Signal::kMetrics ? MetricsRequest(1 + i % 5)
                                                       : LogsRequest(1 + i % 2, i % 7 + 1);
    // Two records share each arrival time: the sequence number orders them.
    Record r = Rec(kT0 + static_cast<uint64_t>(i / 2) * 1'000'000, signal, payload,
                   i % 2 ? Transport::kGrpc : Transport::kHttp);
    r.encoding = i % 4 == 0 ? Encoding::kJson : Encoding::kProtobuf;
    ASSERT_TRUE(w->Append(r).ok());
    r.sequence = static_cast<uint64_t>(i);
    expected.push_back(r);
  }
  ASSERT_TRUE(w->Close().ok());

  std::vector<Record> got = ReadAll("s1");
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i]) << "record " << i;

  absl::StatusOr<SessionMetadata> m = sessions_->Load("s1");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->status, SessionStatus::kCompleted);
  EXPECT_EQ(m->counts.trace_requests, 50u);
  EXPECT_EQ(m->counts.metric_requests, 50u);
  EXPECT_EQ(m->counts.log_requests, 50u);
  EXPECT_EQ(m->counts.traces, 10u);  // trace ids 1..10 (log trace ids 1..7 are among them)
  uint64_t spans = 0, points = 0, logs = 0;
  for (int i = 0; i < 150; ++i) {
    if (i % 3 == 0) spans += 1 + i % 4;
    if (i % 3 == 1) points += 1 + i % 5;
    if (i % 3 == 2) logs += 1 + i % 2;
  }
  EXPECT_EQ(m->counts.spans, spans);
  EXPECT_EQ(m->captured_metrics, points);
  EXPECT_EQ(m->captured_logs, logs);
  EXPECT_EQ(*m->first_arrival_unix_nano, kT0);
  EXPECT_EQ(*m->last_arrival_unix_nano, kT0 + 74 * 1'000'000);
  EXPECT_EQ(m->end_time_unix_nano, kT0 + 3600 * 1'000'000'000ull);
  EXPECT_EQ(m->s3_prefix, "sessions/s1/");
  EXPECT_GT(m->files.size(), 6u);  // rotated: more than one file per signal
  uint64_t total = 0;
  for (const FileEntry& f : m->files) {
    EXPECT_EQ(std::filesystem::file_size(FileOf("s1", f.path)), f.size_bytes);
    total += f.size_bytes;
    RawFileName name;
    ASSERT_TRUE(ParseRawFilePath(f.path, &name)) << f.path;
    EXPECT_EQ(name.signal, f.signal);
    EXPECT_EQ(name.timestamp_unix_milli, f.first_arrival_unix_nano / 1'000'000);
    EXPECT_EQ(name.partition, "2026-11-26/11");
    EXPECT_EQ(name.uuid.size(), 36u);
    EXPECT_EQ(name.uuid[14], '4');  // version 4
    EXPECT_EQ(name.compression, GetParam());
    EXPECT_EQ(f.compression, GetParam());
  }
  EXPECT_EQ(m->total_size_bytes, total);
  EXPECT_TRUE(std::is_sorted(m->files.begin(), m->files.end(), [](const FileEntry& a, const FileEntry& b) {
    return a.first_arrival_unix_nano < b.first_arrival_unix_nano;
  }));

  absl::StatusOr<VerifyReport> v = sessions_->Verify("s1");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << ::testing::PrintToString(v->problems);
  EXPECT_EQ(v->records, 150u);
}

TEST_F(WriterTest, OutOfOrderArrivalsStartANewFileAndReadBackSorted) {
  auto w = NewWriter("ooo", Options());
  for (uint64_t t : {10, 5, 7, 20}) ASSERT_TRUE(w->Append(Rec(kT0 + t, Signal::kTraces, TraceRequest(t, 1))).ok());
  ASSERT_TRUE(w->Close().ok());
  std::vector<Record> got = ReadAll("ooo");
  std::vector<uint64_t> arrivals, sequences;
  for (const Record& r : got) {
    arrivals.push_back(r.arrival_unix_nano - kT0);
    sequences.push_back(r.sequence);
  }
  EXPECT_EQ(arrivals, (std::vector<uint64_t>{5, 7, 10, 20}));
  EXPECT_EQ(sequences, (std::vector<uint64_t>{1, 2, 0, 3}));
  absl::StatusOr<SessionMetadata> m = sessions_->Load("ooo");
  ASSERT_EQ(m->files.size(), 2u);
  EXPECT_EQ(m->files[0].first_arrival_unix_nano, kT0 + 5);  // the index is sorted by first arrival
  EXPECT_EQ(m->files[0].records, 3u);
  EXPECT_EQ(m->files[1].records, 1u);
  EXPECT_TRUE(sessions_->Verify("ooo")->ok);
}

TEST_F(WriterTest, HourRolloverStartsAFileInTheNextPartition) {
  // 2026-11-26T11:59:59.900Z and 12:00:00.100Z
  uint64_t before = *ParseRfc3339("2026-11-26T11:59:59.900Z");
  uint64_t after = *ParseRfc3339("2026-11-26T12:00:00.100Z");
  auto w = NewWriter("hour", Options());
  ASSERT_TRUE(w->Append(Rec(before, Signal::kLogs, LogsRequest(1))).ok());
  ASSERT_TRUE(w->Append(Rec(after, Signal::kLogs, LogsRequest(2))).ok());
  ASSERT_TRUE(w->Close().ok());
  absl::StatusOr<SessionMetadata> m = sessions_->Load("hour");
  ASSERT_EQ(m->files.size(), 2u);
  EXPECT_TRUE(m->files[0].path.starts_with("raw/2026-11-26/11/logs-1795694399900-")) << m->files[0].path;
  EXPECT_TRUE(m->files[1].path.starts_with("raw/2026-11-26/12/logs-1795694400100-")) << m->files[1].path;
  EXPECT_EQ(ReadAll("hour").size(), 2u);
}

TEST_F(WriterTest, EachCompressionWritesItsOwnFormat) {
  std::string payload = TraceRequest(1, 50);  // repetitive: compresses well
  const uint64_t framed = 20 * (32 + payload.size());
  struct Case {
    std::string id;
    Compression compression;
    int level;
    std::string magic;
  };
  std::map<std::string, uint64_t> sizes;
  for (const Case& c : {Case{"gzip0", Compression::kGzip, 0, std::string("\x1f\x8b\x08", 3)},  // gzip, deflate
                        Case{"gzip1", Compression::kGzip, 1, std::string("\x1f\x8b\x08", 3)},
                        Case{"zstd1", Compression::kZstd, 1, std::string("\x28\xb5\x2f\xfd", 4)},
                        Case{"zstd-3", Compression::kZstd, -3, std::string("\x28\xb5\x2f\xfd", 4)},
                        Case{"none", Compression::kNone, 0, "OTR1"}}) {
    SCOPED_TRACE(c.id);
    WriterOptions options = Options();
    options.compression = c.compression;
    options.compression_level = c.level;
    auto w = NewWriter(c.id, options);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(w->Append(Rec(kT0 + i, Signal::kTraces, payload)).ok());
    ASSERT_TRUE(w->Close().ok());
    absl::StatusOr<SessionMetadata> m = sessions_->Load(c.id);
    ASSERT_EQ(m->files.size(), 1u);
    EXPECT_EQ(m->files[0].compression, c.compression);
    EXPECT_TRUE(m->files[0].path.ends_with(RawFileSuffix(c.compression))) << m->files[0].path;
    std::string bytes = Slurp(FileOf(c.id, m->files[0].path));
    EXPECT_EQ(bytes.substr(0, c.magic.size()), c.magic);
    sizes[c.id] = bytes.size();
    EXPECT_EQ(m->files[0].uncompressed_bytes, framed);
    EXPECT_EQ(ReadAll(c.id).size(), 20u);
    EXPECT_TRUE(sessions_->Verify(c.id)->ok);
  }
  EXPECT_GT(sizes["gzip0"], framed);  // stored blocks: no smaller than the records
  EXPECT_EQ(sizes["none"], framed);   // the records themselves
  EXPECT_LT(sizes["gzip1"] * 5, sizes["gzip0"]);
  EXPECT_LT(sizes["zstd1"] * 5, sizes["none"]);
  EXPECT_LT(sizes["zstd-3"] * 2, sizes["none"]);
}

TEST_F(WriterTest, RefusesALevelTheCompressionDoesNotHave) {
  for (auto [compression, level, message] :
       {std::tuple{Compression::kGzip, 13, "gzip level 13 is out of range: use 0 (stored, no compression) to 12"},
        std::tuple{Compression::kZstd, 0, "zstd level 0 is out of range: use 1 to 19 (or -7 to -1, faster and larger)"},
        std::tuple{Compression::kZstd, 20, "zstd level 20 is out of range"},
        std::tuple{Compression::kNone, 1, "compression none takes no level (got 1)"}}) {
    WriterOptions options = Options();
    options.compression = compression;
    options.compression_level = level;
    absl::StatusOr<std::unique_ptr<SessionWriter>> w =
        sessions_->Create({.session_id = "bad-level", .session_type = SessionType::kCapture}, options);
    ASSERT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(std::string(w.status().message()).starts_with(message)) << w.status();
  }
  EXPECT_FALSE(sessions_->Exists("bad-level").value_or(true));
}

TEST_F(WriterTest, RejectsMalformedRequestsAndWritesNothing) {
  auto w = NewWriter("bad", Options());
  absl::Status s = w->Append(Rec(kT0, Signal::kTraces, "\x0a\xff garbage"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("not a valid OTLP traces request"), std::string::npos) << s;
  EXPECT_EQ(w->Append(Rec(kT0, static_cast<Signal>(9), "")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w->records(), 0u);
  ASSERT_TRUE(w->Append(Rec(kT0, Signal::kTraces, TraceRequest(1, 1))).ok());
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(ReadAll("bad")[0].sequence, 0u);  // the rejected requests took no sequence number
  EXPECT_EQ(w->Append(Rec(kT0, Signal::kTraces, TraceRequest(1, 1))).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(WriterTest, MembersAreWrittenWhenTheFlushIntervalPasses) {
  WriterOptions options = Options();
  options.flush_interval = std::chrono::seconds(1);
  auto w = NewWriter("timed", options);
  ASSERT_TRUE(w->Append(Rec(kT0, Signal::kMetrics, MetricsRequest(1))).ok());
  std::vector<store::ObjectInfo> files = *store_->List("sessions/timed/raw/");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].size, 0u);  // buffered
  clock_.Advance(std::chrono::milliseconds(999));
  ASSERT_TRUE(w->FlushDue().ok());
  EXPECT_EQ(store_->Head(files[0].key)->size, 0u);
  clock_.Advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(w->FlushDue().ok());
  uint64_t one_member = store_->Head(files[0].key)->size;
  EXPECT_GT(one_member, 0u);
  // Flush() writes (and syncs) whatever is pending, without waiting.
  ASSERT_TRUE(w->Append(Rec(kT0 + 1, Signal::kMetrics, MetricsRequest(1))).ok());
  EXPECT_EQ(store_->Head(files[0].key)->size, one_member);
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_GT(store_->Head(files[0].key)->size, one_member);
  ASSERT_TRUE(w->Close().ok());
}

TEST_F(WriterTest, CreateWritesActiveMetadataAndRefusesExistingSessions) {
  auto w = NewWriter("live", Options());
  absl::StatusOr<SessionMetadata> m = sessions_->Load("live");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, SessionStatus::kActive);
  EXPECT_EQ(m->start_time_unix_nano, kT0);
  EXPECT_EQ(sessions_->Create({.session_id = "live"}, Options()).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(w->Close(SessionStatus::kFailed, "interrupted").ok());
  m = sessions_->Load("live");
  EXPECT_EQ(m->status, SessionStatus::kFailed);
  EXPECT_EQ(m->status_reason, "interrupted");
  EXPECT_EQ(sessions_->Create({.session_id = "../x"}, Options()).status().code(), absl::StatusCode::kInvalidArgument);
  WriterOptions bad = Options();
  bad.compression_level = 20;  // zstd goes to 19
  EXPECT_EQ(sessions_->Create({.session_id = "lvl"}, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(WriterTest, MetadataCarriesPhasesAndGeneratorSetBeforeClose) {
  auto w = NewWriter("seed", Options());
  w->metadata().phases.push_back(
      {.name = "incident", .annotation_key = "phase.incident", .start_time_unix_nano = kT0, .flags = {"f"}});
  w->metadata().generator_json = R"({"pattern":"ecommerce"})";
  ASSERT_TRUE(w->Close().ok());
  absl::StatusOr<SessionMetadata> m = sessions_->Load("seed");
  ASSERT_EQ(m->phases.size(), 1u);
  EXPECT_EQ(m->phases[0].annotation_key, "phase.incident");
  EXPECT_EQ(m->generator_json, R"({"pattern":"ecommerce"})");
  EXPECT_FALSE(m->first_arrival_unix_nano.has_value());
  EXPECT_TRUE(sessions_->Verify("seed")->ok);
}

// The records of a session with every signal, rotated files and several members per file.
std::vector<Record> MixedRecords(int n) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    Signal signal = static_cast<Signal>(1 + i % 3);
    // Traces 1..n/3 appear first in trace requests; logs refer to traces already seen (or none).
    std::string payload = signal == Signal::kTraces    ? TraceRequest(static_cast<uint64_t>(i / 3 + 1), 1 + i % 4)
                          : signal == Signal::kMetrics ? MetricsRequest(1 + i % 5)
                                                       : LogsRequest(1 + i % 2, static_cast<uint64_t>(i / 6));
    out.push_back(Record{.arrival_unix_nano = kT0 + static_cast<uint64_t>(i / 2) * 1'000'000, .signal = signal,
                         .transport = Transport::kHttp, .payload = std::move(payload)});
  }
  return out;
}

std::map<std::string, std::string> RawFiles(store::ObjectStore& store, const std::string& id) {
  std::map<std::string, std::string> files;
  std::string prefix = "sessions/" + id + "/";
  absl::StatusOr<std::vector<store::ObjectInfo>> objects = store.List(prefix + "raw/");
  EXPECT_TRUE(objects.ok()) << objects.status();
  if (!objects.ok()) return files;
  for (const store::ObjectInfo& o : *objects) files[o.key.substr(prefix.size())] = *store.ReadAll(o.key);
  return files;
}

// Appends each record to `reference` with Append, and to `other` with `append`, which is given the
// counts Append takes from the record's request (otlp::Summarize; new_traces left 0).
void AppendToBoth(const std::vector<Record>& records, SessionWriter& reference, SessionWriter& other,
                  const std::function<absl::Status(SessionWriter&, const Record&, RecordCounts)>& append) {
  for (const Record& r : records) {
    ASSERT_TRUE(reference.Append(r).ok());
    absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(r.signal, r.payload);
    ASSERT_TRUE(summary.ok());
    RecordCounts counts{.spans = summary->spans, .data_points = summary->data_points,
                        .log_records = summary->log_records};
    ASSERT_TRUE(append(other, r, counts).ok());
  }
}

// Closes the writer and returns what its session's metadata.json then holds.
SessionMetadata CloseAndLoad(SessionStore& sessions, SessionWriter& writer) {
  EXPECT_TRUE(writer.Close().ok());
  absl::StatusOr<SessionMetadata> m = sessions.Load(writer.metadata().session_id);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : SessionMetadata{};
}

TEST_F(WriterTest, AppendTrustedCountsLikeAppend) {
  WriterOptions options = Options();
  options.member_bytes = 600;
  options.max_file_bytes = 1500;
  auto untrusted = NewWriter("untrusted", options);
  auto trusted = NewWriter("trusted", options);
  auto append_trusted = [](SessionWriter& w, const Record& r, RecordCounts counts) {
    counts.new_traces = r.signal == Signal::kTraces ? 1u : 0u;
    return w.AppendTrusted(r, counts);
  };
  ASSERT_NO_FATAL_FAILURE(AppendToBoth(MixedRecords(150), *untrusted, *trusted, append_trusted));
  SessionMetadata u = CloseAndLoad(*sessions_, *untrusted);
  SessionMetadata t = CloseAndLoad(*sessions_, *trusted);
  EXPECT_EQ(t.counts.traces, 50u);
  EXPECT_EQ(t.counts, u.counts);
  EXPECT_EQ(t.captured_traces, u.captured_traces);
  EXPECT_EQ(t.captured_metrics, u.captured_metrics);
  EXPECT_EQ(t.captured_logs, u.captured_logs);
  EXPECT_EQ(t.files, u.files);
  EXPECT_EQ(RawFiles(*store_, "trusted"), RawFiles(*store_, "untrusted"));
  absl::StatusOr<VerifyReport> v = sessions_->Verify("trusted");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << ::testing::PrintToString(v->problems);
  EXPECT_EQ(v->records, 150u);
}

TEST_F(WriterTest, AppendWalkedCountsLikeAppend) {
  WriterOptions options = Options();
  options.member_bytes = 600;
  std::vector<Record> records = MixedRecords(150);
  auto plain = NewWriter("plain", options);
  auto walked = NewWriter("walked", options);
  auto append_walked = [](SessionWriter& w, const Record& r, const RecordCounts& counts) {
    std::string ids;
    absl::Status s = otlp::ForEachTraceId(r.signal, r.payload, [&](const uint8_t* id) {
      ids.append(reinterpret_cast<const char*>(id), 16);
    });
    if (!s.ok()) return s;
    return w.AppendWalked(r, counts, ids);
  };
  ASSERT_NO_FATAL_FAILURE(AppendToBoth(records, *plain, *walked, append_walked));
  EXPECT_EQ(walked->AppendWalked(records[0], {}, "short").code(), absl::StatusCode::kInvalidArgument);
  SessionMetadata p = CloseAndLoad(*sessions_, *plain);
  SessionMetadata w = CloseAndLoad(*sessions_, *walked);
  EXPECT_EQ(w.counts.traces, 50u);
  EXPECT_EQ(w.counts, p.counts);
  EXPECT_EQ(RawFiles(*store_, "walked"), RawFiles(*store_, "plain"));
}

// A session with more traces than the distinct-trace counter keeps in memory: ids spill to sorted runs, the
// count while writing is an upper bound, and Close() writes the exact count (the one verify recomputes).
TEST_F(WriterTest, SpilledTraceIdsStillCountExactlyAtClose) {
  WriterOptions options = Options();
  options.trace_ids.max_memory_ids = 7;
  auto writer = NewWriter("spilled", options);
  std::vector<Record> records = MixedRecords(150);
  for (int pass = 0; pass < 2; ++pass) {  // every trace id twice, the second time several spills later
    for (const Record& r : records) ASSERT_TRUE(writer->Append(r).ok());
  }
  EXPECT_GT(writer->counts().traces, 50u);  // the second pass met its ids again only in spilled runs
  SessionMetadata m = CloseAndLoad(*sessions_, *writer);
  EXPECT_EQ(m.counts.traces, 50u);
  EXPECT_EQ(m.captured_traces, 50u);
  absl::StatusOr<VerifyReport> v = sessions_->Verify("spilled");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << ::testing::PrintToString(v->problems);
}

TEST_F(WriterTest, CompressionThreadsWriteTheSameBytes) {
  // Small members and files, so the pool is often full and files rotate on their compressed size.
  std::vector<Record> records = MixedRecords(600);
  constexpr int kThreads[] = {0, 1, 2, 4};
  for (uint64_t max_file_bytes : {1500ull, 128ull << 20}) {
    std::map<int, std::map<std::string, std::string>> files;
    std::map<int, std::vector<FileEntry>> index;
    for (int threads : kThreads) {
      WriterOptions options = Options();
      options.member_bytes = 600;
      options.max_file_bytes = max_file_bytes;
      options.compression_threads = threads;
      std::string id = fmt::format("threads{}-{}", threads, max_file_bytes);
      auto w = NewWriter(id, options);
      for (const Record& r : records) ASSERT_TRUE(w->Append(r).ok());
      ASSERT_TRUE(w->Close().ok());
      files[threads] = RawFiles(*store_, id);
      index[threads] = sessions_->Load(id)->files;
      absl::StatusOr<VerifyReport> v = sessions_->Verify(id);
      ASSERT_TRUE(v.ok()) << v.status();
      EXPECT_TRUE(v->ok) << ::testing::PrintToString(v->problems);
      EXPECT_EQ(ReadAll(id).size(), records.size());
    }
    EXPECT_EQ(files[0].size(), max_file_bytes == 1500 ? index[0].size() : 3u);
    EXPECT_GT(files[0].size(), 2u);
    for (int threads : kThreads) {
      EXPECT_TRUE(files[0] == files[threads]) << max_file_bytes << " " << threads;
      EXPECT_EQ(index[0], index[threads]) << threads;
    }
  }
}

TEST_F(WriterTest, FlushWaitsForTheCompressionThreads) {
  uint64_t flushed[3];
  for (int threads : {0, 1, 2}) {
    WriterOptions options = Options();
    options.compression_threads = threads;
    std::string id = fmt::format("flush{}", threads);
    auto w = NewWriter(id, options);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(w->Append(Rec(kT0 + i, Signal::kTraces, TraceRequest(1, 5))).ok());
    ASSERT_TRUE(w->Flush().ok());
    // Durable and complete when Flush returns: the file holds the whole member.
    std::vector<store::ObjectInfo> objects = *store_->List("sessions/" + id + "/raw/");
    ASSERT_EQ(objects.size(), 1u);
    flushed[threads] = store_->Head(objects[0].key)->size;
    EXPECT_GT(flushed[threads], 0u);
    ASSERT_TRUE(w->Close().ok());
    EXPECT_EQ(ReadAll(id).size(), 10u);
  }
  EXPECT_EQ(flushed[0], flushed[1]);
  EXPECT_EQ(flushed[0], flushed[2]);
}

// A store whose raw-file writers fail once `budget` bytes were appended in all.
class FailingStore : public store::testing::ForwardingStore {
 public:
  FailingStore(store::ObjectStore& inner, uint64_t budget) : ForwardingStore(inner), budget_(budget) {}
  // Space again: `more` bytes beyond what was used.
  void Grow(uint64_t more) { budget_ = used_.load() + more; }
  absl::StatusOr<std::unique_ptr<store::ObjectWriter>> Create(std::string_view key) override {
    absl::StatusOr<std::unique_ptr<store::ObjectWriter>> w = ForwardingStore::Create(key);
    if (!w.ok()) return w;
    return std::unique_ptr<store::ObjectWriter>(new Writer(std::move(*w), *this));
  }
  std::string Describe() const override { return "failing"; }

 private:
  class Writer : public store::ObjectWriter {
   public:
    Writer(std::unique_ptr<store::ObjectWriter> inner, FailingStore& store) : inner_(std::move(inner)), store_(store) {}
    absl::Status Append(std::string_view data) override {
      if (store_.used_.fetch_add(data.size()) + data.size() > store_.budget_) {
        return absl::ResourceExhaustedError("disk full");
      }
      return inner_->Append(data);
    }
    absl::Status Sync() override { return inner_->Sync(); }
    absl::Status Close() override { return inner_->Close(); }
    uint64_t size() const override { return inner_->size(); }

   private:
    std::unique_ptr<store::ObjectWriter> inner_;
    FailingStore& store_;
  };

  std::atomic<uint64_t> budget_;
  std::atomic<uint64_t> used_{0};
};

TEST_F(WriterTest, StorageErrorsOfTheCompressionThreadsAreSticky) {
  for (int threads : {0, 1, 3}) {
    FailingStore failing(*store_, 3000);
    SessionStore sessions(failing);
    WriterOptions options = Options();
    options.member_bytes = 600;
    options.compression_threads = threads;
    std::string id = fmt::format("full{}", threads);
    absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions.Create(
        {.session_id = id, .session_type = SessionType::kCapture, .start_time_unix_nano = kT0}, options);
    ASSERT_TRUE(w.ok()) << w.status();
    absl::Status s;
    int appended = 0;
    for (const Record& r : MixedRecords(3000)) {
      s = (*w)->Append(r);
      if (!s.ok()) break;
      ++appended;
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
    EXPECT_LT(appended, 3000);
    EXPECT_EQ((*w)->Append(Rec(kT0 + 1'000'000'000, Signal::kTraces, TraceRequest(1, 1))).code(),
              absl::StatusCode::kResourceExhausted);
    EXPECT_EQ((*w)->Flush().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ((*w)->Close().code(), absl::StatusCode::kResourceExhausted);
    absl::StatusOr<SessionMetadata> m = sessions.Load(id);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->status, SessionStatus::kFailed);
    EXPECT_NE(m->status_reason.find("disk full"), std::string::npos) << m->status_reason;
  }
}

// Rollback (what capture does on a full disk): everything appended since the last checkpoint is taken back (the
// open files cut to the checkpoint and finished, the counts, sequence numbers and distinct traces as they were),
// and once there is space appends go on into new files: the session then equals one written without the fault,
// inline and on compression threads alike.
TEST_F(WriterTest, RollbackTakesBackWhatFollowedTheCheckpointAndAppendsGoOn) {
  const std::vector<Record> records = MixedRecords(600);
  std::unique_ptr<SessionWriter> clean = NewWriter("clean", Options());
  for (const Record& r : records) ASSERT_TRUE(clean->Append(r).ok());
  const SessionMetadata expected = CloseAndLoad(*sessions_, *clean);
  for (int threads : {0, 2}) {
    FailingStore failing(*store_, 3000);
    SessionStore sessions(failing);
    WriterOptions options = Options();
    options.member_bytes = 600;
    options.compression_threads = threads;
    const std::string id = fmt::format("rolled{}", threads);
    absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions.Create(
        {.session_id = id, .session_type = SessionType::kCapture, .start_time_unix_nano = kT0}, options);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_TRUE((*w)->Rollback().ok()) << "nothing failed: nothing to do";
    // Batches of 7 appended, flushed and checkpointed, until a batch fails.
    size_t kept = 0;
    absl::Status s;
    while (s.ok()) {
      ASSERT_LT(kept, records.size()) << "the budget never ran out";
      for (size_t i = kept; i < kept + 7 && s.ok(); ++i) s = (*w)->Append(records[i]);
      if (s.ok()) s = (*w)->Flush(SessionWriter::FlushMode::kWritten);
      if (s.ok()) {
        (*w)->Checkpoint();
        kept += 7;
      }
    }
    ASSERT_GT(kept, 0u);
    EXPECT_EQ((*w)->Append(records[kept]).code(), absl::StatusCode::kResourceExhausted);
    ASSERT_TRUE((*w)->Rollback().ok());
    EXPECT_EQ((*w)->records(), kept);
    failing.Grow(uint64_t{1} << 30);
    for (size_t i = kept; i < records.size(); ++i) ASSERT_TRUE((*w)->Append(records[i]).ok()) << i;
    ASSERT_TRUE((*w)->Close().ok());
    absl::StatusOr<SessionMetadata> m = sessions_->Load(id);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->status, SessionStatus::kCompleted);
    EXPECT_EQ(m->counts, expected.counts);
    EXPECT_GT(m->files.size(), expected.files.size()) << "new files after the rollback";
    std::vector<Record> read = ReadAll(id);
    std::sort(read.begin(), read.end(), [](const Record& a, const Record& b) { return a.sequence < b.sequence; });
    ASSERT_EQ(read.size(), records.size());
    for (size_t i = 0; i < read.size(); ++i) {
      EXPECT_EQ(read[i].sequence, i);
      EXPECT_EQ(read[i].payload, records[i].payload) << i;
    }
    absl::StatusOr<VerifyReport> v = sessions_->Verify(id);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->ok);
  }
}

// A file finished since the checkpoint (a rotation) may already be closed and uploaded: the writer cannot take
// it back, and the error stays.
TEST_F(WriterTest, RollbackRefusesWhenAFileWasFinishedSinceTheCheckpoint) {
  FailingStore failing(*store_, 1'000'000);
  SessionStore sessions(failing);
  absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions.Create(
      {.session_id = "rotated", .session_type = SessionType::kCapture, .start_time_unix_nano = kT0}, Options());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->Append(Rec(kT0, Signal::kTraces, TraceRequest(1, 2))).ok());
  ASSERT_TRUE((*w)->Flush().ok());
  (*w)->Checkpoint();
  ASSERT_TRUE((*w)->Append(Rec(kT0 + kNanosPerHour, Signal::kTraces, TraceRequest(2, 2))).ok());  // a new file
  failing.Grow(0);
  ASSERT_EQ((*w)->Flush().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*w)->Rollback().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*w)->Append(Rec(kT0 + kNanosPerHour, Signal::kTraces, TraceRequest(3, 2))).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(WriterTest, RejectsUnsupportedCompressionThreads) {
  for (int threads : {-1, kMaxCompressionThreads + 1}) {
    WriterOptions options = Options();
    options.compression_threads = threads;
    absl::Status s = sessions_->Create({.session_id = "threads"}, options).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << threads;
    EXPECT_NE(s.message().find("use 0 (inline) to 16"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace otelrr::session::testing
