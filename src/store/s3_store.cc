#include "store/s3_store.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "common/status.h"
#include "store/internal/xml.h"

namespace otelrr::store {
namespace {

constexpr std::string_view kLeasePrefix = ".otelrr-lock-";
constexpr size_t kDeleteBatch = 1000;

using internal::XmlDocument;
using internal::XmlElement;

// Whether the last segment of `key` is a lease object's.
bool IsLease(std::string_view key) {
  size_t slash = key.rfind('/');
  return key.substr(slash == std::string_view::npos ? 0 : slash + 1).starts_with(kLeasePrefix);
}

// "2026-11-26T11:45:44.123Z" (ListObjectsV2) or "Thu, 26 Nov 2026 11:45:44 GMT" (Last-Modified) ->
// unix nanoseconds; 0 when it does not parse.
int64_t ParseTime(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return 0;
  int64_t nanos = 0;
  if (*end == '.') {
    int digits = 0;
    for (++end; *end >= '0' && *end <= '9'; ++end, ++digits) {
      if (digits < 9) nanos = nanos * 10 + (*end - '0');
    }
    for (; digits < 9; ++digits) nanos *= 10;
  }
  return static_cast<int64_t>(timegm(&tm)) * 1'000'000'000 + nanos;
}

std::string Base64Md5(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

uint64_t ParseUint(std::string_view s) {
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// Reads an object in ranged GETs of read_bytes, one range ahead: the GET of the next range runs while the
// caller consumes the current one, so a reader that keeps up with the server never waits for a round trip.
// Two buffers of read_bytes take turns for the whole read (a new one per range, on a new thread each time,
// left glibc's arenas holding ~30 MB more of freed ranges in a replay of three files).
class S3Reader : public ObjectReader {
 public:
  S3Reader(S3Client& client, std::string object_key, std::string first, uint64_t size, size_t read_bytes)
      : client_(client), key_(std::move(object_key)), chunk_(std::move(first)), size_(size), read_bytes_(read_bytes) {
    next_ = chunk_.size();
    FetchAhead();
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (pos_ == chunk_.size()) {
      if (next_ >= size_) return 0;
      if (!ahead_.valid()) FetchAhead();  // the last fetch failed: try again
      absl::StatusOr<std::string> body = ahead_.get();
      if (!body.ok()) return body.status();
      spare_ = std::move(chunk_);
      chunk_ = std::move(*body);
      pos_ = 0;
      next_ += chunk_.size();
      FetchAhead();
    }
    size_t take = std::min(n, chunk_.size() - pos_);
    std::copy_n(chunk_.data() + pos_, take, buf);
    pos_ += take;
    return take;
  }

 private:
  // Starts the GET of the range at next_, unless the object ends there.
  void FetchAhead() {
    if (next_ >= size_) return;
    ahead_ = std::async(std::launch::async, [this, offset = next_, buffer = std::move(spare_)]() mutable
                        -> absl::StatusOr<std::string> {
      absl::StatusOr<S3Response> r =
          client_.Send({.method = "GET",
                        .key = key_,
                        .headers = {{"Range", fmt::format("bytes={}-{}", offset, offset + read_bytes_ - 1)}},
                        .answer_buffer = &buffer});
      if (!r.ok()) return r.status();
      if (r->status != 206 && r->status != 200) return client_.ErrorOf(*r, fmt::format("reading {}", key_));
      if (r->status == 200) {
        if (r->body.size() < offset) return absl::DataLossError(fmt::format("reading {}: the object shrank", key_));
        r->body.erase(0, offset);  // a server that ignored the range sent it all
      }
      if (r->body.empty()) return absl::DataLossError(fmt::format("reading {}: the object ended early", key_));
      return std::move(r->body);
    });
  }

  S3Client& client_;
  const std::string key_;
  std::string chunk_;
  std::string spare_;  // the buffer the next range is read into
  size_t pos_ = 0;
  uint64_t next_ = 0;  // offset of the byte after chunk_
  const uint64_t size_;
  const size_t read_bytes_;
  std::future<absl::StatusOr<std::string>> ahead_;  // the range at next_; last: its destructor waits for it
};

// Uploads an object in parts as it is appended (see s3_store.h).
class S3Writer : public ObjectWriter {
 public:
  S3Writer(S3Store& store, std::string object_key) : store_(store), key_(std::move(object_key)) {}

  ~S3Writer() override {
    if (!closed_) (void)Close();
  }

  absl::Status Append(std::string_view data) override {
    if (!error_.ok()) return error_;
    size_ += data.size();
    const size_t part_bytes = store_.options().part_bytes;
    while (!data.empty()) {
      const size_t take = std::min(part_bytes - buffer_.size(), data.size());
      if (buffer_.size() + take > std::max<size_t>(buffer_.capacity(), 1 << 20)) {
        buffer_.reserve(part_bytes);  // a large object: once per part, not a copy at every doubling
      }
      buffer_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (buffer_.size() < part_bytes) break;
      std::string part;
      part.swap(buffer_);  // no copy: the buffer's memory travels with the part, and goes when it is sent
      if (absl::Status s = UploadPart(std::move(part)); !s.ok()) return Fail(s);
    }
    return absl::OkStatus();
  }

  // S3 makes nothing durable before the upload completes (s3_store.h).
  absl::Status Sync() override { return error_; }

  absl::Status Close() override {
    if (closed_) return error_;
    closed_ = true;
    if (!error_.ok()) return error_;
    S3Client& client = store_.client();
    if (upload_id_.empty()) {
      absl::StatusOr<S3Response> r = client.Send({.method = "PUT", .key = key_, .body = buffer_});
      if (!r.ok()) return Fail(r.status());
      if (r->status != 200) return Fail(client.ErrorOf(*r, fmt::format("writing {}", key_)));
      return absl::OkStatus();
    }
    if (!buffer_.empty()) {
      if (absl::Status s = UploadPart(std::move(buffer_)); !s.ok()) return Fail(s);
    }
    while (!in_flight_.empty()) {
      if (absl::Status s = WaitOldest(); !s.ok()) return Fail(s);
    }
    std::string xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags_.size(); ++i) {
      xml += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1,
                         internal::XmlEscape(etags_[i]));
    }
    xml += "</CompleteMultipartUpload>";
    absl::StatusOr<S3Response> r =
        client.Send({.method = "POST", .key = key_, .query = {{"uploadId", upload_id_}}, .body = xml});
    if (!r.ok()) return Fail(r.status());
    // CompleteMultipartUpload can answer 200 with an <Error> body.
    if (r->status != 200 || r->body.find("<Error>") != std::string::npos) {
      return Fail(client.ErrorOf(*r, fmt::format("completing the upload of {}", key_)));
    }
    upload_id_.clear();
    return absl::OkStatus();
  }

  uint64_t size() const override { return size_; }

 private:
  absl::Status UploadPart(std::string part) {
    S3Client& client = store_.client();
    if (upload_id_.empty()) {
      absl::StatusOr<S3Response> r = client.Send({.method = "POST", .key = key_, .query = {{"uploads", ""}}});
      if (!r.ok()) return r.status();
      if (r->status != 200) return client.ErrorOf(*r, fmt::format("starting the upload of {}", key_));
      absl::StatusOr<XmlDocument> doc = XmlDocument::Parse(r->body);
      if (!doc.ok() || doc->root().ChildText("UploadId").empty()) {
        return absl::InternalError(fmt::format("starting the upload of {}: no UploadId in the answer", key_));
      }
      upload_id_ = doc->root().ChildText("UploadId");
    }
    while (in_flight_.size() >= store_.options().parts_in_flight) {
      if (absl::Status s = WaitOldest(); !s.ok()) return s;
    }
    store_.AcquirePart();
    const size_t number = etags_.size() + in_flight_.size() + 1;
    in_flight_.push_back(std::async(std::launch::async, [&store = store_, &client, key = key_, id = upload_id_, number,
                                                         part = std::move(part)]() mutable -> absl::StatusOr<std::string> {
      absl::StatusOr<S3Response> r = client.Send({.method = "PUT",
                                                  .key = key,
                                                  .query = {{"partNumber", std::to_string(number)}, {"uploadId", id}},
                                                  .body = part});
      std::string().swap(part);  // the part's memory goes back before its slot does
      store.ReleasePart();
      if (!r.ok()) return r.status();
      if (r->status != 200) return client.ErrorOf(*r, fmt::format("uploading part {} of {}", number, key));
      std::string etag = r->Header("etag");
      if (etag.empty()) return absl::InternalError(fmt::format("uploading part {} of {}: no ETag", number, key));
      return etag;
    }));
    return absl::OkStatus();
  }

  absl::Status WaitOldest() {
    absl::StatusOr<std::string> etag = in_flight_.front().get();
    in_flight_.pop_front();
    if (!etag.ok()) return etag.status();
    etags_.push_back(std::move(*etag));
    return absl::OkStatus();
  }

  // Remembers the first error and aborts the upload, so that no part stays stored.
  absl::Status Fail(absl::Status s) {
    if (error_.ok()) error_ = s;
    while (!in_flight_.empty()) (void)WaitOldest();
    if (!upload_id_.empty()) {
      (void)store_.client().Send({.method = "DELETE", .key = key_, .query = {{"uploadId", upload_id_}}});
      upload_id_.clear();
    }
    closed_ = true;
    return error_;
  }

  S3Store& store_;
  const std::string key_;
  std::string buffer_;
  uint64_t size_ = 0;
  std::string upload_id_;
  std::vector<std::string> etags_;
  std::deque<std::future<absl::StatusOr<std::string>>> in_flight_;
  absl::Status error_;
  bool closed_ = false;
};

// A lease (see s3_store.h), renewed on a thread of its own until released.
class S3Lease : public ObjectLock {
 public:
  S3Lease(S3Client& client, std::string name, std::string object_key, std::string holder, std::chrono::seconds ttl)
      : client_(client), name_(std::move(name)), key_(std::move(object_key)), holder_(std::move(holder)), ttl_(ttl),
        thread_([this] { Renew(); }) {}

  ~S3Lease() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    (void)client_.Send({.method = "DELETE", .key = key_});
  }

  const std::string& name() const override { return name_; }

  static std::string Body(std::string_view holder, std::chrono::seconds ttl) {
    auto expires = std::chrono::system_clock::now() + ttl;
    return fmt::format("{{\"holder\":\"{}\",\"expiresUnixNano\":\"{}\"}}\n", holder,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(expires.time_since_epoch()).count());
  }

 private:
  void Renew() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, ttl_ / 3, [&] { return stop_; })) {
      lock.unlock();
      (void)client_.Send({.method = "PUT", .key = key_, .body = Body(holder_, ttl_)});
      lock.lock();
    }
  }

  S3Client& client_;
  const std::string name_;
  const std::string key_;
  const std::string holder_;
  const std::chrono::seconds ttl_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last
};

std::string HostName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

// "host pid 1234 <random>": who holds a lease, for messages, and to tell a dead holder on this host.
std::string LeaseHolder() {
  std::random_device rd;
  return fmt::format("{} pid {} {:08x}", HostName(), getpid(), rd());
}

// Whether `holder` (LeaseHolder's form) is a process of this host that no longer runs: its lease need
// not be waited out (a local crash is recovered at once, as with a local store's lock).
bool HolderDiedHere(std::string_view holder) {
  const std::string host = HostName();
  if (!holder.starts_with(host + " pid ")) return false;
  std::string_view rest = holder.substr(host.size() + 5);
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
  if (ec != std::errc() || pid <= 0) return false;
  return kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

S3Store::S3Store(S3Config config, S3StoreOptions options)
    : options_(options), client_(std::move(config), options.client) {}

S3Store::~S3Store() = default;

void S3Store::AcquirePart() {
  std::unique_lock<std::mutex> lock(parts_mu_);
  parts_cv_.wait(lock, [&] { return parts_busy_ < std::max<size_t>(1, options_.parts_in_flight); });
  ++parts_busy_;
}

void S3Store::ReleasePart() {
  {
    std::lock_guard<std::mutex> lock(parts_mu_);
    --parts_busy_;
  }
  parts_cv_.notify_one();
}

absl::StatusOr<std::unique_ptr<S3Store>> S3Store::Open(S3Config config, S3StoreOptions options) {
  if (options.part_bytes < (5u << 20)) {
    return absl::InvalidArgumentError("S3 multipart parts must be at least 5 MiB");
  }
  std::unique_ptr<S3Store> store(new S3Store(std::move(config), options));
  // One listing of at most one key: it fails exactly when the endpoint, the credentials or the bucket
  // are wrong, and says which.
  absl::StatusOr<S3Response> r = store->client_.Send(
      {.method = "GET", .query = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", store->client_.config().prefix}}});
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return store->client_.ErrorOf(*r, fmt::format("opening {} at {}", store->Describe(), store->client_.config().endpoint));
  }
  return store;
}

absl::Status S3Store::Put(std::string_view key, std::string_view data) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  if (data.size() > options_.multipart_threshold) {
    S3Writer writer(*this, ObjectKey(key));
    if (absl::Status s = writer.Append(data); !s.ok()) return s;
    return writer.Close();
  }
  absl::StatusOr<S3Response> r = client_.Send({.method = "PUT", .key = ObjectKey(key), .body = data});
  if (!r.ok()) return r.status();
  if (r->status != 200) return client_.ErrorOf(*r, fmt::format("writing {}", key));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ObjectReader>> S3Store::Get(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  const std::string object = ObjectKey(key);
  absl::StatusOr<S3Response> r = client_.Send(
      {.method = "GET", .key = object, .headers = {{"Range", fmt::format("bytes=0-{}", options_.read_bytes - 1)}}});
  if (!r.ok()) return r.status();
  if (r->status == 416) {  // an empty object has no byte 0
    return std::unique_ptr<ObjectReader>(new S3Reader(client_, object, "", 0, options_.read_bytes));
  }
  if (r->status != 200 && r->status != 206) return client_.ErrorOf(*r, fmt::format("reading {}", key));
  uint64_t size = r->body.size();
  if (r->status == 206) {
    // Content-Range: bytes 0-8388607/123456789
    std::string range = r->Header("content-range");
    size_t slash = range.rfind('/');
    if (slash == std::string::npos) {
      return absl::InternalError(fmt::format("reading {}: the server's Content-Range '{}' has no size", key, range));
    }
    size = ParseUint(std::string_view(range).substr(slash + 1));
  }
  return std::unique_ptr<ObjectReader>(new S3Reader(client_, object, std::move(r->body), size, options_.read_bytes));
}

absl::Status S3Store::ListPages(std::string_view full_prefix, bool directories, std::string_view what,
                                const std::function<void(const internal::XmlElement&)>& page) {
  std::string token;
  while (true) {
    S3Request request{.method = "GET", .query = {{"list-type", "2"}, {"prefix", std::string(full_prefix)}}};
    if (directories) request.query.emplace_back("delimiter", "/");
    if (!token.empty()) request.query.emplace_back("continuation-token", token);
    absl::StatusOr<S3Response> r = client_.Send(request);
    if (!r.ok()) return r.status();
    if (r->status != 200) return client_.ErrorOf(*r, fmt::format("listing {}", what));
    absl::StatusOr<XmlDocument> doc = XmlDocument::Parse(r->body);
    if (!doc.ok()) return absl::InternalError(fmt::format("listing {}: the answer is not XML", what));
    page(doc->root());
    if (doc->root().ChildText("IsTruncated") != "true") return absl::OkStatus();
    token = doc->root().ChildText("NextContinuationToken");
    if (token.empty()) return absl::InternalError(fmt::format("listing {}: truncated without a continuation token", what));
  }
}

absl::StatusOr<std::vector<ObjectInfo>> S3Store::ListAll(std::string_view prefix, bool with_leases) {
  if (absl::Status s = ValidatePrefix(prefix); !s.ok()) return s;
  const std::string& root = client_.config().prefix;
  std::vector<ObjectInfo> out;
  absl::Status s = ListPages(root + std::string(prefix), /*directories=*/false, prefix, [&](const XmlElement& page) {
    for (XmlElement c : page.Children("Contents")) {
      std::string key = c.ChildText("Key");
      if (!key.starts_with(root)) continue;
      key.erase(0, root.size());
      if (ValidateKey(key).ok() && (with_leases || !IsLease(key))) {
        out.push_back({.key = std::move(key),
                       .size = ParseUint(c.ChildText("Size")),
                       .mtime_unix_nano = ParseTime(c.ChildText("LastModified"))});
      }
    }
  });
  if (!s.ok()) return s;
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

absl::StatusOr<std::vector<ObjectInfo>> S3Store::List(std::string_view prefix) {
  return ListAll(prefix, /*with_leases=*/false);
}

absl::StatusOr<std::vector<std::string>> S3Store::ListDirectories(std::string_view prefix) {
  if (!prefix.empty() && !prefix.ends_with('/')) {
    return absl::InvalidArgumentError(fmt::format("directory prefix \"{}\" must end with '/'", prefix));
  }
  if (absl::Status s = ValidatePrefix(prefix); !s.ok()) return s;
  const std::string full = client_.config().prefix + std::string(prefix);
  std::vector<std::string> out;
  absl::Status s = ListPages(full, /*directories=*/true, prefix, [&](const XmlElement& page) {
    for (XmlElement c : page.Children("CommonPrefixes")) {
      std::string p = c.ChildText("Prefix");
      if (!p.starts_with(full) || !p.ends_with('/')) continue;
      std::string name = p.substr(full.size(), p.size() - full.size() - 1);
      if (!name.empty() && name.find('/') == std::string::npos) out.push_back(std::move(name));
    }
  });
  if (!s.ok()) return s;
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<ObjectInfo> S3Store::Head(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  absl::StatusOr<S3Response> r = client_.Send({.method = "HEAD", .key = ObjectKey(key)});
  if (!r.ok()) return r.status();
  if (r->status != 200) return client_.ErrorOf(*r, fmt::format("looking up {}", key));
  return ObjectInfo{.key = std::string(key),
                    .size = ParseUint(r->Header("content-length")),
                    .mtime_unix_nano = ParseTime(r->Header("last-modified"))};
}

absl::Status S3Store::Delete(std::string_view key) {
  absl::StatusOr<ObjectInfo> head = Head(key);
  if (!head.ok()) return head.status();
  absl::StatusOr<S3Response> r = client_.Send({.method = "DELETE", .key = ObjectKey(key)});
  if (!r.ok()) return r.status();
  if (r->status != 204 && r->status != 200) return client_.ErrorOf(*r, fmt::format("deleting {}", key));
  return absl::OkStatus();
}

absl::Status S3Store::DeletePrefix(std::string_view prefix) {
  if (!prefix.ends_with('/')) {
    return absl::InvalidArgumentError(fmt::format("prefix \"{}\" to delete must end with '/'", prefix));
  }
  // Not the leases: a lock held while its prefix is deleted stays held until its holder releases it.
  absl::StatusOr<std::vector<ObjectInfo>> all = ListAll(prefix, /*with_leases=*/false);
  if (!all.ok()) return all.status();
  for (size_t first = 0; first < all->size(); first += kDeleteBatch) {
    std::string xml = "<Delete><Quiet>true</Quiet>";
    for (size_t i = first; i < std::min(all->size(), first + kDeleteBatch); ++i) {
      xml += fmt::format("<Object><Key>{}</Key></Object>", internal::XmlEscape(ObjectKey((*all)[i].key)));
    }
    xml += "</Delete>";
    absl::StatusOr<S3Response> r = client_.Send({.method = "POST",
                                                 .query = {{"delete", ""}},
                                                 .headers = {{"Content-MD5", Base64Md5(xml)},
                                                             {"Content-Type", "application/xml"}},
                                                 .body = xml});
    if (!r.ok()) return r.status();
    if (r->status != 200) return client_.ErrorOf(*r, fmt::format("deleting {}", prefix));
    absl::StatusOr<XmlDocument> doc = XmlDocument::Parse(r->body);
    if (doc.ok()) {
      for (XmlElement e : doc->root().Children("Error")) {
        return absl::InternalError(fmt::format("deleting {}: {} was not deleted: {} {}", prefix, e.ChildText("Key"),
                                               e.ChildText("Code"), e.ChildText("Message")));
      }
    }
  }
  // And the parts of uploads never finished under it, which no listing of objects shows.
  absl::StatusOr<size_t> aborted = AbortIncompleteWrites(prefix);
  return aborted.status();
}

absl::StatusOr<std::unique_ptr<ObjectWriter>> S3Store::Create(std::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  return std::unique_ptr<ObjectWriter>(new S3Writer(*this, ObjectKey(key)));
}

absl::Status S3Store::Truncate(std::string_view key, uint64_t size) {
  absl::StatusOr<ObjectInfo> head = Head(key);
  if (!head.ok()) return head.status();
  if (size > head->size) {
    return absl::InvalidArgumentError(
        fmt::format("cannot cut {} to {} bytes: it holds only {}", key, size, head->size));
  }
  if (size == head->size) return absl::OkStatus();
  // The kept bytes go into a new upload of the same key, which replaces the object only once complete:
  // a failure leaves the old object.
  absl::StatusOr<std::unique_ptr<ObjectReader>> reader = Get(key);
  if (!reader.ok()) return reader.status();
  S3Writer writer(*this, ObjectKey(key));
  std::string buf(1 << 20, '\0');
  for (uint64_t copied = 0; copied < size;) {
    absl::StatusOr<size_t> n = (*reader)->Read(buf.data(), std::min<uint64_t>(buf.size(), size - copied));
    if (!n.ok()) return n.status();
    if (*n == 0) return absl::DataLossError(fmt::format("cutting {}: it ended at byte {}", key, copied));
    if (absl::Status s = writer.Append(std::string_view(buf.data(), *n)); !s.ok()) return s;
    copied += *n;
  }
  return writer.Close();
}

absl::StatusOr<std::unique_ptr<ObjectLock>> S3Store::TryLock(std::string_view name) {
  if (absl::Status s = ValidateKey(name); !s.ok()) return s;
  size_t slash = name.rfind('/');
  const std::string lease_key = ObjectKey(slash == std::string_view::npos
                                              ? fmt::format("{}{}", kLeasePrefix, name)
                                              : fmt::format("{}/{}{}", name.substr(0, slash), kLeasePrefix,
                                                            name.substr(slash + 1)));
  const std::string holder = LeaseHolder();
  auto taken = [&]() -> std::unique_ptr<ObjectLock> {
    return std::make_unique<S3Lease>(client_, std::string(name), lease_key, holder, options_.lease);
  };
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<S3Response> r = client_.Send({.method = "PUT",
                                                 .key = lease_key,
                                                 .headers = {{"If-None-Match", "*"}},
                                                 .body = S3Lease::Body(holder, options_.lease)});
    if (!r.ok()) return r.status();
    if (r->status == 200) return taken();
    if (r->status != 412 && r->status != 409) return client_.ErrorOf(*r, fmt::format("taking lock {}", name));
    // Held: by a live holder, or by one that died and stopped renewing it.
    absl::StatusOr<S3Response> current = client_.Send({.method = "GET", .key = lease_key});
    if (!current.ok()) return current.status();
    if (current->status == 404) continue;  // released meanwhile
    std::string body = current->body;
    size_t at = body.find("\"expiresUnixNano\":\"");
    int64_t expires = at == std::string::npos ? 0 : static_cast<int64_t>(ParseUint(std::string_view(body).substr(at + 19)));
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    size_t h = body.find("\"holder\":\"");
    std::string who = h == std::string::npos ? "another holder" : body.substr(h + 10, body.find('"', h + 10) - h - 10);
    // Our own: the PUT above created it, but its answer was lost and the client's retry got 412.
    if (who == holder) return taken();
    if (expires > now && !HolderDiedHere(who)) {
      return absl::FailedPreconditionError(fmt::format("lock {} is held by {} (its lease runs until it is released or "
                                                       "stops being renewed)",
                                                       name, who));
    }
    // Expired, or its holder died on this host: delete it and race once more for it (the conditional
    // PUT decides).
    (void)client_.Send({.method = "DELETE", .key = lease_key});
  }
  return absl::FailedPreconditionError(fmt::format("lock {} is held by another holder", name));
}

absl::StatusOr<size_t> S3Store::AbortIncompleteWrites(std::string_view prefix) {
  absl::StatusOr<S3Response> r =
      client_.Send({.method = "GET", .query = {{"uploads", ""}, {"prefix", ObjectKey(prefix)}}});
  if (!r.ok()) return r.status();
  if (r->status != 200) return client_.ErrorOf(*r, fmt::format("listing the unfinished uploads of {}", prefix));
  absl::StatusOr<XmlDocument> doc = XmlDocument::Parse(r->body);
  if (!doc.ok()) return absl::InternalError("listing unfinished uploads: the answer is not XML");
  size_t aborted = 0;
  for (XmlElement u : doc->root().Children("Upload")) {
    absl::StatusOr<S3Response> a = client_.Send(
        {.method = "DELETE", .key = u.ChildText("Key"), .query = {{"uploadId", u.ChildText("UploadId")}}});
    if (a.ok() && (a->status == 204 || a->status == 200)) ++aborted;
  }
  return aborted;
}

}  // namespace otelrr::store
