#include "otlp/otlp_file.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <simdjson.h>

#include "common/status.h"
#include "fmt/format.h"
#include "otlp/json.h"
#include "otlp/wire.h"

namespace otelrr::otlp {
namespace {

constexpr unsigned char kZstdMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};

bool StartsWithZstdMagic(std::string_view s) {
  return s.size() >= 4 && std::memcmp(s.data(), kZstdMagic, 4) == 0;
}

// A stream of the file's bytes with any whole-file compression undone.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes; 0 at the end.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// An open file and the name that errors give it.
class FileSource : public ByteSource {
 public:
  FileSource(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  ~FileSource() override { std::fclose(file_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

 protected:
  // Reads up to n bytes of the file; 0 at its end.
  absl::StatusOr<size_t> ReadFile(char* buf, size_t n) {
    size_t got = std::fread(buf, 1, n, file_);
    if (got == 0 && std::ferror(file_)) {
      return absl::DataLossError(fmt::format("{}: read error: {}", path_, std::strerror(errno)));
    }
    return got;
  }
  // A file that ends before its compressed data does was cut, most often by a copy or download that
  // stopped: say so, and what helps.
  absl::Status Truncated(std::string_view format, std::string_view unit) const {
    return absl::DataLossError(fmt::format(
        "{}: the {} data is truncated (the file ends inside a {} {}): the file is incomplete; copy it again", path_,
        format, format, unit));
  }
  const std::string& path() const { return path_; }

 private:
  std::FILE* file_;
  std::string path_;
};

class PlainSource : public FileSource {
 public:
  using FileSource::FileSource;
  absl::StatusOr<size_t> Read(char* buf, size_t n) override { return ReadFile(buf, n); }
};

// Whole-file gzip compression: one member, or several (what `cat a.gz b.gz` makes). Inflated here rather
// than through gzread, which returns what it could inflate of a cut file without an error and skips bytes
// after the last member, so a truncated or damaged file would import as a partial one. Each member must
// be complete, its CRC32 and size must match, and what follows it must be another member.
class GzipSource : public FileSource {
 public:
  GzipSource(std::FILE* file, std::string path)
      : FileSource(file, std::move(path)), in_buf_(1 << 17), init_(inflateInit2(&zs_, 16 + MAX_WBITS)) {}
  ~GzipSource() override {
    if (init_ == Z_OK) inflateEnd(&zs_);
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (init_ != Z_OK) return absl::ResourceExhaustedError(fmt::format("{}: cannot start inflating", path()));
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    const uInt wanted = zs_.avail_out;
    while (zs_.avail_out == wanted && wanted > 0) {
      if (!in_member_) {
        if (zs_.avail_in == 0) {
          absl::StatusOr<bool> more = Fill();
          if (!more.ok()) return more.status();
          if (!*more) break;  // the end of the file, between members: all read
        }
        // Checked here because inflate would take a lone trailing byte for the start of a cut member.
        if (members_ > 0 && zs_.next_in[0] != 0x1f) return NotAMember();
        if (inflateReset(&zs_) != Z_OK) return Invalid("cannot reset the inflater");
        in_member_ = true;
      }
      int r = inflate(&zs_, Z_NO_FLUSH);
      if (r == Z_STREAM_END) {
        in_member_ = false;
        ++members_;
      } else if (r == Z_BUF_ERROR) {
        // No progress without more input (the output has room): the member goes on in the file, or the
        // file was cut.
        if (zs_.avail_in > 0) return Invalid("inflate made no progress");
        absl::StatusOr<bool> more = Fill();
        if (!more.ok()) return more.status();
        if (!*more) return Truncated("gzip", "member");
      } else if (r != Z_OK) {
        return DataError(r);
      }
    }
    return wanted - zs_.avail_out;
  }

 private:
  // Refills the input once it is all consumed; false at the end of the file.
  absl::StatusOr<bool> Fill() {
    absl::StatusOr<size_t> got = ReadFile(in_buf_.data(), in_buf_.size());
    if (!got.ok()) return got.status();
    zs_.next_in = reinterpret_cast<Bytef*>(in_buf_.data());
    zs_.avail_in = static_cast<uInt>(*got);
    return *got > 0;
  }

  absl::Status DataError(int r) {
    std::string_view msg = zs_.msg != nullptr ? zs_.msg : "";
    // zlib's messages for the two checks of a member's trailer.
    if (msg == "incorrect data check") {
      return absl::DataLossError(fmt::format("{}: gzip CRC mismatch: the file is corrupt", path()));
    }
    if (msg == "incorrect length check") {
      return absl::DataLossError(fmt::format(
          "{}: gzip size mismatch (the trailer's ISIZE is not the inflated size): the file is corrupt", path()));
    }
    if (members_ > 0 && zs_.total_in <= 2 && msg == "incorrect header check") return NotAMember();
    if (r == Z_MEM_ERROR) return absl::ResourceExhaustedError(fmt::format("{}: out of memory inflating", path()));
    return Invalid(msg.empty() ? fmt::format("zlib error {}", r) : std::string(msg));
  }
  absl::Status NotAMember() const {
    return absl::DataLossError(fmt::format(
        "{}: the bytes after gzip member {} are not another gzip member: the file is corrupt, or something was "
        "appended to it",
        path(), members_));
  }
  absl::Status Invalid(std::string_view what) const {
    return absl::DataLossError(fmt::format("{}: invalid gzip data ({}): the file is corrupt", path(), what));
  }

  z_stream zs_{};
  std::vector<char> in_buf_;
  int init_;
  bool in_member_ = false;
  int members_ = 0;  // members read whole
};

// Whole-file zstd compression.
class ZstdSource : public FileSource {
 public:
  ZstdSource(std::FILE* file, std::string path)
      : FileSource(file, std::move(path)), ctx_(ZSTD_createDStream()), in_buf_(ZSTD_DStreamInSize()) {
    ZSTD_initDStream(ctx_);
  }
  ~ZstdSource() override { ZSTD_freeDStream(ctx_); }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      if (in_.pos == in_.size && !file_ended_) {
        absl::StatusOr<size_t> got = ReadFile(in_buf_.data(), in_buf_.size());
        if (!got.ok()) return got.status();
        file_ended_ = *got == 0;
        in_ = ZSTD_inBuffer{in_buf_.data(), *got, 0};
      }
      // After a whole frame there is nothing left to flush; calling again would start a new frame.
      if (file_ended_ && frame_done_) return 0;
      size_t r = ZSTD_decompressStream(ctx_, &out, &in_);
      if (ZSTD_isError(r)) {
        return absl::DataLossError(fmt::format("{}: invalid zstd data: {}", path(), ZSTD_getErrorName(r)));
      }
      frame_done_ = r == 0;
      // The decoder may still hold output from input it took earlier: the frame is cut only when even
      // that is gone.
      if (file_ended_ && out.pos == 0 && !frame_done_) return Truncated("zstd", "frame");
    }
    return out.pos;
  }

 private:
  ZSTD_DStream* ctx_;
  std::vector<char> in_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool file_ended_ = false;
  bool frame_done_ = true;
};

// Buffered reading on top of a ByteSource: peeking, exact reads and lines.
class BufferedInput {
 public:
  explicit BufferedInput(std::unique_ptr<ByteSource> source) : source_(std::move(source)) {}

  // Makes at least `n` bytes available unless the input ends first; returns what is available.
  absl::StatusOr<std::string_view> Peek(size_t n) {
    while (buf_.size() - pos_ < n && !eof_) {
      if (pos_ > 0 && pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
      }
      size_t old = buf_.size();
      // Grow by what a read can fill, not by what was asked: a length prefix claiming 200 MiB in a
      // 10-byte file must not allocate 200 MiB.
      size_t want = std::clamp<size_t>(n - (buf_.size() - pos_), 1 << 16, 1 << 20);
      buf_.resize(old + want);
      absl::StatusOr<size_t> got = source_->Read(buf_.data() + old, want);
      if (!got.ok()) return got.status();
      buf_.resize(old + *got);
      if (*got == 0) eof_ = true;
    }
    return std::string_view(buf_).substr(pos_, std::min(n, buf_.size() - pos_));
  }

  void Consume(size_t n) {
    pos_ += n;
    if (pos_ > (1u << 20) && pos_ * 2 > buf_.size()) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
  }

  // The next line without its terminator; false at the end. Lines longer than `max` are an error.
  absl::StatusOr<bool> ReadLine(std::string* line, size_t max) {
    line->clear();
    while (true) {
      std::string_view avail = std::string_view(buf_).substr(pos_);
      size_t nl = avail.find('\n');
      if (nl != std::string_view::npos) {
        line->append(avail.substr(0, nl));
        Consume(nl + 1);
        break;
      }
      line->append(avail);
      Consume(avail.size());
      if (line->size() > max) return absl::ResourceExhaustedError("line too long");
      if (eof_) {
        if (line->empty()) return false;
        break;
      }
      absl::StatusOr<std::string_view> more = Peek(1 << 16);
      if (!more.ok()) return more.status();
      if (more->empty()) {
        if (line->empty()) return false;
        break;
      }
    }
    if (!line->empty() && line->back() == '\r') line->pop_back();
    if (line->size() > max) return absl::ResourceExhaustedError("line too long");
    return true;
  }

 private:
  std::unique_ptr<ByteSource> source_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsJsonSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Converts one OTLP/JSON document, detecting its signal unless given.
absl::Status ConvertJson(JsonCodec& codec, std::string_view json, const std::optional<Signal>& forced,
                         OtlpFileMessage* m) {
  Signal signal;
  if (forced) {
    signal = *forced;
  } else {
    absl::StatusOr<Signal> detected = DetectJsonSignal(json);
    if (!detected.ok()) return detected.status();
    signal = *detected;
  }
  m->signal = signal;
  m->payload.clear();
  m->was_json = true;
  return codec.JsonToProto(signal, json, &m->payload);
}

absl::Status ConvertProtobuf(std::string&& bytes, const std::optional<Signal>& forced, OtlpFileMessage* m) {
  Signal signal;
  if (forced) {
    signal = *forced;
    if (absl::Status s = Validate(signal, bytes); !s.ok()) return s;
  } else {
    absl::StatusOr<Signal> detected = DetectProtobufSignal(bytes);
    if (!detected.ok()) return detected.status();
    signal = *detected;
  }
  m->signal = signal;
  m->payload = std::move(bytes);
  m->was_json = false;
  return absl::OkStatus();
}

absl::Status Annotate(const absl::Status& s, const std::string& path, std::string_view unit, uint64_t index) {
  // Errors of the file as a whole (a cut or corrupt compressed file) name it already, and a line or
  // message number would only tell how far reading ahead had gone.
  if (std::string_view(s.message().data(), s.message().size()).starts_with(path + ": ")) return s;
  return absl::Status(s.code(), fmt::format("{} {} {}: {}", path, unit, index, s.message()));
}

class JsonLinesReader : public OtlpFileReader {
 public:
  JsonLinesReader(std::unique_ptr<BufferedInput> in, std::string path, OtlpFileOptions options)
      : in_(std::move(in)), path_(std::move(path)), options_(options) {}
  absl::StatusOr<bool> Next(OtlpFileMessage* m) override {
    while (true) {
      absl::StatusOr<bool> got = in_->ReadLine(&line_, options_.max_message_bytes);
      ++line_number_;
      if (!got.ok()) return Annotate(got.status(), path_, "line", line_number_);
      if (!*got) return false;
      if (Trim(line_).empty()) continue;
      m->index = line_number_;
      absl::Status s = ConvertJson(codec_, line_, options_.signal, m);
      if (!s.ok()) return Annotate(s, path_, "line", line_number_);
      return true;
    }
  }
  std::string_view format() const override { return "OTLP JSON Lines"; }

 private:
  std::unique_ptr<BufferedInput> in_;
  std::string path_;
  OtlpFileOptions options_;
  JsonCodec codec_;
  std::string line_;
  uint64_t line_number_ = 0;
};

// One or more whole JSON documents, read into memory (documents of this form are small: big data is
// written as JSON Lines).
class JsonDocumentsReader : public OtlpFileReader {
 public:
  JsonDocumentsReader(std::string text, std::string path, OtlpFileOptions options)
      : text_(std::move(text)), path_(std::move(path)), options_(options) {}

  absl::StatusOr<bool> Next(OtlpFileMessage* m) override {
    if (!started_) {
      started_ = true;
      absl::Status s = Split();
      if (!s.ok()) return s;
    }
    if (next_ >= docs_.size()) return false;
    m->index = next_ + 1;
    absl::Status s = ConvertJson(codec_, docs_[next_], options_.signal, m);
    ++next_;
    if (!s.ok()) {
      if (docs_.size() == 1) return absl::Status(s.code(), fmt::format("{}: {}", path_, s.message()));
      return Annotate(s, path_, "document", next_);
    }
    return true;
  }
  std::string_view format() const override { return "OTLP/JSON document"; }

 private:
  // Splits concatenated documents by tracking string and nesting state; the codec checks each one.
  absl::Status Split() {
    std::string_view s = text_;
    size_t i = 0;
    while (true) {
      while (i < s.size() && IsJsonSpace(s[i])) ++i;
      if (i >= s.size()) break;
      if (s[i] != '{') {
        return absl::InvalidArgumentError(
            fmt::format("{}: byte {}: expected a JSON object ('{{'), found '{}'", path_, i, s[i]));
      }
      size_t start = i;
      int depth = 0;
      bool in_string = false;
      for (; i < s.size(); ++i) {
        char c = s[i];
        if (in_string) {
          if (c == '\\') {
            ++i;
          } else if (c == '"') {
            in_string = false;
          }
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          if (--depth == 0) {
            ++i;
            break;
          }
        }
      }
      if (depth != 0 || in_string) {
        return absl::InvalidArgumentError(
            fmt::format("{}: the JSON document starting at byte {} is not complete", path_, start));
      }
      docs_.push_back(s.substr(start, i - start));
    }
    if (docs_.empty()) return absl::InvalidArgumentError(fmt::format("{}: holds no JSON document", path_));
    return absl::OkStatus();
  }

  std::string text_;
  std::string path_;
  OtlpFileOptions options_;
  JsonCodec codec_;
  std::vector<std::string_view> docs_;
  size_t next_ = 0;
  bool started_ = false;
};

// The Collector file exporter's length-prefixed messages.
class LengthPrefixedReader : public OtlpFileReader {
 public:
  LengthPrefixedReader(std::unique_ptr<BufferedInput> in, std::string path, OtlpFileOptions options)
      : in_(std::move(in)), path_(std::move(path)), options_(options), zstd_(ZSTD_createDCtx()) {
    // The decoder allocates the window a frame declares. A message needs no window larger than itself,
    // but streaming encoders declare theirs without knowing the size, so allow at least 8 MiB (what
    // common encoders use), and no more than zstd's own default limit (128 MiB).
    int window_log = 23;
    while (window_log < 27 && (size_t{1} << window_log) < options_.max_message_bytes) ++window_log;
    ZSTD_DCtx_setParameter(zstd_, ZSTD_d_windowLogMax, window_log);
  }
  ~LengthPrefixedReader() override { ZSTD_freeDCtx(zstd_); }

  absl::StatusOr<bool> Next(OtlpFileMessage* m) override {
    absl::StatusOr<std::string_view> head = in_->Peek(4);
    if (!head.ok()) return head.status();
    if (head->empty()) return false;
    ++index_;
    if (head->size() < 4) {
      return Annotate(absl::DataLossError("truncated length prefix"), path_, "message", index_);
    }
    const auto* b = reinterpret_cast<const unsigned char*>(head->data());
    size_t size = size_t{b[0]} << 24 | size_t{b[1]} << 16 | size_t{b[2]} << 8 | b[3];
    if (size > options_.max_message_bytes) {
      return Annotate(absl::ResourceExhaustedError(fmt::format("length prefix says {} bytes, more than the "
                                                               "{} allowed: not a length-prefixed OTLP file?",
                                                               size, options_.max_message_bytes)),
                      path_, "message", index_);
    }
    in_->Consume(4);
    absl::StatusOr<std::string_view> body = in_->Peek(size);
    if (!body.ok()) return body.status();
    if (body->size() < size) {
      return Annotate(absl::DataLossError(fmt::format("truncated: {} of {} bytes", body->size(), size)), path_,
                      "message", index_);
    }
    std::string data(*body);
    in_->Consume(size);
    if (StartsWithZstdMagic(data)) {
      absl::StatusOr<std::string> plain = Decompress(data);
      if (!plain.ok()) return Annotate(plain.status(), path_, "message", index_);
      data = std::move(*plain);
    }
    m->index = index_;
    absl::Status s;
    std::string_view trimmed = Trim(data);
    if (!trimmed.empty() && trimmed.front() == '{') {
      s = ConvertJson(codec_, trimmed, options_.signal, m);
    } else {
      s = ConvertProtobuf(std::move(data), options_.signal, m);
    }
    if (!s.ok()) return Annotate(s, path_, "message", index_);
    return true;
  }
  std::string_view format() const override { return "Collector file exporter (length-prefixed)"; }

 private:
  absl::StatusOr<std::string> Decompress(std::string_view frame) {
    std::string out;
    ZSTD_DCtx_reset(zstd_, ZSTD_reset_session_only);
    ZSTD_inBuffer in{frame.data(), frame.size(), 0};
    while (true) {
      size_t old = out.size();
      out.resize(old + (1 << 16));
      ZSTD_outBuffer o{out.data() + old, 1 << 16, 0};
      size_t r = ZSTD_decompressStream(zstd_, &o, &in);
      out.resize(old + o.pos);
      if (ZSTD_isError(r)) return absl::DataLossError(fmt::format("invalid zstd data: {}", ZSTD_getErrorName(r)));
      if (out.size() > options_.max_message_bytes) {
        return absl::ResourceExhaustedError(
            fmt::format("decompresses to more than the {} bytes allowed", options_.max_message_bytes));
      }
      if (r == 0) break;
      if (in.pos == in.size && o.pos < o.size) return absl::DataLossError("truncated zstd frame");
    }
    return out;
  }

  std::unique_ptr<BufferedInput> in_;
  std::string path_;
  OtlpFileOptions options_;
  JsonCodec codec_;
  ZSTD_DCtx* zstd_;
  uint64_t index_ = 0;
};

class RawProtobufReader : public OtlpFileReader {
 public:
  RawProtobufReader(std::string data, std::string path, OtlpFileOptions options)
      : data_(std::move(data)), path_(std::move(path)), options_(options) {}
  absl::StatusOr<bool> Next(OtlpFileMessage* m) override {
    if (done_) return false;
    done_ = true;
    m->index = 1;
    absl::Status s = ConvertProtobuf(std::move(data_), options_.signal, m);
    if (!s.ok()) return absl::Status(s.code(), fmt::format("{}: {}", path_, s.message()));
    return true;
  }
  std::string_view format() const override { return "protobuf request"; }

 private:
  std::string data_;
  std::string path_;
  OtlpFileOptions options_;
  bool done_ = false;
};

absl::StatusOr<std::string> ReadRest(BufferedInput& in, size_t max, const std::string& path) {
  std::string all;
  while (true) {
    absl::StatusOr<std::string_view> chunk = in.Peek(1 << 20);
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) break;
    all.append(*chunk);
    in.Consume(chunk->size());
    if (all.size() > max) {
      return absl::ResourceExhaustedError(
          fmt::format("{}: larger than {} bytes; write big data as JSON Lines or length-prefixed messages", path,
                      max));
    }
  }
  return all;
}

}  // namespace

absl::StatusOr<Signal> DetectJsonSignal(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc); err) {
    return absl::InvalidArgumentError(fmt::format("not valid JSON: {}", simdjson::error_message(err)));
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return absl::InvalidArgumentError("the document is not a JSON object");
  for (auto field : obj) {
    std::string_view key = field.key;
    if (key == "resourceSpans" || key == "resource_spans") return Signal::kTraces;
    if (key == "resourceMetrics" || key == "resource_metrics") return Signal::kMetrics;
    if (key == "resourceLogs" || key == "resource_logs") return Signal::kLogs;
  }
  return absl::InvalidArgumentError(
      "the object has no resourceSpans, resourceMetrics or resourceLogs key: not OTLP/JSON traces, metrics or "
      "logs");
}

absl::StatusOr<Signal> DetectProtobufSignal(std::string_view payload) {
  std::vector<Signal> candidates;
  std::string first_error;
  for (Signal s : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
    absl::StatusOr<RequestSummary> summary = Summarize(s, payload);
    if (!summary.ok()) {
      if (first_error.empty()) first_error = std::string(summary.status().message());
      continue;
    }
    if (summary->items() > 0) candidates.push_back(s);
  }
  if (candidates.size() == 1) return candidates[0];
  if (candidates.empty()) {
    if (!first_error.empty() && payload.size() > 0) {
      return absl::InvalidArgumentError(
          fmt::format("not an OTLP protobuf request of any signal (as traces: {}); if it is, name its signal",
                      first_error));
    }
    return absl::InvalidArgumentError("the protobuf message holds no spans, data points or log records, so its "
                                      "signal cannot be told: name it");
  }
  return absl::InvalidArgumentError(
      "the protobuf message is valid as more than one signal: name its signal");
}

absl::StatusOr<std::unique_ptr<OtlpFileReader>> OtlpFileReader::Open(const std::string& path,
                                                                      const OtlpFileOptions& options) {
  std::FILE* raw = std::fopen(path.c_str(), "rb");
  if (raw == nullptr) {
    int err = errno;
    if (err == ENOENT) return absl::NotFoundError(fmt::format("{}: no such file", path));
    return absl::PermissionDeniedError(fmt::format("{}: cannot open: {}", path, std::strerror(err)));
  }
  unsigned char magic[4] = {0, 0, 0, 0};
  size_t n = std::fread(magic, 1, 4, raw);
  std::rewind(raw);
  std::unique_ptr<ByteSource> source;
  if (n == 4 && std::memcmp(magic, kZstdMagic, 4) == 0) {
    source = std::make_unique<ZstdSource>(raw, path);
  } else if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    source = std::make_unique<GzipSource>(raw, path);
  } else {
    source = std::make_unique<PlainSource>(raw, path);
  }
  auto in = std::make_unique<BufferedInput>(std::move(source));

  absl::StatusOr<std::string_view> head = in->Peek(4096);
  if (!head.ok()) return head.status();
  std::string_view trimmed = *head;
  while (!trimmed.empty() && IsJsonSpace(trimmed.front())) trimmed.remove_prefix(1);
  if (head->empty()) return absl::InvalidArgumentError(fmt::format("{}: the file is empty", path));

  if (!trimmed.empty() && trimmed.front() == '{') {
    // JSON Lines when the first line is a complete JSON value by itself; otherwise whole documents.
    std::string_view line;
    for (size_t want = 1 << 16;; want *= 2) {
      absl::StatusOr<std::string_view> first = in->Peek(std::min(want, options.max_message_bytes));
      if (!first.ok()) return first.status();
      size_t nl = first->find('\n');
      if (nl != std::string_view::npos || first->size() < want || want >= options.max_message_bytes) {
        line = first->substr(0, nl);
        break;
      }
    }
    simdjson::dom::parser parser;
    simdjson::dom::element ignored;
    bool first_line_complete = !parser.parse(line.data(), line.size()).get(ignored);
    if (first_line_complete) return std::make_unique<JsonLinesReader>(std::move(in), path, options);
    absl::StatusOr<std::string> text = ReadRest(*in, options.max_message_bytes, path);
    if (!text.ok()) return text.status();
    return std::make_unique<JsonDocumentsReader>(std::move(*text), path, options);
  }
  const auto* b = reinterpret_cast<const unsigned char*>(head->data());
  if (b[0] == 0x0a) {
    // Field 1, length-delimited: how every Export*ServiceRequest starts.
    absl::StatusOr<std::string> data = ReadRest(*in, options.max_message_bytes, path);
    if (!data.ok()) return data.status();
    return std::make_unique<RawProtobufReader>(std::move(*data), path, options);
  }
  if (head->size() >= 5) return std::make_unique<LengthPrefixedReader>(std::move(in), path, options);
  return absl::InvalidArgumentError(fmt::format(
      "{}: not a recognised OTLP file (expected OTLP JSON, JSON Lines, length-prefixed or raw protobuf)", path));
}

}  // namespace otelrr::otlp
