// Where the commands that send OTLP send it, and the forward (tee) of those that receive it: one
// resolution of endpoint, headers and exporter for replay, seed --live, capture and serve.
#ifndef OTELRR_CLI_OTLP_TARGET_H_
#define OTELRR_CLI_OTLP_TARGET_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "net/otlp_exporter.h"
#include "replay/replay.h"

namespace otelrr::cli {

// --endpoint when given, else $REPLAY_DEFAULT_ENDPOINT, else $OTEL_EXPORTER_OTLP_ENDPOINT, else
// http://localhost:4318.
std::string ResolveEndpoint(const std::string& flag);

// $OTEL_EXPORTER_OTLP_HEADERS ("k1=v1,k2=v2", values percent-decoded) followed by the --header NAME=VALUE
// flags. InvalidArgument naming the entry that is not NAME=VALUE.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> CollectHeaders(const std::vector<std::string>& flags);

// TLS for https:// (and gRPC over TLS): --certificate, --client-certificate and --client-key; resolve
// them with net::TlsFilesFromEnvironment, which fills what is not given from $OTEL_EXPORTER_OTLP_*.
void AddTlsFlags(CLI::App* cmd, net::TlsFiles* flags);

// The flags of the commands that send to an OTLP endpoint (replay, seed --live).
struct OtlpTargetFlags {
  std::string endpoint;
  std::string protocol = "http/protobuf";
  std::string compression = "none";
  // The flag's name: seed's --compression is the session's (compression_flags.h), its wire one --live-compression.
  std::string compression_flag = "--compression";
  std::vector<std::string> headers;
  net::TlsFiles tls;
  double max_retry_seconds = 60;
  std::optional<double> timeout_seconds;  // --timeout; unset: $OTEL_EXPORTER_OTLP_TIMEOUT (ms) or 10 s
};
// --endpoint, --protocol, --compression (named flags->compression_flag), --header, --max-retry-seconds, --timeout and the TLS
// flags; `prefix` starts each help text (e.g. "with --live: ").
void AddTargetFlags(CLI::App* cmd, OtlpTargetFlags* flags, std::string_view prefix = "");
// Resolves them into `config` (endpoint, protocol, gzip, headers, tls, max_retry_elapsed, timeout). InvalidArgument
// naming the flag.
absl::Status ApplyTargetFlags(const OtlpTargetFlags& flags, replay::ReplayConfig* config);

// --traces / --no-traces and the same for metrics and logs (`verb`: "replay", "record"...).
void AddSignalFlags(CLI::App* cmd, bool* traces, bool* metrics, bool* logs, std::string_view verb);

// --store PATH|URI.
void AddStoreOption(CLI::App* cmd, StoreFlag* store);

// The exporter of --forward URL (TLS files from the environment), or null when the flag is empty.
// Errors name the flag.
absl::StatusOr<std::unique_ptr<net::OtlpExporter>> OpenForward(const std::string& url);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_OTLP_TARGET_H_
