// otelrr_codec_bench: what each session compression (session/compression.h) costs and saves on the records of
// one stored session, so that the default is chosen by measurement (docs/BENCHMARKS.md, "Session
// compression"; bench/codec-bench runs it on a seed and on recorded data). Not installed.
//
//   build-bench/bench/otelrr_codec_bench --store DIR --session ID
//   build-bench/bench/otelrr_codec_bench --store DIR --session ID --codecs zstd:1,gzip:1 --repetitions 5
//
// The session's records (any compression) are read into memory once, file by file (each raw file holds one
// signal, in write order), and framed as the writer frames them (AppendRecord). Then, for each codec and level:
// - write: the records of each file are cut into members as the writer cuts them (records are added to a
//   member until it holds at least --member-bytes, WriterOptions::member_bytes, never splitting a record;
//   a file starts a new member) and each member is compressed with MemberCompressor, as a writer's
//   compression thread does (so the size for the session's own codec is its stored size, to the byte,
//   unless flush_interval or Flush() cut members shorter, as a slow capture's are);
// - read: the compressed bytes are read back with MemberReader over an in-memory ObjectReader, as
//   FileReader reads a file (window, member checks: gzip CRC-32, zstd checksum; records not unframed),
//   and an untimed pass checks that the bytes come back identical.
// Both are timed in CPU time of this process (one thread, CLOCK_PROCESS_CPUTIME_ID), so neither disk nor
// other processes' CPU enters; each is repeated and the fastest repetition counts (the least disturbed).
//
// Output: a markdown table, then one JSON object per codec on a line of its own (bench/codec-bench reads
// those). Rates are per CPU-second; MB = 10^6 bytes of framed records (headers and payloads); items are
// spans, data points and log records.
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "otlp/signal.h"
#include "otlp/wire.h"
#include "session/compression.h"
#include "session/file_reader.h"
#include "session/internal/members.h"
#include "session/metadata.h"
#include "session/record.h"
#include "session/session_store.h"
#include "store/object_store.h"
#include "store/testing/string_reader.h"

namespace otelrr::bench {
namespace {

using session::Compression;
using session::internal::MemberCompressor;
using session::internal::MemberReader;
using session::internal::MemberStatus;

// The records of one raw file, framed, and where the writer cut them into members.
struct FileRecords {
  std::string path;  // relative to the session folder
  otlp::Signal signal = otlp::Signal::kTraces;  // every file holds one signal
  std::string framed = {};
  std::vector<size_t> member_ends = {};  // offsets into `framed`; the first member starts at 0

  template <typename Fn>
  void ForEachMember(Fn&& fn) const {
    size_t start = 0;
    for (size_t end : member_ends) {
      fn(std::string_view(framed).substr(start, end - start));
      start = end;
    }
  }
};

struct Loaded {
  std::vector<FileRecords> files;
  uint64_t records = 0;
  uint64_t members = 0;
  uint64_t framed_bytes = 0;
  uint64_t spans = 0;
  uint64_t data_points = 0;
  uint64_t log_records = 0;
  otlp::PerSignal<uint64_t> framed_by_signal = {};
  uint64_t stored_bytes = 0;  // the session's raw files as the store holds them
  std::string stored_as;      // their compressions ("zstd", "gzip+zstd" when mixed)

  uint64_t items() const { return spans + data_points + log_records; }
};

struct Codec {
  Compression compression = Compression::kZstd;
  int level = 1;
  // "zstd 1", "gzip 6", "none".
  std::string name() const {
    if (compression == Compression::kNone) return std::string(session::CompressionName(compression));
    return fmt::format("{} {}", session::CompressionName(compression), level);
  }
};

struct Result {
  Codec codec;
  uint64_t stored_bytes = 0;
  otlp::PerSignal<uint64_t> stored_by_signal = {};
  double write_cpu_seconds = 0;  // the fastest repetition
  double read_cpu_seconds = 0;
};

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// "gzip:1,zstd:-1,none" (a missing level is the compression's default).
absl::StatusOr<std::vector<Codec>> ParseCodecs(std::string_view text) {
  std::vector<Codec> codecs;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view one = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    std::string_view name = one.substr(0, one.find(':'));
    Codec c;
    if (!session::ParseCompression(name, &c.compression)) {
      return absl::InvalidArgumentError(fmt::format("--codecs: '{}' is not gzip, zstd or none", name));
    }
    c.level = session::DefaultCompressionLevel(c.compression);
    if (size_t colon = one.find(':'); colon != std::string_view::npos) {
      std::string level(one.substr(colon + 1));
      char* end = nullptr;
      long v = std::strtol(level.c_str(), &end, 10);
      if (level.empty() || *end != '\0' || v < -100 || v > 100) {
        return absl::InvalidArgumentError(fmt::format("--codecs: '{}' has no integer level", one));
      }
      c.level = static_cast<int>(v);
    }
    if (absl::Status s = session::ValidateCompressionLevel(c.compression, c.level); !s.ok()) return s;
    codecs.push_back(c);
  }
  if (codecs.empty()) return absl::InvalidArgumentError("--codecs names no codec");
  return codecs;
}

absl::StatusOr<Loaded> Load(store::ObjectStore& store, const std::string& id, size_t member_bytes) {
  session::SessionStore sessions(store);
  // The reader lists the session's raw files (from metadata.json when closed, else from raw/); each is read
  // whole, in write order, because the writer cuts members within a file (a new file starts a new member:
  // files roll at max_file_bytes and at each UTC hour).
  absl::StatusOr<std::unique_ptr<session::SessionReader>> reader = sessions.OpenReader(id);
  if (!reader.ok()) return reader.status();
  Loaded loaded;
  for (const std::string& path : (*reader)->files()) {
    std::string key = session::SessionPrefix(id) + path;
    absl::StatusOr<std::unique_ptr<session::FileReader>> file = session::FileReader::Open(store, key, {});
    if (!file.ok()) return file.status();
    FileRecords records{.path = path};
    std::vector<size_t> ends;  // of each record in records.framed
    session::Record r;
    while (true) {
      absl::StatusOr<bool> more = (*file)->Next(&r);
      if (!more.ok()) return more.status();
      if (!*more) break;
      absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(r.signal, r.payload);
      if (!summary.ok()) return Prefixed(summary.status(), fmt::format("{} record {}", path, r.sequence));
      records.signal = r.signal;
      loaded.spans += summary->spans;
      loaded.data_points += summary->data_points;
      loaded.log_records += summary->log_records;
      if (absl::Status s = session::AppendRecord(r, &records.framed); !s.ok()) return s;
      ends.push_back(records.framed.size());
    }
    loaded.stored_bytes += (*file)->stored_bytes_read();
    std::string_view name = session::CompressionName((*file)->compression());
    if (loaded.stored_as.find(name) == std::string::npos) {
      loaded.stored_as += fmt::format("{}{}", loaded.stored_as.empty() ? "" : "+", name);
    }
    if (ends.empty()) continue;
    // The writer's cut: a member is complete once it holds member_bytes or more (writer.cc, Append).
    size_t start = 0;
    for (size_t i = 0; i < ends.size(); ++i) {
      if (ends[i] - start >= member_bytes || i + 1 == ends.size()) {
        records.member_ends.push_back(ends[i]);
        start = ends[i];
      }
    }
    loaded.records += ends.size();
    loaded.members += records.member_ends.size();
    loaded.framed_bytes += records.framed.size();
    loaded.framed_by_signal[records.signal] += records.framed.size();
    loaded.files.push_back(std::move(records));
  }
  if (loaded.records == 0) return absl::NotFoundError(fmt::format("session {} holds no records", id));
  return loaded;
}

// Reads the compressed files back through MemberReader. With `check`, compares every byte returned with
// the records; otherwise only consumes them (the timed pass). For `none` the reader's "members" are runs of
// whole records that fit its window, not the members written, hence the byte-wise comparison.
absl::Status ReadBack(const Loaded& loaded, const std::vector<std::string>& compressed, Codec codec, bool check,
                      double* cpu_seconds) {
  // The readers hold their own copies (as a file's bytes would come from the page cache); made untimed.
  std::vector<std::unique_ptr<MemberReader>> readers;
  for (const std::string& bytes : compressed) {
    readers.push_back(std::make_unique<MemberReader>(std::make_unique<store::testing::StringReader>(bytes),
                                                     session::internal::MemberReaderOptions{
                                                         .compression = codec.compression}));
  }
  std::string member;
  double start = CpuSeconds();
  for (size_t i = 0; i < readers.size(); ++i) {
    const std::string& want = loaded.files[i].framed;
    size_t pos = 0;
    while (true) {
      absl::StatusOr<MemberStatus> s = readers[i]->NextMember(&member);
      if (!s.ok()) return s.status();
      if (*s == MemberStatus::kEnd) break;
      if (*s != MemberStatus::kMember) {
        return absl::DataLossError(fmt::format("{}, {}: {}", codec.name(), loaded.files[i].path,
                                               readers[i]->problem()));
      }
      if (check) {
        if (member.size() > want.size() - pos || std::memcmp(member.data(), want.data() + pos, member.size()) != 0) {
          return absl::DataLossError(fmt::format("{}, {}: the bytes read back differ from the records at byte {}",
                                                 codec.name(), loaded.files[i].path, pos));
        }
      }
      pos += member.size();
    }
    if (pos != want.size()) {
      return absl::DataLossError(fmt::format("{}, {}: {} bytes read back of {}", codec.name(),
                                             loaded.files[i].path, pos, want.size()));
    }
  }
  *cpu_seconds = CpuSeconds() - start;
  return absl::OkStatus();
}

absl::StatusOr<Result> Measure(const Loaded& loaded, Codec codec, int repetitions) {
  MemberCompressor compressor(codec.compression, codec.level);
  Result result{.codec = codec};
  std::vector<std::string> compressed(loaded.files.size());
  for (size_t i = 0; i < loaded.files.size(); ++i) {
    uint64_t bound = 0;
    loaded.files[i].ForEachMember(
        [&](std::string_view m) { bound += MemberCompressor::Bound(codec.compression, m.size()); });
    compressed[i].reserve(bound);
  }
  result.write_cpu_seconds = std::numeric_limits<double>::infinity();
  for (int rep = 0; rep < repetitions; ++rep) {
    for (std::string& c : compressed) c.clear();
    double start = CpuSeconds();
    absl::Status status;
    for (size_t i = 0; i < loaded.files.size(); ++i) {
      loaded.files[i].ForEachMember([&](std::string_view m) {
        if (status.ok()) status = compressor.Compress(m, &compressed[i]);
      });
    }
    if (!status.ok()) return status;
    result.write_cpu_seconds = std::min(result.write_cpu_seconds, CpuSeconds() - start);
  }
  for (size_t i = 0; i < compressed.size(); ++i) {
    result.stored_bytes += compressed[i].size();
    result.stored_by_signal[loaded.files[i].signal] += compressed[i].size();
  }

  double unused = 0;
  if (absl::Status s = ReadBack(loaded, compressed, codec, /*check=*/true, &unused); !s.ok()) return s;
  result.read_cpu_seconds = std::numeric_limits<double>::infinity();
  for (int rep = 0; rep < repetitions; ++rep) {
    double seconds = 0;
    if (absl::Status s = ReadBack(loaded, compressed, codec, /*check=*/false, &seconds); !s.ok()) return s;
    result.read_cpu_seconds = std::min(result.read_cpu_seconds, seconds);
  }
  return result;
}

// x / n; NaN when n is 0 (a session without spans), printed as "–" and written as JSON null.
double Per(double x, uint64_t n) {
  return n == 0 ? std::numeric_limits<double>::quiet_NaN() : x / static_cast<double>(n);
}

// 1234567 -> "1,234,567".
std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Cell(double v, int decimals) {
  if (v != v) return "–";
  return fmt::format("{:.{}f}", v, decimals);
}

void JsonNumber(JsonWriter& w, std::string_view key, double v, double scale) {
  w.Key(key);
  if (v != v) {
    w.Null();
  } else {
    w.Double(std::round(v * scale) / scale);
  }
}

struct Flags {
  std::string store;
  std::string session;
  std::string codecs = "gzip:1,gzip:6,zstd:-1,zstd:1,zstd:3,zstd:6,none";
  int repetitions = 3;
  size_t member_bytes = session::WriterOptions{}.member_bytes;
};

int Run(const Flags& f) {
  absl::StatusOr<std::vector<Codec>> codecs = ParseCodecs(f.codecs);
  if (!codecs.ok() || f.repetitions < 1 || f.member_bytes == 0) {
    std::fprintf(stderr, "otelrr_codec_bench: %s\n",
                 codecs.ok() ? "--repetitions and --member-bytes must be at least 1"
                             : std::string(codecs.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store::OpenStore(f.store);
  if (!store.ok()) {
    std::fprintf(stderr, "otelrr_codec_bench: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<Loaded> loaded = Load(**store, f.session, f.member_bytes);
  if (!loaded.ok()) {
    std::fprintf(stderr, "otelrr_codec_bench: session %s: %s\n", f.session.c_str(),
                 std::string(loaded.status().message()).c_str());
    return 1;
  }
  const Loaded& l = *loaded;
  std::printf("session %s: %llu records in %llu members, %llu framed bytes; %llu spans, %llu data points, "
              "%llu log records; stored as %s: %llu bytes\n\n",
              f.session.c_str(), static_cast<unsigned long long>(l.records),
              static_cast<unsigned long long>(l.members),
              static_cast<unsigned long long>(l.framed_bytes), static_cast<unsigned long long>(l.spans),
              static_cast<unsigned long long>(l.data_points), static_cast<unsigned long long>(l.log_records),
              l.stored_as.empty() ? "?" : l.stored_as.c_str(), static_cast<unsigned long long>(l.stored_bytes));

  std::vector<Result> results;
  for (const Codec& codec : *codecs) {
    absl::StatusOr<Result> r = Measure(l, codec, f.repetitions);
    if (!r.ok()) {
      std::fprintf(stderr, "otelrr_codec_bench: %s: %s\n", codec.name().c_str(),
                   std::string(r.status().message()).c_str());
      return 1;
    }
    results.push_back(*r);
  }

  const double mb = static_cast<double>(l.framed_bytes) / 1e6;
  std::printf("| codec | stored bytes | ratio | B/span | B/item | write CPU-s/M spans | write CPU-s/M items | "
              "write MB/s | read CPU-s/M spans | read CPU-s/M items | read MB/s |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Result& r : results) {
    double stored = static_cast<double>(r.stored_bytes);
    std::printf("| %s | %s | %.2f | %s | %s | %s | %s | %.0f | %s | %s | %.0f |\n", r.codec.name().c_str(),
                Thousands(r.stored_bytes).c_str(), static_cast<double>(l.framed_bytes) / stored,
                Cell(Per(stored, l.spans), 1).c_str(), Cell(Per(stored, l.items()), 1).c_str(),
                Cell(Per(r.write_cpu_seconds * 1e6, l.spans), 3).c_str(),
                Cell(Per(r.write_cpu_seconds * 1e6, l.items()), 3).c_str(), mb / r.write_cpu_seconds,
                Cell(Per(r.read_cpu_seconds * 1e6, l.spans), 3).c_str(),
                Cell(Per(r.read_cpu_seconds * 1e6, l.items()), 3).c_str(), mb / r.read_cpu_seconds);
  }
  std::printf("\n");
  for (const Result& r : results) {
    double stored = static_cast<double>(r.stored_bytes);
    JsonWriter w;
    w.BeginObject();
    w.Field("session", f.session);
    w.Field("compression", session::CompressionName(r.codec.compression));
    w.Field("level", r.codec.level);
    w.Field("records", l.records);
    w.Field("framedBytes", l.framed_bytes);
    w.Field("spans", l.spans);
    w.Field("dataPoints", l.data_points);
    w.Field("logRecords", l.log_records);
    w.Field("storedBytes", r.stored_bytes);
    // Per signal (the files of each): what traces alone take, to compare with trace-only figures elsewhere.
    for (auto [key, by_signal] : {std::pair{"framedBytesBySignal", &l.framed_by_signal},
                                  std::pair{"storedBytesBySignal", &r.stored_by_signal}}) {
      w.Key(key);
      w.BeginObject();
      for (otlp::Signal signal : otlp::kSignals) w.Field(otlp::SignalName(signal), (*by_signal)[signal]);
      w.EndObject();
    }
    w.Field("members", l.members);
    JsonNumber(w, "ratio", static_cast<double>(l.framed_bytes) / stored, 1e3);
    JsonNumber(w, "bytesPerSpan", Per(stored, l.spans), 1e2);
    JsonNumber(w, "bytesPerItem", Per(stored, l.items()), 1e2);
    JsonNumber(w, "writeCpuSeconds", r.write_cpu_seconds, 1e6);
    JsonNumber(w, "writeCpuSecondsPerMillionSpans", Per(r.write_cpu_seconds * 1e6, l.spans), 1e4);
    JsonNumber(w, "writeCpuSecondsPerMillionItems", Per(r.write_cpu_seconds * 1e6, l.items()), 1e4);
    JsonNumber(w, "writeMBPerSecond", mb / r.write_cpu_seconds, 1e1);
    JsonNumber(w, "readCpuSeconds", r.read_cpu_seconds, 1e6);
    JsonNumber(w, "readCpuSecondsPerMillionSpans", Per(r.read_cpu_seconds * 1e6, l.spans), 1e4);
    JsonNumber(w, "readCpuSecondsPerMillionItems", Per(r.read_cpu_seconds * 1e6, l.items()), 1e4);
    JsonNumber(w, "readMBPerSecond", mb / r.read_cpu_seconds, 1e1);
    w.Field("repetitions", f.repetitions);
    w.Field("memberBytes", f.member_bytes);
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  }
  return 0;
}

}  // namespace
}  // namespace otelrr::bench

int main(int argc, char** argv) {
  otelrr::bench::Flags f;
  CLI::App app{"Measures each session compression (bytes stored, CPU to write and to read) on a session's records"};
  app.add_option("--store", f.store, "session store: a path or file:// URI")->required();
  app.add_option("--session", f.session, "the session whose records are measured")->required();
  app.add_option("--codecs", f.codecs, "compression:level list, e.g. gzip:1,zstd:1,none")->capture_default_str();
  app.add_option("--repetitions", f.repetitions, "runs of each measurement; the fastest counts")
      ->capture_default_str();
  app.add_option("--member-bytes", f.member_bytes, "records per member, as the writer's member_bytes")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return otelrr::bench::Run(f);
}
