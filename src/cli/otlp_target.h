// Where the commands that send OTLP send it, and the forward (tee) of those that receive it: one
// resolution of endpoint, headers and exporter for replay, seed --live, capture and serve.
#ifndef OTELRR_CLI_OTLP_TARGET_H_
#define OTELRR_CLI_OTLP_TARGET_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "net/otlp_exporter.h"

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

// The exporter of --forward URL (TLS files from the environment), or null when the flag is empty.
// Errors name the flag.
absl::StatusOr<std::unique_ptr<net::OtlpExporter>> OpenForward(const std::string& url);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_OTLP_TARGET_H_
