// Writes the seed corpora of fuzz_session_file and fuzz_otlp_file (our own data only):
//
//   build/fuzz/make_file_seeds fuzz/corpus
//
// Session seeds are raw files written by SessionWriter (levels 0 and 1, several members) and
// hand-made damaged ones; OTLP file seeds are small requests in every format OtlpFileReader reads, plus
// bombs. It rewrites only the gen-, bad- and edge- seeds it names; crash- and found- files are kept.
// The first byte of an fuzz_otlp_file input picks the signal option (0 detect, 1-3 force a signal).
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "fuzz/memory_store.h"
#include "otlp/json.h"
#include "otlp/testing/requests.h"
#include "session/internal/members.h"
#include "session/record.h"
#include "session/writer.h"

namespace {

namespace fs = std::filesystem;
using namespace otelrr;
using otlp::testing::LogsRequest;
using otlp::testing::MetricsRequest;
using otlp::testing::TraceRequest;

constexpr uint64_t kT0 = 1795693544123000000ull;

[[noreturn]] void Die(std::string_view what) {
  std::fprintf(stderr, "make_file_seeds: %.*s\n", static_cast<int>(what.size()), what.data());
  std::exit(1);
}

void Check(const absl::Status& s, std::string_view what) {
  if (!s.ok()) Die(std::string(what) + ": " + std::string(s.message()));
}

// A gzip member of `data`; its header carries the optional fields of `header` when there is one.
std::string Gzip(std::string_view data, int level = 6, gz_header* header = nullptr) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK) Die("deflateInit2");
  if (header != nullptr) deflateSetHeader(&zs, header);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');  // 64: headroom for the header's fields
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) Die("deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A gzip member whose header carries every optional field: FEXTRA, FNAME, FCOMMENT and FHCRC.
std::string GzipWithHeaderFields(std::string_view data) {
  static char extra[] = "ab\x04\x00zyxw";
  static char name[] = "traces.otlp";
  static char comment[] = "seed";
  gz_header h{};
  h.extra = reinterpret_cast<Bytef*>(extra);
  h.extra_len = 8;
  h.name = reinterpret_cast<Bytef*>(name);
  h.comment = reinterpret_cast<Bytef*>(comment);
  h.hcrc = 1;
  h.os = 3;
  return Gzip(data, 6, &h);
}

std::string Zstd(std::string_view data, int level = 3) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
  if (ZSTD_isError(n)) Die("ZSTD_compress");
  out.resize(n);
  return out;
}

// A zstd frame by hand: declares `content_size` bytes and a 2^window_log window, then holds `blocks`
// RLE blocks of 128 KiB of `byte` (the last one marked last). A few bytes that inflate hugely, or lie.
std::string ZstdRleFrame(uint64_t content_size, int window_log, int blocks, char byte) {
  std::string f = "\x28\xb5\x2f\xfd";
  f.push_back(static_cast<char>(0xC0));                     // 8-byte content size, not single segment
  f.push_back(static_cast<char>((window_log - 10) << 3));  // window descriptor, mantissa 0
  for (int i = 0; i < 8; ++i) f.push_back(static_cast<char>(content_size >> (8 * i)));
  for (int b = 0; b < blocks; ++b) {
    uint32_t header = (uint32_t{128} << 10) << 3 | 1u << 1 | (b == blocks - 1 ? 1u : 0u);  // RLE block
    for (int i = 0; i < 3; ++i) f.push_back(static_cast<char>(header >> (8 * i)));
    f.push_back(byte);
  }
  return f;
}

std::string BigEndian32(size_t n) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(n >> (8 * (3 - i)));
  return s;
}

std::string LengthPrefixed(std::initializer_list<std::string> messages) {
  std::string out;
  for (const std::string& m : messages) out += BigEndian32(m.size()) + m;
  return out;
}

std::string Json(otlp::Signal signal, std::string_view proto) {
  otlp::JsonCodec codec;
  std::string json;
  Check(codec.ProtoToJson(signal, proto, &json), "ProtoToJson");
  return json;
}

// Our JSON, spread over lines: its strings hold no ',' so this is still the same document.
std::string Pretty(std::string_view json) {
  std::string out;
  for (char c : json) {
    out.push_back(c);
    if (c == ',' || c == '{') out += "\n  ";
  }
  return out + "\n";
}

session::Record Rec(uint64_t arrival, otlp::Signal signal, std::string payload) {
  return session::Record{.arrival_unix_nano = arrival,
                         .signal = signal,
                         .transport = session::Transport::kGrpc,
                         .encoding = session::Encoding::kProtobuf,
                         .payload = std::move(payload)};
}

// The raw files SessionWriter writes for a few records of each signal, by signal name.
std::map<std::string, std::string> WriterFiles(session::Compression compression, int level, size_t member_bytes) {
  fuzz::MemoryStore store;
  SimulatedClock clock(kT0 + 1'000'000'000ull);
  absl::StatusOr<std::unique_ptr<session::SessionWriter>> w = session::SessionWriter::Create(
      store,
      {.session_id = "seed", .session_type = session::SessionType::kCapture, .start_time_unix_nano = kT0,
       .created_by = "make_file_seeds"},
      {.compression = compression,
       .compression_level = level,
       .member_bytes = member_bytes,
       .clock = &clock,
       .random_seed = 1});
  Check(w.status(), "SessionWriter::Create");
  for (int i = 0; i < 5; ++i) {
    uint64_t t = kT0 + i * 1'000'000ull;
    Check((*w)->Append(Rec(t, otlp::Signal::kTraces, TraceRequest(i + 1, 1 + i % 3))), "Append");
    Check((*w)->Append(Rec(t, otlp::Signal::kLogs, LogsRequest(1 + i % 2, i))), "Append");
    if (i % 2 == 0) Check((*w)->Append(Rec(t, otlp::Signal::kMetrics, MetricsRequest(1 + i))), "Append");
    if (i == 2) Check((*w)->Flush(), "Flush");
  }
  Check((*w)->Close(session::SessionStatus::kCompleted), "Close");
  std::map<std::string, std::string> files;
  absl::StatusOr<std::vector<store::ObjectInfo>> objects = store.List("sessions/seed/raw/");
  Check(objects.status(), "List");
  for (const store::ObjectInfo& o : *objects) {
    std::string name = fs::path(o.key).filename().string();
    absl::StatusOr<std::string> body = store.ReadAll(o.key);
    Check(body.status(), "ReadAll");
    files[name.substr(0, name.find('-'))] = std::move(*body);
  }
  return files;
}

std::string Framed(const session::Record& r) {
  std::string out;
  Check(session::AppendRecord(r, &out), "AppendRecord");
  return out;
}

std::string Member(std::string_view records, int level = 1,
                   session::Compression compression = session::Compression::kGzip) {
  std::string out;
  session::internal::MemberCompressor c(compression, level);
  Check(c.Compress(records, &out), "Compress");
  return out;
}

std::string Frame(std::string_view records) { return Member(records, 1, session::Compression::kZstd); }

void Put32(std::string* s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[at + i] = static_cast<char>(v >> (8 * i));
}

std::map<std::string, std::string> SessionSeeds() {
  std::map<std::string, std::string> seeds;
  using session::Compression;
  std::map<std::string, std::string> level1 = WriterFiles(Compression::kGzip, 1, 300);
  std::map<std::string, std::string> level0 = WriterFiles(Compression::kGzip, 0, 300);
  std::map<std::string, std::string> one_member = WriterFiles(Compression::kGzip, 1, 1 << 20);
  std::map<std::string, std::string> zstd = WriterFiles(Compression::kZstd, 1, 300);
  std::map<std::string, std::string> plain = WriterFiles(Compression::kNone, 0, 300);
  for (const auto& [signal, body] : level1) seeds["gen-writer-level1-" + signal] = body;
  for (const auto& [signal, body] : level0) seeds["gen-writer-level0-" + signal] = body;
  for (const auto& [signal, body] : one_member) seeds["gen-writer-big-member-" + signal] = body;
  for (const auto& [signal, body] : zstd) seeds["gen-writer-zstd-" + signal] = body;
  for (const auto& [signal, body] : plain) seeds["gen-writer-none-" + signal] = body;

  // zstd: cut, flipped checksum, flipped data, a frame without its content size.
  const std::string& ztraces = zstd.at("traces");
  seeds["bad-zstd-truncated-mid-frame"] = ztraces.substr(0, ztraces.size() - 7);
  seeds["bad-zstd-truncated-in-header"] = ztraces.substr(0, 5);
  std::string zcrc = ztraces;
  zcrc[zcrc.size() - 2] ^= 0x5a;  // the last frame's content checksum
  seeds["bad-zstd-checksum"] = zcrc;
  std::string zdata = ztraces;
  zdata[zdata.size() / 2] ^= 0x40;
  seeds["bad-zstd-flipped-bit"] = zdata;
  seeds["bad-zstd-trailing-garbage"] = ztraces + "garbage";
  // Plain records: cut inside a record, and a damaged header after a good one.
  const std::string& ptraces = plain.at("traces");
  seeds["bad-none-truncated-mid-record"] = ptraces.substr(0, ptraces.size() - 3);
  std::string pmagic = ptraces;
  pmagic[ptraces.size() / 2] ^= 0x01;
  seeds["bad-none-flipped-bit"] = pmagic;

  const std::string& traces = level1.at("traces");
  seeds["bad-truncated-mid-member"] = traces.substr(0, traces.size() - 7);
  seeds["bad-truncated-in-header"] = traces.substr(0, 6);
  std::string crc = traces;
  crc[crc.size() - 6] ^= 0x5a;  // the last member's CRC-32
  seeds["bad-crc"] = crc;
  std::string isize = traces;
  isize[isize.size() - 2] ^= 0x01;  // the last member's length
  seeds["bad-isize"] = isize;
  std::string data = traces;
  data[data.size() / 2] ^= 0x40;
  seeds["bad-flipped-bit"] = data;
  seeds["bad-trailing-garbage"] = traces + "garbage";
  seeds["bad-trailing-zeros"] = traces + std::string(16, '\0');
  seeds["edge-empty-file"] = "";

  session::Record rec = Rec(kT0, otlp::Signal::kTraces, TraceRequest(3, 2));
  std::string good = Framed(rec);
  seeds["bad-not-gzip-plain-records"] = "\x1f\x8b" + good + good;
  seeds["edge-none-two-records"] = good + good;
  seeds["edge-zstd-empty-frames"] = Frame("") + Frame(good) + Frame("");
  seeds["bad-zstd-record-cut-in-frame"] = Frame(good + good.substr(0, good.size() - 3));
  // 16 MiB of zeros in one frame: decompresses hugely (the reader's limit is 512 MiB), then fails framing.
  seeds["bad-zstd-bomb"] = Frame(good) + Frame(std::string(16u << 20, '\0'));
  std::string magic = good;
  magic[3] = '2';
  seeds["bad-wrong-magic"] = Member(good) + Member(magic);
  std::string huge = good;
  Put32(&huge, 8, 0xfffffff0u);
  seeds["bad-huge-payload-size"] = Member(good) + Member(huge);
  std::string at_limit = good;
  Put32(&at_limit, 8, session::kMaxRecordPayloadSize);
  seeds["bad-payload-size-at-limit"] = Member(at_limit);
  std::string big_header = good;
  Put32(&big_header, 4, 5000);
  seeds["bad-header-size-too-big"] = Member(big_header);
  std::string small_header = good;
  Put32(&small_header, 4, 31);
  seeds["bad-header-size-too-small"] = Member(small_header);
  std::string signal = good;
  signal[12] = 0;
  seeds["bad-signal-0"] = Member(signal);
  seeds["bad-record-cut-in-member"] = Member(good + good.substr(0, good.size() - 3));
  seeds["bad-record-extra-bytes-in-member"] = Member(good + "xyz");
  // A version-1 reader skips header bytes it does not know.
  std::string long_header = good.substr(0, 32) + std::string(16, '\x07') + good.substr(32);
  Put32(&long_header, 4, 48);
  seeds["edge-long-header"] = Member(long_header);
  std::string odd = good;
  odd[13] = 9;  // unknown transport: passed through
  odd[14] = 7;  // unknown encoding
  odd[15] = 1;  // reserved
  seeds["edge-unknown-transport-encoding"] = Member(odd, 0);
  seeds["edge-empty-members"] = Member("") + Member(good) + Member("") + Member(good, 6);
  seeds["edge-gzip-header-fields"] = GzipWithHeaderFields(good) + Member(good);
  seeds["edge-zlib-gzip"] = Gzip(good + good, 9);
  // 16 MiB of zeros in one member: inflates hugely, then fails framing.
  seeds["bad-gzip-bomb"] = Member(good) + Gzip(std::string(16u << 20, '\0'), 9);
  return seeds;
}

std::map<std::string, std::string> OtlpFileSeeds() {
  std::map<std::string, std::string> seeds;
  const std::string detect(1, '\0');
  const std::string traces_opt(1, '\1');
  const std::string metrics_opt(1, '\2');
  const std::string logs_opt(1, '\3');
  const std::string t1 = TraceRequest(1, 2), t2 = TraceRequest(2, 1);
  const std::string m1 = MetricsRequest(2);
  const std::string l1 = LogsRequest(2, 5);
  const std::string jt1 = Json(otlp::Signal::kTraces, t1), jt2 = Json(otlp::Signal::kTraces, t2);
  const std::string jm1 = Json(otlp::Signal::kMetrics, m1), jl1 = Json(otlp::Signal::kLogs, l1);

  seeds["gen-jsonl-traces"] = detect + jt1 + "\n" + jt2 + "\n";
  seeds["gen-jsonl-mixed-crlf-blank"] = detect + jt1 + "\r\n\r\n" + jm1 + "\r\n" + jl1;
  seeds["gen-jsonl-forced-logs"] = logs_opt + jl1 + "\n";
  seeds["gen-json-doc-pretty-metrics"] = detect + Pretty(jm1);
  seeds["gen-json-docs-concatenated"] = detect + Pretty(jt1) + Pretty(jl1);
  seeds["gen-json-doc-forced"] = metrics_opt + Pretty(jm1);
  seeds["gen-lp-proto"] = detect + LengthPrefixed({t1, t2});
  seeds["gen-lp-proto-forced"] = traces_opt + LengthPrefixed({t1, t2});
  seeds["gen-lp-json"] = detect + LengthPrefixed({jl1, jl1});
  seeds["gen-lp-zstd-proto"] = detect + LengthPrefixed({Zstd(t1), Zstd(t2, 19)});
  seeds["gen-lp-zstd-json"] = detect + LengthPrefixed({Zstd(jm1)});
  seeds["gen-raw-proto-traces"] = detect + t1;
  seeds["gen-raw-proto-metrics"] = detect + m1;
  seeds["gen-raw-proto-logs-forced"] = logs_opt + l1;
  seeds["gen-gz-jsonl"] = detect + Gzip(jt1 + "\n" + jt2 + "\n");
  seeds["gen-gz-multi-member"] = detect + Gzip(jt1 + "\n") + Gzip(jl1 + "\n");
  seeds["gen-gz-raw-proto"] = detect + Gzip(l1);
  seeds["gen-gz-lp"] = metrics_opt + Gzip(LengthPrefixed({m1, m1}));
  seeds["gen-zst-jsonl"] = detect + Zstd(jl1 + "\n" + jl1 + "\n");
  seeds["gen-zst-lp-zstd"] = detect + Zstd(LengthPrefixed({Zstd(t1), t2}));
  seeds["gen-zst-two-frames"] = detect + Zstd(jt1 + "\n") + Zstd(jt2 + "\n");
  seeds["gen-zst-raw-proto"] = traces_opt + Zstd(t1);

  seeds["bad-empty"] = detect;
  seeds["bad-whitespace-only"] = detect + " \n\t\n";
  seeds["bad-four-bytes"] = detect + std::string("\0\0\0\x01", 4);
  seeds["bad-not-otlp"] = detect + "hello, world\n";
  seeds["bad-jsonl-second-line-broken"] = detect + jt1 + "\n" + jt2.substr(0, 20) + "\n";
  seeds["bad-jsonl-wrong-key"] = detect + "{\"resourceThings\":[]}\n";
  seeds["bad-json-doc-incomplete"] = detect + Pretty(jt1).substr(0, 40);
  seeds["bad-json-doc-then-garbage"] = detect + Pretty(jt1) + "]";
  seeds["bad-lp-huge-length"] = detect + "\xff\xff\xff\xff" + t1;
  seeds["bad-lp-truncated-body"] = detect + BigEndian32(t1.size() + 10) + t1;
  seeds["bad-lp-truncated-prefix"] = detect + LengthPrefixed({t1}) + "\0\0";
  seeds["bad-lp-zstd-truncated"] = detect + LengthPrefixed({Zstd(t1).substr(0, 9)});
  seeds["bad-raw-proto-truncated"] = detect + t1.substr(0, t1.size() - 3);
  seeds["bad-raw-proto-wrong-forced-signal"] = metrics_opt + t1;
  seeds["bad-raw-proto-empty-request"] = detect + std::string("\x0a\x00", 2);  // no items: signal unknown
  seeds["bad-gz-truncated"] = detect + Gzip(jt1 + "\n").substr(0, 30);
  seeds["bad-zst-truncated"] = detect + Zstd(jt1 + "\n").substr(0, 20);
  seeds["bad-gz-trailing-garbage"] = detect + Gzip(jt1 + "\n") + "garbage";
  // Bombs: small files that inflate far past the 1 MiB the fuzzer allows per message.
  seeds["bad-gz-bomb-jsonl-line"] = detect + Gzip(jt1 + "\n{" + std::string(24u << 20, ' '), 9);
  seeds["bad-gz-bomb-json-doc"] = detect + Gzip("{\"resourceSpans\":[" + std::string(24u << 20, ' '), 9);
  seeds["bad-gz-bomb-raw-proto"] = detect + Gzip("\x0a" + std::string(24u << 20, '\0'), 9);
  seeds["bad-lp-zstd-bomb"] = detect + LengthPrefixed({Zstd(std::string(64u << 20, '\0'), 19)});
  // zstd frames that declare 1 TiB and a 128 MiB window but hold 256 MiB of RLE blocks, or almost nothing.
  seeds["bad-lp-zstd-huge-declared"] = detect + LengthPrefixed({ZstdRleFrame(uint64_t{1} << 40, 27, 2048, 0)});
  seeds["bad-lp-zstd-huge-declared-short"] = detect + LengthPrefixed({ZstdRleFrame(uint64_t{1} << 40, 27, 1, 'x')});
  seeds["bad-zst-huge-declared-raw"] = detect + "" + ZstdRleFrame(uint64_t{1} << 40, 27, 2048, '\x0a');
  seeds["bad-zst-huge-declared-window-too-big"] = detect + ZstdRleFrame(uint64_t{1} << 40, 31, 4, ' ');
  return seeds;
}

void WriteSeeds(const fs::path& dir, const std::map<std::string, std::string>& seeds) {
  fs::create_directories(dir);
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.starts_with("gen-") || name.starts_with("bad-") || name.starts_with("edge-")) fs::remove(e.path());
  }
  for (const auto& [name, body] : seeds) {
    std::ofstream out(dir / name, std::ios::binary);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    if (!out) Die("cannot write " + (dir / name).string());
  }
  std::printf("%s: %zu seeds\n", dir.c_str(), seeds.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR   (e.g. fuzz/corpus)\n", argv[0]);
    return 2;
  }
  fs::path corpus = argv[1];
  WriteSeeds(corpus / "fuzz_session_file", SessionSeeds());
  WriteSeeds(corpus / "fuzz_otlp_file", OtlpFileSeeds());
  return 0;
}
