// The store a command works on: --store, OTELRR_STORE, an S3 bucket named in the environment, or ./data.
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "common/status.h"
#include "fmt/format.h"
#include "session/recover.h"
#include "store/local_store.h"
#include "store/s3_config.h"
#include "store/spool_store.h"

namespace otelrr::cli {
namespace {

void Report(std::string_view who, const std::string& line) {
  std::fprintf(stderr, "otelrr %.*s: %s\n", static_cast<int>(who.size()), who.data(), line.c_str());
}

}  // namespace

std::string StoreFlag::Resolved() const {
  if (!uri.empty()) return uri;
  if (const char* env = std::getenv("OTELRR_STORE"); env != nullptr && *env != '\0') return env;
  if (std::string bucket = store::EnvironmentBucket(); !bucket.empty()) return "s3://" + bucket;
  return "./data";
}

std::string StoreFlag::SpoolDir() const {
  if (!spool.empty()) return spool;
  std::string cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    cache = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    cache = fmt::format("{}/.cache", home);
  } else {
    cache = "/tmp";
  }
  // One spool per store: s3://bucket/a/b -> <cache>/otelrr/spool/bucket_a_b.
  std::string name = Resolved().substr(5);
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return fmt::format("{}/otelrr/spool/{}", cache, name);
}

absl::StatusOr<std::unique_ptr<store::ObjectStore>> StoreFlag::Open(Access access, std::string_view recover_as) const {
  const std::string where = Resolved();
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> opened = store::OpenStore(where, access != Access::kRead);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<store::ObjectStore> store = std::move(*opened);
  if (access == Access::kCapture && where.starts_with("s3://")) {
    absl::StatusOr<std::unique_ptr<store::LocalStore>> local = store::LocalStore::Open({.root = SpoolDir()});
    if (!local.ok()) return Prefixed(local.status(), "--spool");
    auto spooled = std::make_unique<store::SpoolStore>(std::move(store), std::move(*local));
    if (!recover_as.empty()) {
      absl::StatusOr<std::vector<std::string>> uploaded = session::UploadSpoolLeftovers(*spooled);
      if (!uploaded.ok()) return uploaded.status();
      for (const std::string& line : *uploaded) Report(recover_as, line);
    }
    store = std::move(spooled);
  }
  if (recover_as.empty()) return store;
  absl::StatusOr<session::RecoveryReport> recovered = session::RecoverInterruptedSessions(*store);
  if (!recovered.ok()) return recovered.status();
  for (const session::SessionRecovery& r : recovered->sessions) {
    if (r.outcome == session::RecoveryOutcome::kRecovered || r.outcome == session::RecoveryOutcome::kFailed ||
        !r.instance.empty()) {
      Report(recover_as, session::DescribeRecovery(r));
    }
  }
  return store;
}

}  // namespace otelrr::cli
