#include "session/pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "common/json_fields.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "session/copy.h"
#include "session/internal/sha256.h"
#include "session/layout.h"
#include "session/session_id.h"

namespace otelrr::session {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr size_t kMaxPathBytes = 1024;
// A cache that any reader rebuilds (docs/FORMAT.md, "Timeline cache"): not packed.
constexpr std::string_view kTimelineName = "timeline.json";
constexpr std::string_view kHowToRepack = "pack the session again, or fetch the whole file";

struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// One member of a pack, as the manifest lists it.
struct PackMember {
  std::string path;
  uint64_t size = 0;
  std::string sha256;
};

struct Manifest {
  uint64_t version = 0;
  std::string session_id;
  std::vector<PackMember> files;
};

std::string ManifestJson(std::string_view session_id, const std::vector<PackMember>& members) {
  JsonWriter w(true);
  w.BeginObject();
  w.Field("packFormatVersion", kPackFormatVersion);
  w.Field("sessionId", session_id);
  w.Key("files");
  w.BeginArray();
  for (const PackMember& m : members) {
    w.BeginObject();
    w.Field("path", m.path);
    w.Field("sizeBytes", m.size);
    w.Field("sha256", m.sha256);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str() + "\n";
}

// A name from the pack as a message can show it: at most 200 bytes, anything but printable ASCII as \xNN, so
// that an error stays one line whatever the pack holds.
std::string Printable(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
  }
  if (name.size() > 200) out += "...";
  return out;
}

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A member path is relative to the session folder and spelled with the characters of session ids and raw
// file names (A-Z a-z 0-9 . _ - and '/' between segments, so that every tar tool and file system reads it the
// same way): no leading '/', no empty, "." or ".." segment, nothing of the store's own (".otelrr-" locks and
// temporary files), and not the manifest itself.
absl::Status ValidateMemberPath(std::string_view path) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("the pack's member path '{}' is {}: refusing the pack (it "
                                                  "was not made by 'otelrr sessions pack', or was tampered with)",
                                                  Printable(path), why));
  };
  if (path.empty()) return bad("empty");
  if (path.size() > kMaxPathBytes) return bad("too long");
  if (path.front() == '/') return bad("absolute");
  for (char c : path) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                         c == '_' || c == '-' || c == '/';
    if (!allowed) return bad("not spelled with A-Z a-z 0-9 . _ - and /");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") return bad("outside the session (a '..' segment)");
    if (segment.empty() || segment == ".") return bad("not a plain relative path (an empty or '.' segment)");
    if (segment.starts_with(".otelrr-")) return bad("a name the store keeps for itself (.otelrr-*)");
    start = end + 1;
  }
  if (path == kPackManifestName) return bad("the manifest's own name");
  return absl::OkStatus();
}

absl::StatusOr<Manifest> ParseManifest(std::string_view json) {
  Manifest m;
  auto files = [&m](std::string_view key, simdjson::dom::element value) -> absl::Status {
    simdjson::dom::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(fmt::format("{} must be an array", key));
    }
    for (simdjson::dom::element e : array) {
      PackMember f;
      if (absl::Status s = ReadJsonObject(e, "a file of the manifest",
                                          {{"path", StringInto(&f.path)},
                                           {"sizeBytes", Uint64Into(&f.size)},
                                           {"sha256", StringInto(&f.sha256)}});
          !s.ok()) {
        return s;
      }
      m.files.push_back(std::move(f));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = ReadJsonObject(json, "the pack's manifest (otelrr-pack.json)",
                                      {{"packFormatVersion", Uint64Into(&m.version)},
                                       {"sessionId", StringInto(&m.session_id)},
                                       {"files", files}});
      !s.ok()) {
    return s;
  }
  return m;
}

// The pack's tar writer: POSIX ustar (pax headers only where ustar cannot hold a name), every member a
// regular file with mode 0644, owner 0:0 without names, and one fixed time.
class TarWriter {
 public:
  TarWriter(const PackSink& sink, int64_t mtime) : sink_(sink), mtime_(mtime) {}

  absl::Status Open() {
    archive_.reset(archive_write_new());
    if (archive_ == nullptr) return absl::ResourceExhaustedError("cannot allocate a tar writer");
    if (archive_write_set_format_pax_restricted(archive_.get()) != ARCHIVE_OK ||
        archive_write_add_filter_none(archive_.get()) != ARCHIVE_OK ||
        archive_write_open2(archive_.get(), this, nullptr, &TarWriter::OnWrite, nullptr, nullptr) != ARCHIVE_OK) {
      return Error("starting the pack");
    }
    return absl::OkStatus();
  }

  absl::Status Begin(const std::string& path, uint64_t size) {
    std::unique_ptr<archive_entry, ArchiveEntryFree> entry(archive_entry_new());
    if (entry == nullptr) return absl::ResourceExhaustedError("cannot allocate a tar entry");
    archive_entry_set_pathname(entry.get(), path.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    archive_entry_set_mtime(entry.get(), mtime_, 0);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    if (archive_write_header(archive_.get(), entry.get()) != ARCHIVE_OK) return Error(path);
    return absl::OkStatus();
  }

  absl::Status Write(std::string_view data) {
    while (!data.empty()) {
      la_ssize_t n = archive_write_data(archive_.get(), data.data(), data.size());
      if (n <= 0) return Error("writing the pack");
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status End() {
    if (archive_write_finish_entry(archive_.get()) != ARCHIVE_OK) return Error("writing the pack");
    return absl::OkStatus();
  }

  absl::Status Close() {
    if (archive_write_close(archive_.get()) != ARCHIVE_OK) return Error("finishing the pack");
    return absl::OkStatus();
  }

  uint64_t bytes() const { return bytes_; }

 private:
  static la_ssize_t OnWrite(archive*, void* self, const void* buffer, size_t length) {
    auto* w = static_cast<TarWriter*>(self);
    absl::Status s = w->sink_(std::string_view(static_cast<const char*>(buffer), length));
    if (!s.ok()) {
      w->sink_status_ = std::move(s);
      return -1;
    }
    w->bytes_ += length;
    return static_cast<la_ssize_t>(length);
  }

  // The sink's own error when it caused the failure, else libarchive's.
  absl::Status Error(std::string_view context) {
    if (!sink_status_.ok()) return sink_status_;
    const char* why = archive_error_string(archive_.get());
    return absl::InternalError(fmt::format("{}: {}", context, why != nullptr ? why : "libarchive failed"));
  }

  const PackSink& sink_;
  int64_t mtime_;
  std::unique_ptr<archive, ArchiveWriteFree> archive_;
  absl::Status sink_status_;
  uint64_t bytes_ = 0;
};

// The pack's tar reader over an ObjectReader: only tar (ustar, pax, GNU), no compression.
class TarReader {
 public:
  explicit TarReader(store::ObjectReader& in) : in_(in), buf_(kChunkBytes, '\0') {}

  struct Member {
    std::string path;
    uint64_t size = 0;
    bool size_known = false;
    bool regular = false;
  };

  absl::Status Open() {
    archive_.reset(archive_read_new());
    if (archive_ == nullptr) return absl::ResourceExhaustedError("cannot allocate a tar reader");
    if (archive_read_support_format_tar(archive_.get()) != ARCHIVE_OK ||
        archive_read_open(archive_.get(), this, nullptr, &TarReader::OnRead, nullptr) != ARCHIVE_OK) {
      return Error("its start");
    }
    return absl::OkStatus();
  }

  // False at the end of the archive.
  absl::StatusOr<bool> Next(Member* m, std::string_view where) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(archive_.get(), &entry);
    if (r == ARCHIVE_EOF) return false;
    if (r != ARCHIVE_OK) return Error(where);
    const char* path = archive_entry_pathname(entry);
    m->path = path != nullptr ? path : "";
    m->size_known = archive_entry_size_is_set(entry) != 0;
    m->size = m->size_known ? static_cast<uint64_t>(archive_entry_size(entry)) : 0;
    m->regular = archive_entry_filetype(entry) == AE_IFREG && archive_entry_hardlink(entry) == nullptr &&
                 archive_entry_symlink(entry) == nullptr;
    return true;
  }

  // The current member's next bytes; 0 at its end.
  absl::StatusOr<size_t> Read(char* buf, size_t n, std::string_view where) {
    la_ssize_t got = archive_read_data(archive_.get(), buf, n);
    if (got < 0) return Error(where);
    return static_cast<size_t>(got);
  }

 private:
  static la_ssize_t OnRead(archive*, void* self, const void** buffer) {
    auto* r = static_cast<TarReader*>(self);
    absl::StatusOr<size_t> n = r->in_.Read(r->buf_.data(), r->buf_.size());
    if (!n.ok()) {
      r->in_status_ = n.status();
      return -1;
    }
    *buffer = r->buf_.data();
    r->bytes_read_ += *n;
    return static_cast<la_ssize_t>(*n);
  }

  absl::Status Error(std::string_view where) {
    if (!in_status_.ok()) return Prefixed(in_status_, "reading the pack");
    const char* why = archive_error_string(archive_.get());
    std::string reason = why != nullptr ? why : "libarchive failed";
    if (bytes_read_ == 0) return absl::InvalidArgumentError("not an otelrr pack: the file is empty");
    if (reason.find("Unrecognized archive format") != std::string::npos) {
      return absl::InvalidArgumentError("not an otelrr pack: not a tar file (make packs with 'otelrr sessions pack')");
    }
    if (reason.find("Truncated") != std::string::npos) {
      return absl::InvalidArgumentError(
          fmt::format("the pack is cut short ({}, {}): {}", where, reason, kHowToRepack));
    }
    return absl::InvalidArgumentError(fmt::format("the pack is damaged or not a tar file ({}: {}): {}", where,
                                                  reason, kHowToRepack));
  }

  store::ObjectReader& in_;
  std::string buf_;
  std::unique_ptr<archive, ArchiveReadFree> archive_;
  absl::Status in_status_;
  uint64_t bytes_read_ = 0;
};

// Reads the current member whole (a small one: the manifest, metadata.json). Grows with what arrives, so a
// header that claims more than the file holds costs no more memory than the file.
absl::StatusOr<std::string> ReadWhole(TarReader& tar, const TarReader::Member& m, std::string_view where) {
  std::string out;
  std::string buf(std::min<uint64_t>(m.size, kChunkBytes), '\0');
  while (out.size() < m.size) {
    absl::StatusOr<size_t> n = tar.Read(buf.data(), std::min<uint64_t>(buf.size(), m.size - out.size()), where);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf.data(), *n);
  }
  if (out.size() != m.size) {
    return absl::InvalidArgumentError(fmt::format("the pack is cut short in {}: {}", where, kHowToRepack));
  }
  return out;
}

std::string Sha256Of(std::string_view data) {
  internal::Sha256 sha;
  sha.Update(data);
  return sha.HexDigest();
}

absl::Status ChecksumMismatch(std::string_view path, uint64_t size, std::string_view sha, const PackMember& want) {
  return absl::DataLossError(fmt::format(
      "the pack's member {} does not match its checksum in the manifest ({} bytes, sha256 {}; the manifest says "
      "{} bytes, {}): the pack is corrupt, {}",
      path, size, sha, want.size, want.sha256, kHowToRepack));
}

// The manifest against metadata.json: the same session, finished, and the same files with the same sizes
// and checksums.
absl::Status CheckIndex(const Manifest& manifest, const SessionMetadata& m) {
  auto bad = [](std::string why) {
    return absl::InvalidArgumentError(fmt::format("the pack's {}: it was tampered with, or not made by 'otelrr "
                                                  "sessions pack'",
                                                  why));
  };
  if (m.session_id != manifest.session_id) {
    return bad(fmt::format("metadata.json names session {} but its manifest {}", m.session_id, manifest.session_id));
  }
  if (m.status == SessionStatus::kActive) return bad("session is still active");
  std::map<std::string_view, const PackMember*> packed;
  for (const PackMember& f : manifest.files) packed[f.path] = &f;
  std::set<std::string_view> indexed;
  for (const FileEntry& f : m.files) {
    indexed.insert(f.path);
    auto it = packed.find(f.path);
    if (it == packed.end()) return bad(fmt::format("metadata.json lists {}, which the manifest lacks", f.path));
    if (it->second->size != f.size_bytes || it->second->sha256 != f.sha256) {
      return bad(fmt::format("manifest says {} has {} bytes, sha256 {}; its metadata.json says {} bytes, {}", f.path,
                             it->second->size, it->second->sha256, f.size_bytes, f.sha256));
    }
  }
  for (const PackMember& f : manifest.files) {
    if (f.path.starts_with("raw/") && !indexed.contains(f.path)) {
      return bad(fmt::format("member {} is under raw/ but metadata.json's index does not list it", f.path));
    }
  }
  return absl::OkStatus();
}

absl::Status Unpackable(std::string_view session_id, std::string_view key) {
  return absl::FailedPreconditionError(
      fmt::format("session {} holds {}, a name a pack cannot hold (A-Z a-z 0-9 . _ - and / only): rename or remove it",
                  session_id, Printable(key)));
}

class PackFileReader : public store::ObjectReader {
 public:
  PackFileReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PackFileReader() override { ::close(fd_); }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      return absl::InternalError(fmt::format("reading {}: {}", path_, std::strerror(errno)));
    }
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

absl::StatusOr<PackReport> PackSession(SessionStore& sessions, std::string_view session_id, const PackSink& sink) {
  // Held until the pack is written: no writer, retention or delete changes the session meanwhile.
  absl::StatusOr<FinishedSession> session = LockFinishedSession(sessions, session_id, "pack");
  if (!session.ok()) return session.status();
  const SessionMetadata& metadata = session->metadata;
  store::ObjectStore& store = sessions.object_store();
  const std::string prefix = SessionPrefix(session_id);
  absl::StatusOr<std::string> metadata_json = store.ReadAll(MetadataKey(session_id));
  if (!metadata_json.ok()) return metadata_json.status();

  std::map<std::string_view, const FileEntry*> indexed;
  for (const FileEntry& f : metadata.files) indexed[f.path] = &f;
  absl::StatusOr<std::vector<store::ObjectInfo>> objects = store.List(prefix);
  if (!objects.ok()) return objects.status();
  std::vector<PackMember> members{{.path = std::string(kMetadataName),
                                   .size = metadata_json->size(),
                                   .sha256 = Sha256Of(*metadata_json)}};
  std::set<std::string_view> found;
  for (const store::ObjectInfo& o : *objects) {  // sorted by key: other objects (annotations.jsonl) in name order
    std::string_view path = std::string_view(o.key).substr(prefix.size());
    if (path == kMetadataName || path == kTimelineName) continue;
    if (indexed.contains(path)) {
      found.insert(path);
      continue;
    }
    if (path.starts_with("raw/")) {
      return absl::DataLossError(fmt::format(
          "session {} holds {}, which its metadata.json does not index: run 'otelrr sessions verify {}'",
          session_id, path, session_id));
    }
    if (absl::Status s = ValidateMemberPath(path); !s.ok()) return Unpackable(session_id, o.key);
    absl::StatusOr<std::pair<std::string, uint64_t>> hashed = internal::HashObject(store, o.key);
    if (!hashed.ok()) return Prefixed(hashed.status(), fmt::format("reading {}", o.key));
    members.push_back({.path = std::string(path), .size = hashed->second, .sha256 = hashed->first});
  }
  for (const FileEntry& f : metadata.files) {
    if (!found.contains(f.path)) {
      return absl::DataLossError(fmt::format("session {} lists {} in its metadata.json but {} does not hold it: run "
                                             "'otelrr sessions verify {}'",
                                             session_id, f.path, store.Describe(), session_id));
    }
    if (absl::Status s = ValidateMemberPath(f.path); !s.ok()) return Unpackable(session_id, prefix + f.path);
    members.push_back({.path = f.path, .size = f.size_bytes, .sha256 = f.sha256});
  }
  const std::string manifest = ManifestJson(session_id, members);

  // One time for every member, taken from the session so that packing it again gives the same bytes.
  const uint64_t time = metadata.end_time_unix_nano.value_or(metadata.start_time_unix_nano);
  TarWriter tar(sink, static_cast<int64_t>(time / 1'000'000'000));
  PackReport report{.session_id = std::string(session_id)};
  if (absl::Status s = tar.Open(); !s.ok()) return s;
  auto small = [&](const std::string& path, std::string_view data) -> absl::Status {
    if (absl::Status s = tar.Begin(path, data.size()); !s.ok()) return s;
    if (absl::Status s = tar.Write(data); !s.ok()) return s;
    ++report.members;
    if (path != kPackManifestName) report.stored_bytes += data.size();
    return tar.End();
  };
  if (absl::Status s = small(std::string(kPackManifestName), manifest); !s.ok()) return s;
  if (absl::Status s = small(members[0].path, *metadata_json); !s.ok()) return s;
  for (size_t i = 1; i < members.size(); ++i) {
    const PackMember& m = members[i];
    // A file that is not what the manifest says: damaged (a raw file, under the session's lock), or changed
    // since it was hashed (annotations.jsonl has a lock of its own). `read` is what was read, when known.
    auto mismatch = [&](std::string_view read) {
      if (!indexed.contains(m.path)) {
        return absl::AbortedError(fmt::format(
            "{}{} changed while the session was packed (an annotation added?): pack it again", prefix, m.path));
      }
      return absl::DataLossError(fmt::format(
          "{}{} in {} does not match its checksum in metadata.json ({}; the index says {} bytes, {}): run 'otelrr "
          "sessions verify {}'",
          prefix, m.path, store.Describe(), read, m.size, m.sha256, session_id));
    };
    if (absl::Status s = tar.Begin(m.path, m.size); !s.ok()) return s;
    uint64_t written = 0;
    bool too_long = false;
    absl::StatusOr<std::pair<std::string, uint64_t>> sent =
        internal::StreamObject(store, prefix + m.path, [&](std::string_view chunk) -> absl::Status {
          if (chunk.size() > m.size - written) {  // the tar entry's size is fixed: stop before it overflows
            too_long = true;
            return absl::CancelledError();
          }
          written += chunk.size();
          return tar.Write(chunk);
        });
    if (too_long) return mismatch(fmt::format("more than {} bytes", m.size));
    if (!sent.ok()) return Prefixed(sent.status(), fmt::format("packing {}{}", prefix, m.path));
    if (sent->first != m.sha256 || sent->second != m.size) {
      return mismatch(fmt::format("{} bytes, sha256 {}", sent->second, sent->first));
    }
    if (absl::Status s = tar.End(); !s.ok()) return s;
    ++report.members;
    report.stored_bytes += m.size;
    if (m.path.starts_with("raw/")) ++report.files;
  }
  if (absl::Status s = tar.Close(); !s.ok()) return s;
  report.pack_bytes = tar.bytes();
  return report;
}

absl::StatusOr<UnpackReport> UnpackSession(SessionStore& sessions, store::ObjectReader& pack,
                                           const UnpackOptions& options) {
  TarReader tar(pack);
  if (absl::Status s = tar.Open(); !s.ok()) return s;
  TarReader::Member member;
  absl::StatusOr<bool> more = tar.Next(&member, "its first member");
  if (!more.ok()) return more.status();
  if (!*more) return absl::InvalidArgumentError("not an otelrr pack: the file holds no member (is it empty?)");
  if (member.path != kPackManifestName) {
    return absl::InvalidArgumentError(fmt::format(
        "not an otelrr pack: a tar file whose first member is '{}', not {} (make packs with 'otelrr sessions pack')",
        Printable(member.path), kPackManifestName));
  }
  if (!member.regular || !member.size_known || member.size > options.max_metadata_bytes) {
    return absl::InvalidArgumentError(fmt::format("the pack's {} is not a regular file of at most {} bytes: {}",
                                                  kPackManifestName, options.max_metadata_bytes, kHowToRepack));
  }
  absl::StatusOr<std::string> manifest_json = ReadWhole(tar, member, kPackManifestName);
  if (!manifest_json.ok()) return manifest_json.status();
  absl::StatusOr<Manifest> manifest = ParseManifest(*manifest_json);
  if (!manifest.ok()) return Prefixed(manifest.status(), "the pack's manifest is invalid");
  if (manifest->version != kPackFormatVersion) {
    return absl::InvalidArgumentError(fmt::format(
        "the pack has format version {}, which this otelrr does not know (it knows {}): unpack it with the otelrr "
        "that made it, or a newer one",
        manifest->version, kPackFormatVersion));
  }
  if (absl::Status s = ValidateSessionId(manifest->session_id); !s.ok()) {
    return Prefixed(s, "the pack's manifest names an invalid session id");
  }
  if (manifest->files.empty() || manifest->files[0].path != kMetadataName) {
    return absl::InvalidArgumentError(
        fmt::format("the pack's manifest does not list {} first: {}", kMetadataName, kHowToRepack));
  }
  if (manifest->files.size() > options.max_members) {
    return absl::InvalidArgumentError(fmt::format("the pack lists {} files, more than the limit of {}",
                                                  manifest->files.size(), options.max_members));
  }
  std::map<std::string_view, size_t> position;
  for (size_t i = 0; i < manifest->files.size(); ++i) {
    const PackMember& f = manifest->files[i];
    if (absl::Status s = ValidateMemberPath(f.path); !s.ok()) return s;
    if (!position.emplace(f.path, i).second) {
      return absl::InvalidArgumentError(fmt::format("the pack's manifest lists {} twice: {}", f.path, kHowToRepack));
    }
    if (!IsSha256Hex(f.sha256)) {
      return absl::InvalidArgumentError(
          fmt::format("the pack's manifest gives {} a sha256 that is not 64 lowercase hex digits", f.path));
    }
    const uint64_t limit = i == 0 ? options.max_metadata_bytes : options.max_member_bytes;
    if (f.size > limit) {
      return absl::InvalidArgumentError(fmt::format(
          "the pack's member {} is {} bytes, more than the limit of {} bytes: refusing it", f.path, f.size, limit));
    }
  }

  const std::string target = options.session_id.empty() ? manifest->session_id : options.session_id;
  if (absl::Status s = ValidateSessionId(target); !s.ok()) return s;
  const std::string fix = fmt::format(
      "unpack the pack under another id (otelrr sessions unpack FILE --session NEW), or delete session {} first",
      target);
  absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockNewSession(sessions, target, fix);
  if (!lock.ok()) return lock.status();

  store::ObjectStore& store = sessions.object_store();
  const std::string prefix = SessionPrefix(target);
  UnpackReport report{.session_id = target, .packed_session_id = manifest->session_id, .members = 1};
  std::string metadata_json;
  std::set<std::string> seen;
  std::string buf(kChunkBytes, '\0');
  bool wrote = false;

  auto unpack = [&]() -> absl::Status {
    for (size_t i = 0;; ++i) {
      const std::string where = i < manifest->files.size()
                                    ? fmt::format("member {} of {}, {}", i + 2, manifest->files.size() + 1,
                                                  manifest->files[i].path)
                                    : "after its last member";
      absl::StatusOr<bool> next = tar.Next(&member, where);
      if (!next.ok()) return next.status();
      if (!*next) {
        if (i == manifest->files.size()) return absl::OkStatus();
        return absl::InvalidArgumentError(
            fmt::format("the pack is cut short: it ends before {}: {}", where, kHowToRepack));
      }
      if (absl::Status s = ValidateMemberPath(member.path); !s.ok()) return s;
      if (member.path == kMetadataName && i > 0) {
        return absl::InvalidArgumentError(fmt::format("the pack holds {} twice: {}", kMetadataName, kHowToRepack));
      }
      if (seen.contains(member.path)) {
        return absl::InvalidArgumentError(fmt::format("the pack holds {} twice: {}", member.path, kHowToRepack));
      }
      auto pos = position.find(member.path);
      if (pos == position.end()) {
        return absl::InvalidArgumentError(
            fmt::format("the pack holds {}, which its manifest does not list: {}", member.path, kHowToRepack));
      }
      if (pos->second != i) {
        return absl::InvalidArgumentError(fmt::format("the pack's member {} is out of the manifest's order: {}",
                                                      member.path, kHowToRepack));
      }
      const PackMember& want = manifest->files[i];
      if (!member.regular) {
        return absl::InvalidArgumentError(fmt::format("the pack's member {} is not a regular file", member.path));
      }
      if (!member.size_known || member.size != want.size) {
        return absl::InvalidArgumentError(fmt::format("the pack's member {} holds {} bytes, its manifest says {}: {}",
                                                      member.path, member.size, want.size, kHowToRepack));
      }
      seen.insert(member.path);
      ++report.members;
      if (i == 0) {  // metadata.json: checked against the manifest now, written last
        absl::StatusOr<std::string> json = ReadWhole(tar, member, member.path);
        if (!json.ok()) return json.status();
        const std::string sha = Sha256Of(*json);
        if (sha != want.sha256) return ChecksumMismatch(member.path, json->size(), sha, want);
        absl::StatusOr<SessionMetadata> m = SessionMetadata::FromJson(*json);
        if (!m.ok()) return Prefixed(m.status(), "the pack's metadata.json is invalid");
        if (absl::Status s = CheckIndex(*manifest, *m); !s.ok()) return s;
        if (target != m->session_id) {  // renamed: the id is in metadata.json twice
          m->session_id = target;
          m->s3_prefix = SessionPrefix(target);
          metadata_json = m->ToJson();
        } else {
          metadata_json = std::move(*json);  // byte for byte
        }
        continue;
      }
      const std::string key = prefix + member.path;
      if (absl::Status s = store::ValidateKey(key); !s.ok()) return s;
      if (target != manifest->session_id && options.rename_member && !member.path.starts_with("raw/")) {
        // Renamed: a member that names the session (annotations.jsonl) is rewritten for the new id.
        if (member.size > options.max_metadata_bytes) {
          return absl::InvalidArgumentError(fmt::format("the pack's member {} is {} bytes, more than the limit of {}",
                                                        member.path, member.size, options.max_metadata_bytes));
        }
        absl::StatusOr<std::string> bytes = ReadWhole(tar, member, member.path);
        if (!bytes.ok()) return bytes.status();
        const std::string sha = Sha256Of(*bytes);
        if (sha != want.sha256) return ChecksumMismatch(member.path, bytes->size(), sha, want);
        absl::StatusOr<std::string> renamed = options.rename_member(member.path, *std::move(bytes), manifest->session_id, target);
        if (!renamed.ok()) return Prefixed(renamed.status(), fmt::format("the pack's member {}", member.path));
        wrote = true;
        if (absl::Status s = store.Put(key, *renamed); !s.ok()) return s;
        report.stored_bytes += renamed->size();
        continue;
      }
      wrote = true;
      absl::StatusOr<std::unique_ptr<store::ObjectWriter>> out = store.Create(key);
      if (!out.ok()) return out.status();
      internal::Sha256 sha;
      uint64_t size = 0;
      while (true) {
        absl::StatusOr<size_t> n = tar.Read(buf.data(), buf.size(), where);
        if (!n.ok()) return n.status();
        if (*n == 0) break;
        std::string_view chunk(buf.data(), *n);
        sha.Update(chunk);
        size += *n;
        if (absl::Status s = (*out)->Append(chunk); !s.ok()) return s;
      }
      // Durable before metadata.json makes the session exist (a no-op on S3, whose Close is the upload).
      if (absl::Status s = (*out)->Sync(); !s.ok()) return s;
      if (absl::Status s = (*out)->Close(); !s.ok()) return s;
      const std::string digest = sha.HexDigest();
      if (size != want.size || digest != want.sha256) return ChecksumMismatch(member.path, size, digest, want);
      report.stored_bytes += size;
      if (member.path.starts_with("raw/")) ++report.files;
    }
  };
  absl::Status s = unpack();
  if (s.ok()) {
    wrote = true;
    s = store.Put(MetadataKey(target), metadata_json);  // last: the session exists once it is whole
    report.stored_bytes += metadata_json.size();
  }
  if (!s.ok()) {
    if (wrote) (void)store.DeletePrefix(prefix);  // nothing half-written stays
    return s;
  }
  return report;
}

absl::StatusOr<std::unique_ptr<store::ObjectReader>> OpenPackFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    std::string message = fmt::format("cannot open {}: {}", path, std::strerror(e));
    if (e == ENOENT) return absl::NotFoundError(message);
    if (e == EACCES) return absl::PermissionDeniedError(message);
    return absl::InvalidArgumentError(message);
  }
  return std::unique_ptr<store::ObjectReader>(std::make_unique<PackFileReader>(fd, path));
}

bool LooksLikePack(std::string_view head) {
  constexpr size_t kMagicOffset = 257;  // ustar's "ustar" magic
  if (head.size() < 512) return false;
  const std::string name = std::string(kPackManifestName) + '\0';
  return head.starts_with(name) && head.substr(kMagicOffset, 5) == "ustar";
}

}  // namespace otelrr::session
