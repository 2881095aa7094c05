#include "session/pack.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "common/json_writer.h"
#include "gtest/gtest.h"
#include "session/internal/sha256.h"
#include "session/testing/fixture.h"
#include "store/testing/forwarding_store.h"
#include "store/testing/string_reader.h"

namespace otelrr::session::testing {
namespace {

using otlp::Signal;
using Members = std::vector<std::pair<std::string, std::string>>;  // (path, bytes) in order

// A tar of `members` as any tool could make it: the adversary's packs.
std::string Tar(const Members& members) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open2(
      a, &out, nullptr,
      [](archive*, void* self, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(self)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr, nullptr);
  for (const auto& [path, data] : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_write_header(a, e);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// The members of a tar, read with libarchive.
Members Untar(const std::string& tar) {
  Members out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, tar.data(), tar.size());
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
    archive_read_data(a, data.data(), data.size());
    out.emplace_back(archive_entry_pathname(e), std::move(data));
  }
  archive_read_free(a);
  return out;
}

std::string Sha256Of(std::string_view data) {
  internal::Sha256 sha;
  sha.Update(data);
  return sha.HexDigest();
}

// A manifest for `members` (all but a leading manifest), as the packer writes it.
std::string ManifestFor(std::string_view session_id, const Members& members) {
  JsonWriter w;
  w.BeginObject();
  w.Field("packFormatVersion", 1);
  w.Field("sessionId", session_id);
  w.Key("files");
  w.BeginArray();
  for (const auto& [path, data] : members) {
    w.BeginObject();
    w.Field("path", path);
    w.Field("sizeBytes", data.size());
    w.Field("sha256", Sha256Of(data));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str();
}

// `members` behind a manifest that lists `listed` (default: the same members).
std::string PackOf(const Members& members, std::optional<Members> listed = std::nullopt) {
  Members all{{"otelrr-pack.json", ManifestFor("s1", listed.value_or(members))}};
  all.insert(all.end(), members.begin(), members.end());
  return Tar(all);
}

class PackTest : public SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    absl::StatusOr<std::unique_ptr<store::LocalStore>> s = store::LocalStore::Open({.root = target_dir_.path()});
    ASSERT_TRUE(s.ok()) << s.status();
    target_store_ = std::move(*s);
    target_ = std::make_unique<SessionStore>(*target_store_);
  }

  // A closed session of several files (signals, and the hour changes) and an annotations.jsonl.
  void WriteSession(const std::string& id) {
    auto w = NewWriter(id, Options());
    ASSERT_NE(w, nullptr);
    for (int i = 0; i < 30; ++i) {
      Signal signal = static_cast<Signal>(1 + i % 3);
      std::string body = signal == Signal::kTraces    ? TraceRequest(i + 1, 3)
                         : signal == Signal::kMetrics ? MetricsRequest(4)
                                                      : LogsRequest(3, 1);
      const uint64_t arrival = kT0 + static_cast<uint64_t>(i) * 200'000'000'000ull;  // 200 s apart
      ASSERT_TRUE(w->Append(Rec(arrival, signal, body)).ok());
    }
    ASSERT_TRUE(w->Close().ok());
    ASSERT_TRUE(store_->Put("sessions/" + id + "/annotations.jsonl", "{\"annotationKey\":\"human.note\"}\n").ok());
  }

  std::string Pack(const std::string& id) {
    std::string out;
    absl::StatusOr<PackReport> r = PackSession(*sessions_, id, [&](std::string_view chunk) {
      out.append(chunk);
      return absl::OkStatus();
    });
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      EXPECT_EQ(r->pack_bytes, out.size());
    }
    return out;
  }

  absl::StatusOr<UnpackReport> Unpack(std::string pack, UnpackOptions options = {}, size_t max_read = 4096) {
    store::testing::StringReader reader(std::move(pack), max_read);
    return UnpackSession(*target_, reader, options);
  }

  // The target store holds nothing at all (not even a folder with objects).
  void ExpectTargetEmpty() {
    absl::StatusOr<std::vector<store::ObjectInfo>> all = target_store_->List("");
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_TRUE(all->empty()) << all->front().key;
  }

  static std::string Slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  store::testing::TempDir target_dir_;
  std::unique_ptr<store::LocalStore> target_store_;
  std::unique_ptr<SessionStore> target_;
};

TEST_F(PackTest, PackingTwiceGivesTheSameBytes) {
  WriteSession("s1");
  const std::string a = Pack("s1");
  const std::string b = Pack("s1");
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  EXPECT_TRUE(LooksLikePack(a));
  // Members: the manifest, metadata.json, the other objects, then the raw files in the index's order.
  Members members = Untar(a);
  absl::StatusOr<SessionMetadata> m = sessions_->Load("s1");
  ASSERT_TRUE(m.ok());
  ASSERT_GE(m->files.size(), 3u);
  ASSERT_EQ(members.size(), 3 + m->files.size());
  EXPECT_EQ(members[0].first, "otelrr-pack.json");
  EXPECT_EQ(members[1].first, "metadata.json");
  EXPECT_EQ(members[2].first, "annotations.jsonl");
  for (size_t i = 0; i < m->files.size(); ++i) EXPECT_EQ(members[3 + i].first, m->files[i].path);
  EXPECT_EQ(members[1].second, Slurp(FileOf("s1", "metadata.json")));
  EXPECT_NE(members[0].second.find("\"packFormatVersion\": 1"), std::string::npos) << members[0].second;
}

TEST_F(PackTest, UnpackRestoresTheSessionByteForByte) {
  WriteSession("s1");
  absl::StatusOr<UnpackReport> r = Unpack(Pack("s1"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->session_id, "s1");
  absl::StatusOr<SessionMetadata> m = sessions_->Load("s1");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(r->files, m->files.size());
  for (const char* name : {"metadata.json", "annotations.jsonl"}) {
    EXPECT_EQ(Slurp(target_dir_.path() / "sessions/s1" / name), Slurp(FileOf("s1", name))) << name;
  }
  for (const FileEntry& f : m->files) {
    EXPECT_EQ(Slurp(target_dir_.path() / "sessions/s1" / f.path), Slurp(FileOf("s1", f.path))) << f.path;
  }
  absl::StatusOr<VerifyReport> v = target_->Verify("s1");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems.front());
}

TEST_F(PackTest, UnpackUnderANewIdRewritesTheIdInMetadata) {
  WriteSession("s1");
  absl::StatusOr<UnpackReport> r = Unpack(Pack("s1"), {.session_id = "s1-copy"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->session_id, "s1-copy");
  EXPECT_EQ(r->packed_session_id, "s1");
  absl::StatusOr<SessionMetadata> m = target_->Load("s1-copy");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->session_id, "s1-copy");
  EXPECT_EQ(m->s3_prefix, "sessions/s1-copy/");
  absl::StatusOr<SessionMetadata> original = sessions_->Load("s1");
  EXPECT_EQ(m->files, original->files);
  EXPECT_EQ(m->counts, original->counts);
  EXPECT_FALSE(*target_->Exists("s1"));
  absl::StatusOr<VerifyReport> v = target_->Verify("s1-copy");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok);
}

TEST_F(PackTest, PackRefusesASessionBeingWritten) {
  auto w = NewWriter("live", Options());
  ASSERT_TRUE(w->Append(Rec(kT0, Signal::kLogs, LogsRequest(1, 1))).ok());
  absl::StatusOr<PackReport> r = PackSession(*sessions_, "live", [](std::string_view) { return absl::OkStatus(); });
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "session live is being written: pack it once its writer has finished");
  ASSERT_TRUE(w->Close().ok());
}

TEST_F(PackTest, PackOfAMissingSessionIsNotFound) {
  absl::StatusOr<PackReport> r = PackSession(*sessions_, "nope", [](std::string_view) { return absl::OkStatus(); });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(PackTest, PackFailsWhenAFileDoesNotMatchItsChecksum) {
  WriteSession("s1");
  absl::StatusOr<SessionMetadata> m = sessions_->Load("s1");
  std::filesystem::path raw = FileOf("s1", m->files[1].path);
  std::string bytes = Slurp(raw);
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(raw, std::ios::binary | std::ios::trunc) << bytes;
  absl::StatusOr<PackReport> r = PackSession(*sessions_, "s1", [](std::string_view) { return absl::OkStatus(); });
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("does not match its checksum"), absl::string_view::npos) << r.status();
  // Longer than the index says: stopped before the tar entry would overflow.
  const std::string longer = Slurp(raw) + "appended";
  std::ofstream(raw, std::ios::binary | std::ios::trunc) << longer;
  r = PackSession(*sessions_, "s1", [](std::string_view) { return absl::OkStatus(); });
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("(more than "), absl::string_view::npos) << r.status();
}

TEST_F(PackTest, PackRefusesAnObjectNameAPackCannotHold) {
  WriteSession("s1");
  ASSERT_TRUE(store_->Put("sessions/s1/notes/caf\xc3\xa9 menu.txt", "x").ok());
  absl::StatusOr<PackReport> r = PackSession(*sessions_, "s1", [](std::string_view) { return absl::OkStatus(); });
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "session s1 holds sessions/s1/notes/caf\\xc3\\xa9 menu.txt, a name a pack cannot hold (A-Z a-z 0-9 . _ - "
            "and / only): rename or remove it");
}

TEST_F(PackTest, UnpackRefusesToOverwriteAnExistingSession) {
  WriteSession("s1");
  const std::string pack = Pack("s1");
  ASSERT_TRUE(Unpack(pack).ok());
  const std::string before = Slurp(target_dir_.path() / "sessions/s1/metadata.json");
  absl::StatusOr<UnpackReport> r = Unpack(pack);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(r.status().message().find("--session NEW"), absl::string_view::npos) << r.status();
  EXPECT_EQ(Slurp(target_dir_.path() / "sessions/s1/metadata.json"), before);
  absl::StatusOr<VerifyReport> v = target_->Verify("s1");
  EXPECT_TRUE(v.ok() && v->ok);
}

TEST_F(PackTest, ATruncatedPackLeavesNothingBehind) {
  WriteSession("s1");
  const std::string pack = Pack("s1");
  // In the manifest, in a header, in metadata.json, inside raw files, at a member boundary, in the end blocks.
  for (size_t size : {size_t{0}, size_t{100}, size_t{512}, size_t{700}, size_t{1536}, size_t{2048}, pack.size() / 3,
                      pack.size() / 2, (pack.size() / 2) & ~size_t{511}, pack.size() - 10241}) {
    absl::StatusOr<UnpackReport> r = Unpack(pack.substr(0, size));
    EXPECT_FALSE(r.ok()) << "cut at " << size;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << size << ": " << r.status();
    ExpectTargetEmpty();
  }
}

TEST_F(PackTest, ABitFlippedMemberIsDataLossAndLeavesNothing) {
  WriteSession("s1");
  Members members = Untar(Pack("s1"));
  members.erase(members.begin());
  std::string& last = members.back().second;
  last[last.size() / 2] ^= 0x10;
  // The manifest still has the original checksums: the pack as a disk or a download would damage it.
  Members listed = Untar(Pack("s1"));
  listed.erase(listed.begin());
  absl::StatusOr<UnpackReport> r = Unpack(PackOf(members, listed));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(r.status().message().find(members.back().first), absl::string_view::npos) << r.status();
  ExpectTargetEmpty();

  // The same flip inside the real pack's bytes (its tar headers untouched).
  std::string pack = Pack("s1");
  pack[pack.size() - 10240 - 4096] ^= 0x10;
  r = Unpack(pack);
  EXPECT_FALSE(r.ok());
  ExpectTargetEmpty();
}

TEST_F(PackTest, AForeignTarOrAnyOtherFileIsNotAPack) {
  absl::StatusOr<UnpackReport> r = Unpack(Tar({{"hello.txt", "hi\n"}}));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "not an otelrr pack: a tar file whose first member is 'hello.txt', not otelrr-pack.json (make packs with "
            "'otelrr sessions pack')");
  r = Unpack(std::string(4096, 'x'));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "not an otelrr pack: not a tar file (make packs with 'otelrr sessions pack')");
  r = Unpack("");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "not an otelrr pack: the file is empty");
  EXPECT_FALSE(LooksLikePack(Tar({{"hello.txt", "hi\n"}})));
  EXPECT_FALSE(LooksLikePack("{\"resourceSpans\": []}"));
  ExpectTargetEmpty();
}

TEST_F(PackTest, PathsOutsideTheSessionAreRefused) {
  WriteSession("s1");
  Members base = Untar(Pack("s1"));
  base.erase(base.begin());
  for (const char* path : {"../evil", "raw/../../evil", "/etc/evil", "raw//x", "./metadata.json",
                           ".otelrr-lock-writer", "\xc3\xa9/x", "a\\b", "new\nline"}) {
    Members members = base;
    members.emplace_back(path, "x");
    absl::StatusOr<UnpackReport> r = Unpack(PackOf(members));
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_NE(r.status().message().find("refusing the pack"), absl::string_view::npos) << r.status();
    EXPECT_EQ(r.status().message().find('\n'), absl::string_view::npos) << r.status();
    ExpectTargetEmpty();
    // Not in the manifest either: refused as the member arrives.
    r = Unpack(PackOf(members, base));
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << path;
    ExpectTargetEmpty();
  }
  EXPECT_FALSE(std::filesystem::exists(target_dir_.path().parent_path() / "evil"));
}

TEST_F(PackTest, MembersMustBeTheManifestsOnceAndInOrder) {
  WriteSession("s1");
  Members base = Untar(Pack("s1"));
  base.erase(base.begin());
  {
    Members members = base;  // a member the manifest does not list
    members.emplace_back("extra.txt", "x");
    absl::StatusOr<UnpackReport> r = Unpack(PackOf(members, base));
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("the pack holds extra.txt, which its manifest does not list"),
              absl::string_view::npos)
        << r.status();
  }
  ExpectTargetEmpty();
  {
    Members members = base;  // a raw file twice
    members.push_back(base.back());
    absl::StatusOr<UnpackReport> r = Unpack(PackOf(members, base));
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("twice"), absl::string_view::npos) << r.status();
    r = Unpack(PackOf(members));  // listed twice in the manifest too
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("twice"), absl::string_view::npos) << r.status();
  }
  ExpectTargetEmpty();
  {
    Members members = base;  // two raw files swapped
    std::swap(members[members.size() - 1], members[members.size() - 2]);
    absl::StatusOr<UnpackReport> r = Unpack(PackOf(members, base));
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("out of the manifest's order"), absl::string_view::npos) << r.status();
  }
  ExpectTargetEmpty();
  {
    Members members = base;  // a raw file missing from both: metadata.json's index still lists it
    members.pop_back();
    absl::StatusOr<UnpackReport> r = Unpack(PackOf(members));
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("which the manifest lacks"), absl::string_view::npos) << r.status();
  }
  ExpectTargetEmpty();
}

TEST_F(PackTest, ATooLargeMemberIsRefused) {
  WriteSession("s1");
  Members base = Untar(Pack("s1"));
  base.erase(base.begin());
  absl::StatusOr<UnpackReport> r = Unpack(PackOf(base), {.max_member_bytes = 64});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("more than the limit of 64 bytes"), absl::string_view::npos) << r.status();
  ExpectTargetEmpty();
  // A member larger than the manifest says.
  Members listed = base;
  base.back().second += "more bytes";
  r = Unpack(PackOf(base, listed));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("its manifest says"), absl::string_view::npos) << r.status();
  ExpectTargetEmpty();
}

TEST_F(PackTest, AManifestThatDisagreesWithTheIndexIsRefused) {
  WriteSession("s1");
  Members base = Untar(Pack("s1"));
  base.erase(base.begin());
  // A raw file replaced, with a manifest made to match it: metadata.json's index still has the old checksum.
  base.back().second = "not the original bytes";
  absl::StatusOr<UnpackReport> r = Unpack(PackOf(base));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("its metadata.json says"), absl::string_view::npos) << r.status();
  ExpectTargetEmpty();
}

// An annotation added between the manifest and the member (annotations have a lock of their own).
class AnnotationAddedMidway : public store::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::StatusOr<std::unique_ptr<store::ObjectReader>> Get(std::string_view key) override {
    if (key.ends_with("/annotations.jsonl") && ++gets_ == 2) {
      (void)ForwardingStore::Put(key, "{\"annotationKey\":\"human.later\"}\n");
    }
    return ForwardingStore::Get(key);
  }

 private:
  int gets_ = 0;
};

TEST_F(PackTest, AnAnnotationAddedWhilePackingAbortsThePack) {
  WriteSession("s1");
  AnnotationAddedMidway store(*store_);
  SessionStore sessions(store);
  absl::StatusOr<PackReport> r = PackSession(sessions, "s1", [](std::string_view) { return absl::OkStatus(); });
  ASSERT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(r.status().message(),
            "sessions/s1/annotations.jsonl changed while the session was packed (an annotation added?): pack it again");
}

// A store that refuses to create the n-th object.
class FailingCreate : public store::testing::ForwardingStore {
 public:
  FailingCreate(store::ObjectStore& inner, int fail_at) : ForwardingStore(inner), fail_at_(fail_at) {}
  absl::StatusOr<std::unique_ptr<store::ObjectWriter>> Create(std::string_view key) override {
    if (++creates_ == fail_at_) return absl::ResourceExhaustedError("disk full");
    return ForwardingStore::Create(key);
  }

 private:
  int fail_at_;
  int creates_ = 0;
};

TEST_F(PackTest, AStoreFailureWhileUnpackingLeavesNothing) {
  WriteSession("s1");
  const std::string pack = Pack("s1");
  for (int fail_at : {1, 2, 4}) {
    FailingCreate store(*target_store_, fail_at);
    SessionStore sessions(store);
    store::testing::StringReader reader(pack);
    absl::StatusOr<UnpackReport> r = UnpackSession(sessions, reader, {});
    ASSERT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << fail_at;
    ExpectTargetEmpty();
  }
}

TEST_F(PackTest, AnUnknownPackVersionIsRefused) {
  std::string manifest = R"({"packFormatVersion": 2, "sessionId": "s1", "files": []})";
  absl::StatusOr<UnpackReport> r = Unpack(Tar({{"otelrr-pack.json", manifest}}));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("format version 2"), absl::string_view::npos) << r.status();
}

}  // namespace
}  // namespace otelrr::session::testing
