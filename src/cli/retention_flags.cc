#include "cli/retention_flags.h"

#include <charconv>

#include "common/status.h"
#include "fmt/format.h"

namespace otelrr::cli {

void AddRetentionDaysFlag(CLI::App* cmd, std::optional<int64_t>* days) {
  cmd->add_option_function<int64_t>(
         "--retention-days", [days](const int64_t& n) { *days = n; },
         "the session expires this many days after it is made: 'otelrr sessions prune' (or serve's retention) "
         "then removes it (default: no expiry of its own, the store's policy decides; see 'otelrr sessions keep')")
      ->check(CLI::Range(int64_t{1}, session::kMaxRetentionDays));
}

void AddRetentionFlags(CLI::App* cmd, RetentionFlags* f, std::string_view when) {
  const std::string w(when);
  cmd->add_option("--older-than", f->older_than,
                  w + "remove the sessions that started longer ago than this (30d, 12h)");
  cmd->add_option("--keep-last", f->keep_last, w + "keep the N newest finished sessions, remove the others");
  cmd->add_option("--max-total-size", f->max_total_size,
                  w + "remove the oldest sessions until the rest hold at most this (50GB, 500MiB)");
  cmd->add_option("--type", f->type, w + "only sessions of this type")
      ->check(CLI::IsMember({"seed", "capture", "training"}));
  cmd->add_flag("--dry-run", f->dry_run, w + "say what would be removed, remove nothing");
  cmd->add_option("--archive-to", f->archive_to,
                  w + "move the sessions into this store (a directory, file:// or s3://BUCKET[/PREFIX]) instead of "
                      "deleting them");
}

absl::StatusOr<session::RetentionPolicy> RetentionPolicyOf(const RetentionFlags& f) {
  session::RetentionPolicy policy{.dry_run = f.dry_run, .archive_to = f.archive_to};
  if (!f.older_than.empty()) {
    absl::StatusOr<std::chrono::nanoseconds> d = session::ParseDuration(f.older_than);
    if (!d.ok()) return Prefixed(d.status(), "--older-than");
    if (d->count() == 0) {
      return absl::InvalidArgumentError("--older-than 0 would remove every session: give a positive age");
    }
    policy.older_than = *d;
  }
  if (!f.keep_last.empty()) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(f.keep_last.data(), f.keep_last.data() + f.keep_last.size(), n);
    if (ec != std::errc() || end != f.keep_last.data() + f.keep_last.size() || n == 0) {
      return absl::InvalidArgumentError(fmt::format(
          "--keep-last '{}' is not allowed: give how many of the newest sessions to keep, at least 1", f.keep_last));
    }
    policy.keep_last = n;
  }
  if (!f.max_total_size.empty()) {
    absl::StatusOr<uint64_t> b = session::ParseByteSize(f.max_total_size);
    if (!b.ok()) return Prefixed(b.status(), "--max-total-size");
    if (*b == 0) {
      return absl::InvalidArgumentError("--max-total-size 0 would remove every session: give a positive size");
    }
    policy.max_total_bytes = *b;
  }
  if (!f.type.empty()) {
    session::SessionType type;
    if (!session::ParseSessionType(f.type, &type)) {
      return absl::InvalidArgumentError("--type must be seed, capture or training");
    }
    policy.session_type = type;
  }
  return policy;
}

absl::StatusOr<std::unique_ptr<store::ObjectStore>> OpenArchive(const RetentionFlags& f, const StoreFlag& store) {
  StoreFlag archive{.uri = f.archive_to, .spool = ""};
  if (archive.Resolved() == store.Resolved()) {
    return absl::InvalidArgumentError("--archive-to is the store itself: archive into another store");
  }
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> opened =
      archive.Open(f.dry_run ? StoreFlag::Access::kRead : StoreFlag::Access::kWrite);
  if (f.dry_run && opened.status().code() == absl::StatusCode::kNotFound) return nullptr;
  if (!opened.ok()) return Prefixed(opened.status(), "--archive-to");
  return opened;
}

}  // namespace otelrr::cli
