#include "store/local_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>

#include <fmt/format.h>

namespace otelrr::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTempPrefix = ".otelrr-tmp-";
constexpr std::string_view kLockPrefix = ".otelrr-lock-";

absl::Status ErrnoStatus(int err, std::string_view what, const fs::path& path) {
  std::string message = fmt::format("{} {}: {}", what, path.string(), std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EAGAIN:
    case EBUSY:
    case ETIMEDOUT:
    case EINTR:
      return absl::UnavailableError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status ErrorCodeStatus(const std::error_code& ec, std::string_view what, const fs::path& path) {
  return ErrnoStatus(ec.value(), what, path);
}

int64_t MtimeNanos(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

absl::Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "writing", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status FsyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "opening directory", dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, "syncing directory", dir);
  return absl::OkStatus();
}

// Creates `dir` and its missing parents below `root`; appends each directory it created to `created`
// (outermost first) so a caller can make those directory entries durable.
absl::Status MakeDirectories(const fs::path& root, const fs::path& dir, std::vector<fs::path>* created) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return absl::OkStatus();
  std::vector<fs::path> missing;
  for (fs::path p = dir; p != root && !p.empty() && !fs::exists(p, ec); p = p.parent_path()) missing.push_back(p);
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0777) != 0 && errno != EEXIST) return ErrnoStatus(errno, "creating directory", *it);
    if (created != nullptr) created->push_back(*it);
  }
  return absl::OkStatus();
}

// Removes the now-empty directories from `dir` up to (not including) `root`. Keys are objects,
// directories are an artefact of this store: leave none behind once empty.
void PruneEmptyDirectories(const fs::path& root, fs::path dir) {
  std::error_code ec;
  while (dir != root && dir.string().size() > root.string().size()) {
    if (!fs::is_empty(dir, ec) || ec) return;
    if (!fs::remove(dir, ec) || ec) return;
    dir = dir.parent_path();
  }
}

bool SameFile(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

std::string RandomSuffix() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:x}-{:x}-{}", rng(), ::getpid(), counter.fetch_add(1));
}

class LocalReader : public ObjectReader {
 public:
  LocalReader(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  ~LocalReader() override { ::close(fd_); }
  LocalReader(const LocalReader&) = delete;
  LocalReader& operator=(const LocalReader&) = delete;

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return ErrnoStatus(errno, "reading", path_);
    }
  }

 private:
  int fd_;
  fs::path path_;
};

class LocalWriter : public ObjectWriter {
 public:
  LocalWriter(int fd, fs::path path, std::vector<fs::path> dirs_to_sync)
      : fd_(fd), path_(std::move(path)), dirs_to_sync_(std::move(dirs_to_sync)) {}
  ~LocalWriter() override {
    if (fd_ >= 0) ::close(fd_);
  }
  LocalWriter(const LocalWriter&) = delete;
  LocalWriter& operator=(const LocalWriter&) = delete;

  absl::Status Append(std::string_view data) override {
    if (fd_ < 0) return absl::FailedPreconditionError(fmt::format("{} is closed", path_.string()));
    absl::Status s = WriteAll(fd_, data, path_);
    if (!s.ok()) return s;
    size_ += data.size();
    // Write-behind: start the disk writes of every full window without waiting for them, so the
    // Sync() that ends a large file does not stall on all of its data at once. Only a hint: errors
    // show up in Sync().
    if (size_ - write_behind_ >= kWriteBehindBytes) {
      (void)::sync_file_range(fd_, static_cast<off_t>(write_behind_), static_cast<off_t>(size_ - write_behind_),
                              SYNC_FILE_RANGE_WRITE);
      write_behind_ = size_;
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (fd_ < 0) return absl::FailedPreconditionError(fmt::format("{} is closed", path_.string()));
    if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, "syncing", path_);
    // The file's own directory entry (and those of directories created for it) must be durable too,
    // or a crash could lose a file whose data was synced.
    if (!dirs_synced_) {
      for (const fs::path& dir : dirs_to_sync_) {
        if (absl::Status s = FsyncDirectory(dir); !s.ok()) return s;
      }
      dirs_synced_ = true;
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0 && errno != EINTR) return ErrnoStatus(errno, "closing", path_);
    return absl::OkStatus();
  }

  uint64_t size() const override { return size_; }

 private:
  static constexpr uint64_t kWriteBehindBytes = 8 << 20;
  uint64_t write_behind_ = 0;  // writes of the bytes before this offset were started
  int fd_;
  fs::path path_;
  std::vector<fs::path> dirs_to_sync_;
  bool dirs_synced_ = false;
  uint64_t size_ = 0;
};

class LocalLock : public ObjectLock {
 public:
  LocalLock(int fd, fs::path path, fs::path root, std::string name)
      : fd_(fd), path_(std::move(path)), root_(std::move(root)), name_(std::move(name)) {}
  ~LocalLock() override {
    // Remove the file while still holding the lock, and only if the path is still our file: a
    // TryLock that opened it meanwhile finds it unlinked after its flock and starts over.
    struct stat mine;
    struct stat there;
    bool ours = ::fstat(fd_, &mine) == 0 && ::stat(path_.c_str(), &there) == 0 && SameFile(mine, there);
    if (ours) ::unlink(path_.c_str());
    ::close(fd_);
    if (ours) PruneEmptyDirectories(root_, path_.parent_path());
  }
  LocalLock(const LocalLock&) = delete;
  LocalLock& operator=(const LocalLock&) = delete;

  const std::string& name() const override { return name_; }

 private:
  int fd_;
  fs::path path_;
  fs::path root_;
  std::string name_;
};

// What a lock file says about its holder, for the message of a failed TryLock: "pid 1234", or "".
std::string LockHolder(int fd) {
  char buf[64];
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "";
  std::string text(buf, static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text.find('\n') == std::string::npos ? text : "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalStore>> LocalStore::Open(LocalStoreOptions options) {
  if (options.root.empty()) return absl::InvalidArgumentError("local store: the root directory is empty");
  std::error_code ec;
  fs::path root = fs::absolute(options.root, ec);
  if (ec) return ErrorCodeStatus(ec, "resolving", options.root);
  root = root.lexically_normal();
  if (!root.has_filename() && root != root.root_path()) root = root.parent_path();  // drop a trailing slash
  if (options.create_root) {
    fs::create_directories(root, ec);
    if (ec) return ErrorCodeStatus(ec, "creating store directory", root);
  }
  if (!fs::is_directory(root, ec)) {
    return absl::NotFoundError(fmt::format("store directory {} does not exist or is not a directory", root.string()));
  }
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(root)));
}

fs::path LocalStore::PathOf(std::string_view key) const { return root_ / fs::path(std::string(key)); }

absl::Status LocalStore::Put(std::string_view key, std::string_view data) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  fs::path path = PathOf(key);
  fs::path dir = path.parent_path();
  if (absl::Status s = MakeDirectories(root_, dir, nullptr); !s.ok()) return s;
  fs::path tmp = dir / fmt::format("{}{}", kTempPrefix, RandomSuffix());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return ErrnoStatus(errno, "creating", tmp);
  absl::Status s = WriteAll(fd, data, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus(errno, "syncing", tmp);
  if (::close(fd) != 0 && s.ok()) s = ErrnoStatus(errno, "closing", tmp);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = ErrnoStatus(errno, "renaming temporary file to", path);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDirectory(dir);
}

absl::StatusOr<std::unique_ptr<ObjectReader>> LocalStore::Get(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  fs::path path = PathOf(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "opening", path);
  struct stat st;
  if (::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::NotFoundError(fmt::format("{} is not an object (not a regular file)", path.string()));
  }
  return std::unique_ptr<ObjectReader>(new LocalReader(fd, std::move(path)));
}

absl::StatusOr<std::vector<ObjectInfo>> LocalStore::List(std::string_view prefix) {
  if (absl::Status s = ValidatePrefix(prefix); !s.ok()) return s;
  // Walk only the deepest directory the prefix names completely, then filter by the full prefix.
  size_t slash = prefix.rfind('/');
  fs::path start = slash == std::string_view::npos ? root_ : PathOf(prefix.substr(0, slash));
  std::vector<ObjectInfo> out;
  std::error_code ec;
  if (!fs::is_directory(start, ec)) return out;
  // Directory by directory rather than with recursive_directory_iterator: a folder deleted while it is
  // listed (retention or `sessions delete` beside a listing) is skipped, where that iterator ends in an error.
  std::vector<fs::path> dirs{start};
  while (!dirs.empty()) {
    const fs::path dir = std::move(dirs.back());
    dirs.pop_back();
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const fs::directory_entry& entry = *it;
      struct stat st;
      if (::lstat(entry.path().c_str(), &st) != 0) continue;  // gone meanwhile
      if (S_ISDIR(st.st_mode)) {
        dirs.push_back(entry.path());
        continue;
      }
      std::string name = entry.path().filename().string();
      if (!S_ISREG(st.st_mode) || name.starts_with(kTempPrefix) || name.starts_with(kLockPrefix)) continue;
      std::string key = entry.path().lexically_relative(root_).generic_string();
      if (!key.starts_with(prefix)) continue;
      out.push_back({.key = std::move(key), .size = static_cast<uint64_t>(st.st_size), .mtime_unix_nano = MtimeNanos(st)});
    }
    if (ec == std::errc::no_such_file_or_directory) ec.clear();  // deleted while listed: it holds nothing
    if (ec) return ErrorCodeStatus(ec, "listing", dir);
  }
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

absl::StatusOr<std::vector<std::string>> LocalStore::ListDirectories(std::string_view prefix) {
  if (!prefix.empty() && prefix.back() != '/') {
    return absl::InvalidArgumentError(fmt::format("ListDirectories: prefix \"{}\" must end with '/'", prefix));
  }
  if (absl::Status s = ValidatePrefix(prefix); !s.ok()) return s;
  fs::path dir = prefix.empty() ? root_ : PathOf(prefix.substr(0, prefix.size() - 1));
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code gone;  // an entry deleted meanwhile is skipped
    if (it->is_directory(gone)) out.push_back(it->path().filename().string());
  }
  if (ec == std::errc::no_such_file_or_directory) ec.clear();  // the folder itself deleted while listed
  if (ec) return ErrorCodeStatus(ec, "listing", dir);
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<ObjectInfo> LocalStore::Head(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  fs::path path = PathOf(key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) return absl::NotFoundError(fmt::format("{} is not an object", path.string()));
  return ObjectInfo{.key = std::string(key), .size = static_cast<uint64_t>(st.st_size), .mtime_unix_nano = MtimeNanos(st)};
}

absl::Status LocalStore::Delete(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  fs::path path = PathOf(key);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "deleting", path);
  if (!S_ISREG(st.st_mode)) return absl::NotFoundError(fmt::format("{} is not an object", path.string()));
  if (::unlink(path.c_str()) != 0) return ErrnoStatus(errno, "deleting", path);
  PruneEmptyDirectories(root_, path.parent_path());
  return absl::OkStatus();
}

absl::Status LocalStore::DeletePrefix(std::string_view prefix) {
  if (prefix.empty() || prefix.back() != '/') {
    return absl::InvalidArgumentError(
        fmt::format("DeletePrefix: prefix \"{}\" must name a folder and end with '/'", prefix));
  }
  if (absl::Status s = ValidatePrefix(prefix); !s.ok()) return s;
  fs::path dir = PathOf(prefix.substr(0, prefix.size() - 1));
  std::error_code ec;
  // Files that come or go in the folder while it is removed (a reader's cache renamed into place, a lock
  // file) end remove_all early: ENOTEMPTY at the last rmdir, or ENOENT for an entry gone before its turn,
  // which leaves the entries after it. Removing again takes the rest, unless something keeps writing there.
  constexpr int kAttempts = 8;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    ec.clear();
    fs::remove_all(dir, ec);
    if (ec.value() != ENOTEMPTY && ec.value() != ENOENT) break;
    std::error_code unknown;
    if (!fs::exists(dir, unknown) && !unknown) {
      ec.clear();
      break;
    }
  }
  if (ec) return ErrorCodeStatus(ec, "deleting", dir);
  PruneEmptyDirectories(root_, dir.parent_path());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ObjectWriter>> LocalStore::Create(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  fs::path path = PathOf(key);
  std::vector<fs::path> created;
  if (absl::Status s = MakeDirectories(root_, path.parent_path(), &created); !s.ok()) return s;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) return ErrnoStatus(errno, "creating", path);
  // Directory entries to make durable on the first Sync: the file's own, then each created directory's.
  std::vector<fs::path> dirs{path.parent_path()};
  for (const fs::path& d : created) dirs.push_back(d.parent_path());
  return std::unique_ptr<ObjectWriter>(new LocalWriter(fd, std::move(path), std::move(dirs)));
}

fs::path LocalStore::LockPathOf(std::string_view name) const {
  fs::path path = PathOf(name);
  return path.parent_path() / fmt::format("{}{}", kLockPrefix, path.filename().string());
}

absl::Status LocalStore::Truncate(std::string_view key, uint64_t size) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  fs::path path = PathOf(key);
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "opening for truncation", path);
  absl::Status s;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    s = ErrnoStatus(errno, "stat", path);
  } else if (!S_ISREG(st.st_mode)) {
    s = absl::NotFoundError(fmt::format("{} is not an object", path.string()));
  } else if (size > static_cast<uint64_t>(st.st_size)) {
    s = absl::InvalidArgumentError(
        fmt::format("cannot truncate {} to {} bytes: it holds only {}", path.string(), size, st.st_size));
  } else if (size < static_cast<uint64_t>(st.st_size)) {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      s = ErrnoStatus(errno, "truncating", path);
    } else if (::fdatasync(fd) != 0) {
      s = ErrnoStatus(errno, "syncing", path);
    }
  }
  if (::close(fd) != 0 && s.ok() && errno != EINTR) s = ErrnoStatus(errno, "closing", path);
  return s;
}

absl::StatusOr<std::unique_ptr<ObjectLock>> LocalStore::TryLock(std::string_view name) {
  if (absl::Status s = ValidateKey(name); !s.ok()) return s;
  fs::path path = LockPathOf(name);
  // Each attempt can lose a race with a holder that releases (and removes the file or its folder)
  // between our open and our flock; a few attempts always suffice unless something keeps deleting it.
  constexpr int kAttempts = 8;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (absl::Status s = MakeDirectories(root_, path.parent_path(), nullptr); !s.ok()) return s;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // the folder was pruned under us
      return ErrnoStatus(errno, "opening lock file", path);
    }
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      int err = errno;
      if (err == EWOULDBLOCK) {
        std::string holder = LockHolder(fd);
        ::close(fd);
        return absl::FailedPreconditionError(fmt::format("lock {} is held by another holder{} (file {})", name,
                                                         holder.empty() ? "" : fmt::format(" ({})", holder),
                                                         path.string()));
      }
      ::close(fd);
      return ErrnoStatus(err, "locking", path);
    }
    struct stat mine;
    struct stat there;
    if (::fstat(fd, &mine) != 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "stat", path);
    }
    if (::stat(path.c_str(), &there) != 0 || !SameFile(mine, there)) {
      ::close(fd);  // the previous holder removed this file on release: lock the current one
      continue;
    }
    std::string holder = fmt::format("pid {}\n", ::getpid());
    // Only informational (LockHolder): the lock is held whether or not this write works.
    bool noted = ::ftruncate(fd, 0) == 0 && ::pwrite(fd, holder.data(), holder.size(), 0) >= 0;
    (void)noted;
    return std::unique_ptr<ObjectLock>(new LocalLock(fd, std::move(path), root_, std::string(name)));
  }
  return absl::UnavailableError(
      fmt::format("could not take lock {}: its file {} kept being removed while locking", name, path.string()));
}

}  // namespace otelrr::store
