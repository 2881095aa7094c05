#include "otlp/otlp_file.h"

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include "common/status.h"
#include "gtest/gtest.h"
#include "otlp/json.h"
#include "otlp/wire.h"

// The largest single allocation made through operator new (std::string, std::vector, simdjson): lets the tests
// check that a bomb is refused without its bytes ever being held in memory.
namespace {
std::atomic<size_t> g_largest_allocation{0};
void* Allocate(size_t n) {
  size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
  while (n > seen && !g_largest_allocation.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace
void* operator new(size_t n) { return Allocate(n); }
void* operator new[](size_t n) { return Allocate(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return Allocate(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t& tag) noexcept { return operator new(n, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace otelrr::otlp {
namespace {

constexpr char kTraces1[] =
    R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10",)"
    R"("spanId":"0102030405060708","name":"a","startTimeUnixNano":"1000","endTimeUnixNano":"2000"}]}]}]})";
constexpr char kTraces2[] =
    R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"1102030405060708090a0b0c0d0e0f10",)"
    R"("spanId":"1102030405060708","name":"b"},{"name":"c"}]}]}]})";
constexpr char kMetrics[] =
    R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[)"
    R"({"timeUnixNano":"1000","asDouble":1.5}]}}]}]}]})";
constexpr char kLogs[] =
    R"({"resource_logs":[{"scope_logs":[{"log_records":[{"time_unix_nano":"1000","body":{"stringValue":"hi"}}]}]}]})";

std::string Proto(Signal signal, std::string_view json) {
  JsonCodec codec;
  std::string out;
  absl::Status s = codec.JsonToProto(signal, json, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::string Gzip(std::string_view data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string Zstd(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string LengthPrefixed(const std::vector<std::string>& messages) {
  std::string out;
  for (const std::string& m : messages) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(m.size() >> (8 * i)));
    out += m;
  }
  return out;
}

class OtlpFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "otelrr-otlp-file-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, std::string_view content) {
    std::string path = (dir_ / name).string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    EXPECT_NE(f, nullptr);
    if (!content.empty()) {
      EXPECT_EQ(std::fwrite(content.data(), 1, content.size(), f), content.size());
    }
    std::fclose(f);
    return path;
  }

  struct Read {
    absl::Status status;  // of Open, or of the Next that failed
    std::string format;
    std::vector<OtlpFileMessage> messages;
  };
  static Read ReadAll(const std::string& path, OtlpFileOptions options = {}) {
    Read out;
    absl::StatusOr<std::unique_ptr<OtlpFileReader>> r = OtlpFileReader::Open(path, options);
    if (!r.ok()) {
      out.status = r.status();
      return out;
    }
    out.format = std::string((*r)->format());
    while (true) {
      OtlpFileMessage m;
      absl::StatusOr<bool> more = (*r)->Next(&m);
      if (!more.ok()) {
        out.status = more.status();
        return out;
      }
      if (!*more) return out;
      out.messages.push_back(std::move(m));
    }
  }

  std::filesystem::path dir_;
};

TEST_F(OtlpFileTest, JsonLinesSkipBlankLinesAndCountThem) {
  std::string path = Write("t.jsonl", std::string(kTraces1) + "\r\n\n" + kMetrics + "\n" + kLogs);
  Read r = ReadAll(path);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.format, "OTLP JSON Lines");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].signal, Signal::kTraces);
  EXPECT_EQ(r.messages[0].index, 1u);
  EXPECT_EQ(r.messages[0].payload, Proto(Signal::kTraces, kTraces1));
  EXPECT_TRUE(r.messages[0].was_json);
  EXPECT_EQ(r.messages[1].signal, Signal::kMetrics);
  EXPECT_EQ(r.messages[1].index, 3u);
  EXPECT_EQ(r.messages[2].signal, Signal::kLogs);
  EXPECT_EQ(r.messages[2].index, 4u);
  EXPECT_EQ(r.messages[2].payload, Proto(Signal::kLogs, kLogs));
}

TEST_F(OtlpFileTest, PrettyAndConcatenatedJsonDocuments) {
  std::string pretty = "{\n  \"resourceSpans\": [\n" + std::string(kTraces1).substr(18);
  Read one = ReadAll(Write("one.json", pretty));
  ASSERT_TRUE(one.status.ok()) << one.status;
  EXPECT_EQ(one.format, "OTLP/JSON document");
  ASSERT_EQ(one.messages.size(), 1u);
  EXPECT_EQ(one.messages[0].payload, Proto(Signal::kTraces, kTraces1));

  Read two = ReadAll(Write("two.json", pretty + "\n" + "{\n" + std::string(kMetrics).substr(1) + "\n"));
  ASSERT_TRUE(two.status.ok()) << two.status;
  ASSERT_EQ(two.messages.size(), 2u);
  EXPECT_EQ(two.messages[1].signal, Signal::kMetrics);
  EXPECT_EQ(two.messages[1].index, 2u);
}

TEST_F(OtlpFileTest, LengthPrefixedProtobufJsonAndZstdMessages) {
  std::string t1 = Proto(Signal::kTraces, kTraces1), t2 = Proto(Signal::kTraces, kTraces2);
  Read r = ReadAll(Write("t.bin", LengthPrefixed({t1, Zstd(t2), kTraces1, Zstd(kTraces2)})));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.format, "Collector file exporter (length-prefixed)");
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[0].payload, t1);
  EXPECT_FALSE(r.messages[0].was_json);
  EXPECT_EQ(r.messages[1].payload, t2);
  EXPECT_EQ(r.messages[2].payload, t1);
  EXPECT_TRUE(r.messages[2].was_json);
  EXPECT_EQ(r.messages[3].payload, t2);
  EXPECT_EQ(r.messages[3].index, 4u);
}

TEST_F(OtlpFileTest, RawProtobufIsDetectedOrForced) {
  std::string logs = Proto(Signal::kLogs, kLogs);
  Read r = ReadAll(Write("l.pb", logs));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.format, "protobuf request");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].signal, Signal::kLogs);
  EXPECT_EQ(r.messages[0].payload, logs);

  Read wrong = ReadAll(Write("l2.pb", Proto(Signal::kTraces, kTraces1)), {.signal = Signal::kMetrics});
  EXPECT_FALSE(wrong.status.ok());
  EXPECT_NE(std::string(wrong.status.message()).find("l2.pb"), std::string::npos) << wrong.status;
}

TEST_F(OtlpFileTest, WholeFileGzipAndZstd) {
  Read gz = ReadAll(Write("t.jsonl.gz", Gzip(std::string(kTraces1) + "\n") + Gzip(std::string(kLogs) + "\n")));
  ASSERT_TRUE(gz.status.ok()) << gz.status;
  EXPECT_EQ(gz.format, "OTLP JSON Lines");
  ASSERT_EQ(gz.messages.size(), 2u);
  EXPECT_EQ(gz.messages[1].signal, Signal::kLogs);

  std::string m = Proto(Signal::kMetrics, kMetrics);
  Read zst = ReadAll(Write("m.bin.zst", Zstd(LengthPrefixed({m, Zstd(m)}))));
  ASSERT_TRUE(zst.status.ok()) << zst.status;
  ASSERT_EQ(zst.messages.size(), 2u);
  EXPECT_EQ(zst.messages[1].payload, m);

  Read raw = ReadAll(Write("m.pb.gz", Gzip(m)));
  ASSERT_TRUE(raw.status.ok()) << raw.status;
  ASSERT_EQ(raw.messages.size(), 1u);
  EXPECT_EQ(raw.messages[0].signal, Signal::kMetrics);
}

// JSON Lines of `n` trace messages, each with its own span name: distinct lines, so the compressed data
// is long enough to cut in many places.
std::string ManyJsonLines(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"span-)" + std::to_string(i) + R"("}]}]}]})" "\n";
  }
  return out;
}

constexpr char kGzipTruncated[] =
    ": the gzip data is truncated (the file ends inside a gzip member): the file is incomplete; copy it again";
constexpr char kZstdTruncated[] =
    ": the zstd data is truncated (the file ends inside a zstd frame): the file is incomplete; copy it again";

TEST_F(OtlpFileTest, GzipCutAnywhereIsDataLoss) {
  std::string gz = Gzip(ManyJsonLines(100));
  Read whole = ReadAll(Write("whole.jsonl.gz", gz));
  ASSERT_TRUE(whole.status.ok()) << whole.status;
  ASSERT_EQ(whole.messages.size(), 100u);
  // From the smallest cut still recognised as gzip (its 2 magic bytes) to the trailer cut by 1 byte:
  // inside the header, the deflate data, and the 8-byte CRC32/ISIZE trailer (all of it, or 1 to 7 bytes).
  for (size_t size = 2; size < gz.size(); ++size) {
    std::string path = Write("cut.jsonl.gz", gz.substr(0, size));
    Read r = ReadAll(path);
    // No line number: where reading ahead met the end says nothing about which lines are whole.
    ASSERT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << "cut to " << size << " bytes: " << r.status;
    ASSERT_EQ(r.status.message(), path + kGzipTruncated);
    ASSERT_LT(r.messages.size(), 100u);
  }
  // Formats read whole before parsing fail the same way, before any message.
  std::string pb = Gzip(Proto(Signal::kTraces, kTraces1));
  std::string path = Write("cut.pb.gz", pb.substr(0, pb.size() - 8));
  EXPECT_EQ(ReadAll(path).status.message(), path + kGzipTruncated);
}

TEST_F(OtlpFileTest, GzipTrailerMismatchIsDataLoss) {
  std::string gz = Gzip(ManyJsonLines(20));
  std::string crc = gz;
  crc[crc.size() - 8] ^= 0x01;
  std::string path = Write("crc.jsonl.gz", crc);
  Read r = ReadAll(path);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
  EXPECT_EQ(r.status.message(), path + ": gzip CRC mismatch: the file is corrupt");

  std::string isize = gz;
  isize[isize.size() - 1] ^= 0x01;
  path = Write("isize.jsonl.gz", isize);
  r = ReadAll(path);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
  EXPECT_NE(std::string(r.status.message()).find(": gzip size mismatch"), std::string::npos) << r.status;
}

TEST_F(OtlpFileTest, ConcatenatedGzipMembersAreAllRead) {
  // What `cat a.gz b.gz c.gz` makes, with an empty member in the middle.
  Read r = ReadAll(Write("cat.jsonl.gz", Gzip(ManyJsonLines(3)) + Gzip("") + Gzip(std::string(kLogs) + "\n")));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[3].signal, Signal::kLogs);
  EXPECT_EQ(r.messages[3].payload, Proto(Signal::kLogs, kLogs));

  // A second member cut short is as truncated as a first one.
  std::string second = Gzip(std::string(kLogs) + "\n");
  for (size_t size : {size_t{1}, size_t{2}, second.size() / 2, second.size() - 8, second.size() - 1}) {
    Read cut = ReadAll(Write("cat-cut.jsonl.gz", Gzip(ManyJsonLines(3)) + second.substr(0, size)));
    EXPECT_EQ(cut.status.code(), absl::StatusCode::kDataLoss) << size << ": " << cut.status;
    EXPECT_NE(std::string(cut.status.message()).find(kGzipTruncated), std::string::npos) << cut.status;
  }
}

TEST_F(OtlpFileTest, GzipMemberFollowedByOtherBytesIsRefused) {
  std::string gz = Gzip(ManyJsonLines(3));
  for (std::string tail : {std::string("garbage\n"), std::string(4, '\0'), std::string("x"), std::string("\x1f\x8c")}) {
    std::string path = Write("tail.jsonl.gz", gz + tail);
    Read r = ReadAll(path);
    EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
    EXPECT_NE(std::string(r.status.message()).find("after gzip member 1 are not another gzip member"),
              std::string::npos)
        << r.status;
    EXPECT_TRUE(std::string(r.status.message()).starts_with(path)) << r.status;
  }
}

TEST_F(OtlpFileTest, ZstdCutAnywhereIsDataLoss) {
  std::string zst = Zstd(ManyJsonLines(100));
  ASSERT_TRUE(ReadAll(Write("whole.jsonl.zst", zst)).status.ok());
  // From the smallest cut still recognised as zstd (its 4 magic bytes) to the frame cut by 1 byte.
  for (size_t size = 4; size < zst.size(); ++size) {
    std::string path = Write("cut.jsonl.zst", zst.substr(0, size));
    Read r = ReadAll(path);
    ASSERT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << "cut to " << size << " bytes: " << r.status;
    ASSERT_EQ(r.status.message(), path + kZstdTruncated);
  }
  Read two = ReadAll(Write("two.jsonl.zst", zst + Zstd(std::string(kLogs) + "\n")));
  ASSERT_TRUE(two.status.ok()) << two.status;
  EXPECT_EQ(two.messages.size(), 101u);
  Read garbage = ReadAll(Write("tail.jsonl.zst", zst + "garbage\n"));
  EXPECT_EQ(garbage.status.code(), absl::StatusCode::kDataLoss) << garbage.status;
  EXPECT_NE(std::string(garbage.status.message()).find("invalid zstd data"), std::string::npos) << garbage.status;
}

TEST_F(OtlpFileTest, ErrorsNameTheFileAndTheLineOrMessage) {
  std::string path = Write("bad.jsonl", std::string(kTraces1) + "\n" + R"({"resourceSpans":[{"x":})" + "\n");
  Read lines = ReadAll(path);
  EXPECT_EQ(lines.messages.size(), 1u);
  EXPECT_NE(std::string(lines.status.message()).find(path + " line 2: "), std::string::npos) << lines.status;

  std::string t = Proto(Signal::kTraces, kTraces1);
  path = Write("bad.bin", LengthPrefixed({t, t}).substr(0, 2 * (4 + t.size()) - 1));
  Read lp = ReadAll(path);
  EXPECT_EQ(lp.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(lp.status.message()).find(path + " message 2: truncated"), std::string::npos) << lp.status;

  path = Write("bad.json", std::string(kTraces1) + "\n" + R"({"resourceLogs": 7})" + "\n ");
  Read docs = ReadAll(path);  // the second line alone is a complete value too: JSON Lines
  EXPECT_NE(std::string(docs.status.message()).find(path + " line 2: "), std::string::npos) << docs.status;

  path = Write("bad2.json", "{\n\"resourceSpans\": []}\n{\n\"resourceLogs\": 7}\n");
  docs = ReadAll(path);
  EXPECT_NE(std::string(docs.status.message()).find(path + " document 2: "), std::string::npos) << docs.status;

  path = Write("cut.json", "{\n\"resourceSpans\": [");
  EXPECT_EQ(ReadAll(path).status.message(),
            path + ": the JSON document starting at byte 0 is not complete");
}

TEST_F(OtlpFileTest, EmptyMissingAndUnrecognisedFiles) {
  std::string empty = Write("empty.jsonl", "");
  Read r = ReadAll(empty);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status.message(), empty + ": the file is empty");
  std::string gz_empty = Write("empty.gz", Gzip(""));
  EXPECT_EQ(ReadAll(gz_empty).status.message(), gz_empty + ": the file is empty");
  EXPECT_EQ(ReadAll((dir_ / "missing").string()).status.code(), absl::StatusCode::kNotFound);
  std::string tiny = Write("tiny", "ab");
  EXPECT_EQ(ReadAll(tiny).status.code(), absl::StatusCode::kInvalidArgument);
  // Blank lines only: a JSON Lines file with no message.
  Read blank = ReadAll(Write("blank.jsonl", "{}\n\n\n"));
  EXPECT_FALSE(blank.status.ok());
}

TEST_F(OtlpFileTest, AmbiguousProtobufAsksForTheSignal) {
  // ResourceSpans { ScopeSpans { Span {} } } is also ResourceLogs { ScopeLogs { LogRecord {} } }.
  std::string both("\x0a\x04\x12\x02\x12\x00", 6);
  absl::StatusOr<Signal> detected = DetectProtobufSignal(both);
  EXPECT_EQ(detected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(detected.status().message()).find("more than one signal"), std::string::npos)
      << detected.status();
  // No items at all: nothing tells the signal.
  std::string none("\x0a\x00", 2);
  std::string path = Write("none.pb", none);
  Read r = ReadAll(path);
  EXPECT_NE(std::string(r.status.message()).find("name it"), std::string::npos) << r.status;
  EXPECT_NE(std::string(r.status.message()).find(path), std::string::npos) << r.status;
  // Forcing the signal resolves both.
  Read forced = ReadAll(Write("both.pb", both), {.signal = Signal::kLogs});
  ASSERT_TRUE(forced.status.ok()) << forced.status;
  ASSERT_EQ(forced.messages.size(), 1u);
  EXPECT_EQ(forced.messages[0].signal, Signal::kLogs);
  EXPECT_TRUE(ReadAll(path, {.signal = Signal::kTraces}).status.ok());
}

TEST_F(OtlpFileTest, JsonSignalDetection) {
  EXPECT_EQ(*DetectJsonSignal(kTraces1), Signal::kTraces);
  EXPECT_EQ(*DetectJsonSignal(kMetrics), Signal::kMetrics);
  EXPECT_EQ(*DetectJsonSignal(kLogs), Signal::kLogs);
  EXPECT_FALSE(DetectJsonSignal("{}").ok());
  EXPECT_FALSE(DetectJsonSignal("[]").ok());
  EXPECT_FALSE(DetectJsonSignal("{").ok());
}

// max_message_bytes: a small compressed file that inflates past the limit is refused, on every path,
// without the inflated bytes ever being held in memory.
constexpr size_t kLimit = size_t{1} << 20;
constexpr size_t kBomb = size_t{32} << 20;
constexpr size_t kAllowedAllocation = size_t{8} << 20;

TEST_F(OtlpFileTest, GzipBombInAJsonLinesLineIsRefused) {
  std::string path = Write("bomb.jsonl.gz", Gzip(std::string(kTraces1) + "\n{" + std::string(kBomb, ' ')));
  g_largest_allocation = 0;
  Read r = ReadAll(path, {.signal = std::nullopt, .max_message_bytes = kLimit});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted) << r.status;
  EXPECT_NE(std::string(r.status.message()).find(path + " line 2"), std::string::npos) << r.status;
  EXPECT_EQ(r.messages.size(), 1u);
  EXPECT_LT(g_largest_allocation.load(), kAllowedAllocation);
}

TEST_F(OtlpFileTest, GzipBombInAJsonDocumentIsRefused) {
  std::string path = Write("bomb.json.gz", Gzip("{\"resourceSpans\":[" + std::string(kBomb, ' ')));
  g_largest_allocation = 0;
  Read r = ReadAll(path, {.signal = std::nullopt, .max_message_bytes = kLimit});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted) << r.status;
  // Deciding between JSON Lines and documents parses up to the limit: the JSON parser's working memory
  // is about 8 bytes per input byte. Proportional to the limit, not to the inflated size.
  EXPECT_LT(g_largest_allocation.load(), 12 * kLimit);
}

TEST_F(OtlpFileTest, GzipBombAsRawProtobufIsRefused) {
  std::string path = Write("bomb.pb.gz", Gzip("\x0a" + std::string(kBomb, '\0')));
  g_largest_allocation = 0;
  Read r = ReadAll(path, {.signal = std::nullopt, .max_message_bytes = kLimit});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted) << r.status;
  EXPECT_LT(g_largest_allocation.load(), kAllowedAllocation);
}

TEST_F(OtlpFileTest, ZstdBombInALengthPrefixedMessageIsRefused) {
  std::string path = Write("bomb.bin", LengthPrefixed({Zstd(std::string(kBomb, '\0'))}));
  g_largest_allocation = 0;
  Read r = ReadAll(path, {.signal = std::nullopt, .max_message_bytes = kLimit});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted) << r.status;
  EXPECT_NE(std::string(r.status.message()).find(path + " message 1: decompresses to more than"),
            std::string::npos)
      << r.status;
  EXPECT_LT(g_largest_allocation.load(), kAllowedAllocation);
}

TEST_F(OtlpFileTest, ZstdFrameDeclaringAHugeWindowIsRefusedBeforeDecoding) {
  // A hand-made frame: 1 TiB content size, a 128 MiB window, one RLE block of 128 KiB.
  std::string frame("\x28\xb5\x2f\xfd\xc0\x88", 6);
  for (int i = 0; i < 8; ++i) frame.push_back(static_cast<char>((uint64_t{1} << 40) >> (8 * i)));
  uint32_t block = (uint32_t{128} << 10) << 3 | 1u << 1 | 1u;
  for (int i = 0; i < 3; ++i) frame.push_back(static_cast<char>(block >> (8 * i)));
  frame.push_back('x');
  Read r = ReadAll(Write("window.bin", LengthPrefixed({frame})), {.signal = std::nullopt, .max_message_bytes = kLimit});
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
  EXPECT_NE(std::string(r.status.message()).find("too much memory"), std::string::npos) << r.status;
}

TEST_F(OtlpFileTest, LengthPrefixLimitIsExact) {
  std::string t = Proto(Signal::kTraces, kTraces1);
  std::string path = Write("limit.bin", LengthPrefixed({t}));
  EXPECT_TRUE(ReadAll(path, {.signal = std::nullopt, .max_message_bytes = t.size()}).status.ok());
  Read over = ReadAll(path, {.signal = std::nullopt, .max_message_bytes = t.size() - 1});
  EXPECT_EQ(over.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(over.status.message()).find(path + " message 1: length prefix says"), std::string::npos)
      << over.status;
}

TEST_F(OtlpFileTest, LengthPrefixClaimingMuchMoreThanTheFileAllocatesOnlyWhatIsRead) {
  // 200 MiB claimed, under the default 256 MiB limit, in a file of a few bytes.
  std::string path = Write("claim.bin", std::string("\x0c\x80\x00\x00", 4) + "abcdef");
  g_largest_allocation = 0;
  Read r = ReadAll(path);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
  EXPECT_NE(std::string(r.status.message()).find("truncated: 6 of 209715200 bytes"), std::string::npos)
      << r.status;
  EXPECT_LT(g_largest_allocation.load(), kAllowedAllocation);
}

// Big compressed files stream: every byte comes out across many refills of the compressed input and of the
// line buffer, and memory stays that of a few buffers, not of the file.
TEST_F(OtlpFileTest, BigCompressedFilesReadWholeInBoundedMemory) {
  constexpr int kLines = 200000;  // about 13 MiB, more than kAllowedAllocation
  std::string lines = ManyJsonLines(kLines);
  for (const auto& [name, data] : {std::pair{"big.jsonl.gz", Gzip(lines)}, std::pair{"big.jsonl.zst", Zstd(lines)}}) {
    std::string path = Write(name, data);
    g_largest_allocation = 0;
    absl::StatusOr<std::unique_ptr<OtlpFileReader>> r = OtlpFileReader::Open(path, {});
    ASSERT_TRUE(r.ok()) << r.status();
    int count = 0;
    OtlpFileMessage m;
    while (true) {
      absl::StatusOr<bool> more = (*r)->Next(&m);
      ASSERT_TRUE(more.ok()) << name << ": " << more.status();
      if (!*more) break;
      ++count;
    }
    EXPECT_EQ(count, kLines) << name;
    EXPECT_LT(g_largest_allocation.load(), kAllowedAllocation) << name;
  }
}

}  // namespace
}  // namespace otelrr::otlp
