#include "store/local_store.h"

#include <fstream>
#include <thread>

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

TEST(OpenStoreTest, AcceptsPathsAndFileUrisAndExplainsTheRest) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<ObjectStore>> s = OpenStore((dir.path() / "new/store").string());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(fs::is_directory(dir.path() / "new/store"));
  EXPECT_EQ((*s)->Describe(), (dir.path() / "new/store").string());
  s = OpenStore("file://" + (dir.path() / "other").string());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(fs::is_directory(dir.path() / "other"));
  EXPECT_EQ(OpenStore("s3://bucket/prefix").status().code(), absl::StatusCode::kUnimplemented);
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
