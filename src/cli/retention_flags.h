// What `otelrr sessions prune` and `otelrr serve --retention-interval` share: the retention policy's
// flags (session/retention.h), and the archive store they name.
#ifndef OTELRR_CLI_RETENTION_FLAGS_H_
#define OTELRR_CLI_RETENTION_FLAGS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "session/retention.h"
#include "store/object_store.h"

namespace otelrr::cli {

struct RetentionFlags {
  std::string older_than;      // --older-than 30d
  std::string keep_last;       // --keep-last N (parsed here: one message for every mistake)
  std::string max_total_size;  // --max-total-size 50GB
  std::string type;            // --type seed|capture|training
  bool dry_run = false;        // --dry-run
  std::string archive_to;      // --archive-to URI

  bool any() const {
    return !older_than.empty() || !keep_last.empty() || !max_total_size.empty() || !type.empty() || dry_run ||
           !archive_to.empty();
  }
};

// --retention-days N of seed, capture and sessions import: set only when given, 1 to 36500.
void AddRetentionDaysFlag(CLI::App* cmd, std::optional<int64_t>* days);

// `when` starts each flag's help ("with --retention-interval: "), or is empty.
void AddRetentionFlags(CLI::App* cmd, RetentionFlags* flags, std::string_view when = "");

// The policy the flags describe; errors name the flag and say what it takes.
absl::StatusOr<session::RetentionPolicy> RetentionPolicyOf(const RetentionFlags& flags);

// The store of --archive-to, unless it is `store` itself (then InvalidArgument). With a dry run a store
// that does not exist yet is not created (nullptr: a dry run does not need it).
absl::StatusOr<std::unique_ptr<store::ObjectStore>> OpenArchive(const RetentionFlags& flags, const StoreFlag& store);

// The precedence of the rules, for --help.
inline constexpr std::string_view kRetentionRules =
    R"(The rules, for the sessions of --type (of every type without it):
  - a session being written (its lock is held) or still active is never removed: skipped;
  - a session whose expiresAt has passed is removed (expiresAt: --retention-days of seed, capture and
    import, or 'otelrr sessions keep');
  - a session whose expiresAt is in the future, or never, is kept: neither --older-than, --keep-last nor
    --max-total-size removes it (only 'otelrr sessions delete' does);
  - --older-than and --keep-last say what to keep: the sessions that started within that time (a seed's
    start is its --start-time), and the N newest finished ones; when either is given, the others go;
  - --max-total-size: then, while the sessions left hold more than that (their totalSizeBytes), the
    oldest go, except those kept by their expiresAt or by --keep-last.
Durations: a whole number and s, m, h or d (30d, 12h, 90m). Sizes: a whole number and B, KB, MB, GB, TB
(decimal: powers of 1000) or KiB, MiB, GiB, TiB (binary: powers of 1024), such as 50GB or 500MiB.
--archive-to moves instead of deleting: each session is copied into that store (every file checked
against its checksum as read and as stored), then deleted here. Its metadata.json goes as it was,
expiresAt included.)";

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_RETENTION_FLAGS_H_
