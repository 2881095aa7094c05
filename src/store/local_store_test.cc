#include "store/local_store.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "gtest/gtest.h"
#include "store/object_store.h"
#include "store/testing/temp_dir.h"

namespace otelrr::store {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::unique_ptr<LocalStore> OpenOrDie(const fs::path& root) {
  absl::StatusOr<std::unique_ptr<LocalStore>> s = LocalStore::Open({.root = root});
  EXPECT_TRUE(s.ok()) << s.status();
  return std::move(*s);
}

TEST(ValidateKeyTest, AcceptsRelativeKeys) {
  EXPECT_TRUE(ValidateKey("a").ok());
  EXPECT_TRUE(ValidateKey("sessions/s1/raw/2026-11-26/11/traces-1-u.otlp.gz").ok());
  EXPECT_TRUE(ValidateKey("a/.hidden/b..c").ok());
}

TEST(ValidateKeyTest, RejectsEscapesAndMalformedKeys) {
  for (std::string_view key : {"", "/abs", "a/", "a//b", "../x", "a/../b", "a/./b", "..", "."}) {
    absl::Status s = ValidateKey(key);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(ValidateKey(std::string_view("a\0b", 3)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidatePrefix("").ok());
  EXPECT_TRUE(ValidatePrefix("sessions/").ok());
  EXPECT_FALSE(ValidatePrefix("/").ok());
  EXPECT_FALSE(ValidatePrefix("../").ok());
}

TEST(LocalStoreTest, PutGetHeadRoundTrip) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Put("a/b/c.txt", "hello").ok());
  absl::StatusOr<std::string> got = store->ReadAll("a/b/c.txt");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "hello");
  absl::StatusOr<ObjectInfo> info = store->Head("a/b/c.txt");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->key, "a/b/c.txt");
  EXPECT_EQ(info->size, 5u);
  EXPECT_GT(info->mtime_unix_nano, 0);
  EXPECT_EQ(store->Head("a/b/missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->Get("a/b/missing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->Head("a/b").status().code(), absl::StatusCode::kNotFound);  // a directory is no object
  EXPECT_EQ(store->Put("../escape", "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir.path().parent_path() / "escape"));
}

TEST(LocalStoreTest, PutReplacesAtomicallyAndLeavesNoTemporaryFiles) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Put("m.json", std::string(100000, 'a')).ok());
  // A reader racing with replacements sees one whole version or the other, never a mix.
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(store->Put("m.json", std::string(100000, i % 2 ? 'b' : 'a')).ok());
    }
    done = true;
  });
  while (!done) {
    absl::StatusOr<std::string> got = store->ReadAll("m.json");
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->size(), 100000u);
    ASSERT_EQ(got->find_first_not_of(got->front()), std::string::npos);
  }
  writer.join();
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(LocalStoreTest, ListIsRecursiveSortedAndFiltersByStringPrefix) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  for (std::string_view key : {"sessions/s2/metadata.json", "sessions/s1/raw/x/y.gz", "sessions/s1/metadata.json",
                               "sessions/s10/metadata.json", "other/file"}) {
    ASSERT_TRUE(store->Put(key, "x").ok());
  }
  auto keys = [&](std::string_view prefix) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<ObjectInfo>> list = store->List(prefix);
    EXPECT_TRUE(list.ok()) << list.status();
    for (const ObjectInfo& o : *list) out.push_back(o.key);
    return out;
  };
  EXPECT_EQ(keys("sessions/s1/"), (std::vector<std::string>{"sessions/s1/metadata.json", "sessions/s1/raw/x/y.gz"}));
  EXPECT_EQ(keys("sessions/s1"), (std::vector<std::string>{"sessions/s1/metadata.json", "sessions/s1/raw/x/y.gz",
                                                           "sessions/s10/metadata.json"}));
  EXPECT_EQ(keys("").size(), 5u);
  EXPECT_TRUE(keys("nothing/here/").empty());
  absl::StatusOr<std::vector<std::string>> dirs = store->ListDirectories("sessions/");
  ASSERT_TRUE(dirs.ok());
  EXPECT_EQ(*dirs, (std::vector<std::string>{"s1", "s10", "s2"}));
  EXPECT_FALSE(store->ListDirectories("sessions").ok());
}

TEST(LocalStoreTest, DeleteAndDeletePrefix) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Put("sessions/a/metadata.json", "x").ok());
  ASSERT_TRUE(store->Put("sessions/a/raw/f", "x").ok());
  ASSERT_TRUE(store->Put("sessions/ab/metadata.json", "x").ok());
  EXPECT_EQ(store->Delete("sessions/a/nope").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store->Delete("sessions/a/raw/f").ok());
  EXPECT_FALSE(fs::exists(dir.path() / "sessions/a/raw"));  // empty directories are pruned
  ASSERT_TRUE(store->DeletePrefix("sessions/a/").ok());
  EXPECT_FALSE(fs::exists(dir.path() / "sessions/a"));
  EXPECT_TRUE(store->Head("sessions/ab/metadata.json").ok());
  EXPECT_TRUE(store->DeletePrefix("sessions/zzz/").ok());
  EXPECT_EQ(store->DeletePrefix("sessions/a").code(), absl::StatusCode::kInvalidArgument);
}

TEST(LocalStoreTest, CreateAppendsSyncsAndNeverOverwrites) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  absl::StatusOr<std::unique_ptr<ObjectWriter>> w = store->Create("raw/2026/01/f.gz");
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE((*w)->Append("abc").ok());
  ASSERT_TRUE((*w)->Sync().ok());
  ASSERT_TRUE((*w)->Append("def").ok());
  EXPECT_EQ((*w)->size(), 6u);
  // Readable while still open: the raw files are read by recovery after a crash.
  EXPECT_EQ(*store->ReadAll("raw/2026/01/f.gz"), "abcdef");
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(store->Create("raw/2026/01/f.gz").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*store->ReadAll("raw/2026/01/f.gz"), "abcdef");
}

// Retention or `sessions delete` may remove a session's folder while the store is listed (GET /api/storage
// beside the retention scheduler): the listing goes on without it, never fails.
TEST(LocalStoreTest, AListingSkipsFoldersDeletedMeanwhile) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Put("sessions/kept/metadata.json", "{}").ok());
  std::atomic<bool> done{false};
  std::thread churn([&] {
    for (int i = 0; !done.load(); ++i) {
      const std::string key = fmt::format("sessions/gone-{}/raw/traces/f.bin", i % 8);
      (void)store->Put(key, "x");
      (void)store->DeletePrefix(fmt::format("sessions/gone-{}/", (i + 4) % 8));
    }
  });
  for (int i = 0; i < 2000; ++i) {
    absl::StatusOr<std::vector<ObjectInfo>> listed = store->List("sessions/");
    ASSERT_TRUE(listed.ok()) << "listing " << i << ": " << listed.status();
    EXPECT_TRUE(std::any_of(listed->begin(), listed->end(),
                            [](const ObjectInfo& o) { return o.key == "sessions/kept/metadata.json"; }));
    // A folder listed while it is deleted lists what it held, or nothing.
    absl::StatusOr<std::vector<ObjectInfo>> one = store->List(fmt::format("sessions/gone-{}/", i % 8));
    ASSERT_TRUE(one.ok()) << "listing " << i << ": " << one.status();
    absl::StatusOr<std::vector<std::string>> folders = store->ListDirectories("sessions/");
    ASSERT_TRUE(folders.ok()) << "listing " << i << ": " << folders.status();
    EXPECT_TRUE(std::find(folders->begin(), folders->end(), "kept") != folders->end());
  }
  done = true;
  churn.join();
}

TEST(LocalStoreTest, StreamingGetReadsInChunks) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  std::string data(300000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(store->Put("big", data).ok());
  auto r = store->Get("big");
  ASSERT_TRUE(r.ok());
  std::string got;
  char buf[4096];
  while (true) {
    absl::StatusOr<size_t> n = (*r)->Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    got.append(buf, *n);
  }
  EXPECT_EQ(got, data);
}

TEST(LocalStoreTest, TruncateCutsDurablyAndOnlyShrinks) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Put("a/b", "0123456789").ok());
  ASSERT_TRUE(store->Truncate("a/b", 10).ok());  // same size: nothing to do
  ASSERT_TRUE(store->Truncate("a/b", 4).ok());
  EXPECT_EQ(*store->ReadAll("a/b"), "0123");
  absl::Status grow = store->Truncate("a/b", 5);
  EXPECT_EQ(grow.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(grow.message().find("holds only 4"), std::string_view::npos) << grow;
  EXPECT_EQ(store->Truncate("a/missing", 0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->Truncate("../x", 0).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(store->Truncate("a/b", 0).ok());
  EXPECT_EQ(store->Head("a/b")->size, 0u);
}

TEST(LocalStoreTest, TryLockIsExclusiveInProcessAndReleasedOnDestruction) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  ASSERT_TRUE(store->Put("s/x/data", "d").ok());
  absl::StatusOr<std::unique_ptr<ObjectLock>> first = store->TryLock("s/x/writer");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->name(), "s/x/writer");
  EXPECT_TRUE(fs::exists(dir.path() / "s/x/.otelrr-lock-writer"));
  EXPECT_EQ(store->LockPathOf("s/x/writer"), dir.path() / "s/x/.otelrr-lock-writer");

  absl::StatusOr<std::unique_ptr<ObjectLock>> second = store->TryLock("s/x/writer");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(IsLockHeld(second.status())) << second.status();
  EXPECT_NE(second.status().message().find(fmt::format("pid {}", ::getpid())), std::string_view::npos)
      << second.status();
  EXPECT_TRUE(store->TryLock("s/x/other").ok());  // another name is another lock

  // The lock file is not an object: not listed, and the folder lists what it listed before.
  absl::StatusOr<std::vector<ObjectInfo>> listed = store->List("s/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "s/x/data");

  first->reset();
  EXPECT_FALSE(fs::exists(dir.path() / "s/x/.otelrr-lock-writer"));
  absl::StatusOr<std::unique_ptr<ObjectLock>> again = store->TryLock("s/x/writer");
  EXPECT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(store->TryLock("../writer").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LocalStoreTest, ReleasingALockInAnEmptyFolderRemovesTheFolder) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  {
    absl::StatusOr<std::unique_ptr<ObjectLock>> lock = store->TryLock("sessions/new/writer");
    ASSERT_TRUE(lock.ok()) << lock.status();
    EXPECT_TRUE(store->List("sessions/new/")->empty());
  }
  EXPECT_FALSE(fs::exists(dir.path() / "sessions"));
}

TEST(LocalStoreTest, ALockLeftByAKilledProcessIsFree) {
  TempDir dir;
  auto store = OpenOrDie(dir.path());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<ObjectLock>> lock = store->TryLock("s/x/writer");
    char c = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    while (true) ::pause();  // until SIGKILL
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, 'y');
  absl::StatusOr<std::unique_ptr<ObjectLock>> held = store->TryLock("s/x/writer");
  EXPECT_TRUE(IsLockHeld(held.status())) << held.status();
  EXPECT_NE(held.status().message().find(fmt::format("pid {}", child)), std::string_view::npos) << held.status();
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  // The killed holder left its lock file; the lock itself died with it.
  EXPECT_TRUE(fs::exists(dir.path() / "s/x/.otelrr-lock-writer"));
  absl::StatusOr<std::unique_ptr<ObjectLock>> taken = store->TryLock("s/x/writer");
  EXPECT_TRUE(taken.ok()) << taken.status();
}

TEST(OpenStoreTest, AcceptsPathsAndFileUrisAndExplainsTheRest) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<ObjectStore>> s = OpenStore((dir.path() / "new/store").string());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(fs::is_directory(dir.path() / "new/store"));
  EXPECT_EQ((*s)->Describe(), (dir.path() / "new/store").string());
  s = OpenStore("file://" + (dir.path() / "other").string());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(fs::is_directory(dir.path() / "other"));
  // Without credentials in the environment an S3 store cannot be opened, and says what to set.
  if (std::getenv("S3_ACCESS_KEY_ID") == nullptr && std::getenv("MINIO_ACCESS_KEY") == nullptr &&
      std::getenv("AWS_ACCESS_KEY_ID") == nullptr) {
    absl::Status s3 = OpenStore("s3://bucket/prefix").status();
    EXPECT_EQ(s3.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(s3.message()).find("S3_ACCESS_KEY_ID"), std::string::npos) << s3;
  }
  EXPECT_EQ(OpenStore("http://x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("file://relative").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(IsRetryableTest, OnlyUnavailableIsRetried) {
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("x")));
  EXPECT_FALSE(IsRetryable(absl::NotFoundError("x")));
  EXPECT_FALSE(IsRetryable(absl::PermissionDeniedError("x")));
}

}  // namespace
}  // namespace otelrr::store
