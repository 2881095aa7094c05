#include "cli/otlp_target.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "common/status.h"
#include "fmt/format.h"

namespace otelrr::cli {
namespace {

// "%2C" and friends in OTEL_EXPORTER_OTLP_HEADERS values (W3C Baggage-style percent-encoding).
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// "k=v" -> {k, v}; InvalidArgument naming `what` otherwise.
absl::Status ParseHeader(std::string_view kv, std::string_view what,
                         std::vector<std::pair<std::string, std::string>>* out) {
  size_t eq = kv.find('=');
  if (eq == std::string_view::npos || Trim(kv.substr(0, eq)).empty()) {
    return absl::InvalidArgumentError(fmt::format("{} '{}' is not NAME=VALUE", what, kv));
  }
  out->emplace_back(Trim(kv.substr(0, eq)), PercentDecode(Trim(kv.substr(eq + 1))));
  return absl::OkStatus();
}

}  // namespace

std::string ResolveEndpoint(const std::string& flag) {
  if (!flag.empty()) return flag;
  for (const char* name : {"REPLAY_DEFAULT_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"}) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return v;
  }
  return "http://localhost:4318";
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> CollectHeaders(const std::vector<std::string>& flags) {
  std::vector<std::pair<std::string, std::string>> out;
  if (const char* env = std::getenv("OTEL_EXPORTER_OTLP_HEADERS"); env != nullptr && *env != '\0') {
    std::string_view all(env);
    while (!all.empty()) {
      size_t comma = all.find(',');
      std::string_view kv = all.substr(0, comma);
      if (!Trim(kv).empty()) {
        if (absl::Status s = ParseHeader(kv, "OTEL_EXPORTER_OTLP_HEADERS entry", &out); !s.ok()) return s;
      }
      if (comma == std::string_view::npos) break;
      all.remove_prefix(comma + 1);
    }
  }
  for (const std::string& h : flags) {
    if (absl::Status s = ParseHeader(h, "--header", &out); !s.ok()) return s;
  }
  return out;
}

void AddTlsFlags(CLI::App* cmd, net::TlsFiles* flags) {
  cmd->add_option("--certificate", flags->ca_file,
                  "https / gRPC over TLS: trust the CA certificates of this PEM file instead of the system's "
                  "(default: $OTEL_EXPORTER_OTLP_CERTIFICATE)");
  cmd->add_option("--client-certificate", flags->client_cert_file,
                  "mutual TLS: the client certificate, PEM (default: $OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)");
  cmd->add_option("--client-key", flags->client_key_file,
                  "mutual TLS: the client certificate's private key, PEM (default: $OTEL_EXPORTER_OTLP_CLIENT_KEY)");
}

void AddTargetFlags(CLI::App* cmd, OtlpTargetFlags* f, std::string_view prefix) {
  auto help = [prefix](std::string_view text) { return fmt::format("{}{}", prefix, text); };
  cmd->add_option("--endpoint", f->endpoint,
                  help("the target (default: $REPLAY_DEFAULT_ENDPOINT, $OTEL_EXPORTER_OTLP_ENDPOINT or "
                       "http://localhost:4318)"));
  cmd->add_option("--protocol", f->protocol, help("http/protobuf|http/json|grpc (default: http/protobuf)"))
      ->check(CLI::IsMember({"http/protobuf", "http/json", "grpc"}));
  cmd->add_option(f->compression_flag, f->compression, help("what requests are sent with: gzip|none (default: none)"))
      ->check(CLI::IsMember({"gzip", "none"}));
  cmd->add_option("--header", f->headers,
                  help("extra request header NAME=VALUE (repeatable; also $OTEL_EXPORTER_OTLP_HEADERS)"));
  cmd->add_option("--max-retry-seconds", f->max_retry_seconds,
                  help("retry a refused request (429, 502-504, UNAVAILABLE...) for at most this long (default: 60)"));
  cmd->add_option("--timeout", f->timeout_seconds,
                  help("seconds an attempt may take before it is abandoned and retried, e.g. against a target that "
                       "accepts and never answers (default: $OTEL_EXPORTER_OTLP_TIMEOUT in milliseconds, or 10)"));
  AddTlsFlags(cmd, &f->tls);
}

absl::Status ApplyTargetFlags(const OtlpTargetFlags& f, replay::ReplayConfig* config) {
  config->endpoint = ResolveEndpoint(f.endpoint);
  absl::StatusOr<replay::Protocol> protocol = replay::ParseProtocol(f.protocol);
  if (!protocol.ok()) return Prefixed(protocol.status(), "--protocol");
  config->protocol = *protocol;
  if (f.compression != "gzip" && f.compression != "none") {
    return absl::InvalidArgumentError(fmt::format("{} '{}': use gzip or none", f.compression_flag, f.compression));
  }
  config->gzip = f.compression == "gzip";
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> headers = CollectHeaders(f.headers);
  if (!headers.ok()) return headers.status();
  config->headers = std::move(*headers);
  config->tls = net::TlsFilesFromEnvironment(f.tls);
  if (!(f.max_retry_seconds >= 0) || !std::isfinite(f.max_retry_seconds)) {
    return absl::InvalidArgumentError(fmt::format("--max-retry-seconds {} must be 0 or more", f.max_retry_seconds));
  }
  config->max_retry_elapsed = std::chrono::milliseconds(static_cast<int64_t>(f.max_retry_seconds * 1000));
  double timeout = 10;
  if (f.timeout_seconds) {
    timeout = *f.timeout_seconds;
    if (!(timeout > 0) || !std::isfinite(timeout) || timeout > 86400) {
      return absl::InvalidArgumentError(fmt::format("--timeout {} must be more than 0 and at most 86400 seconds", timeout));
    }
  } else if (const char* env = std::getenv("OTEL_EXPORTER_OTLP_TIMEOUT"); env != nullptr && *env != '\0') {
    // The OpenTelemetry exporter convention: an integer of milliseconds.
    uint64_t ms = 0;
    std::string_view text(env);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size() || ms == 0 || ms > 86'400'000) {
      return absl::InvalidArgumentError(fmt::format(
          "OTEL_EXPORTER_OTLP_TIMEOUT='{}' is not a timeout: give whole milliseconds, 1 to 86400000", text));
    }
    timeout = static_cast<double>(ms) / 1000;
  }
  config->timeout = std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(timeout * 1000)));
  return absl::OkStatus();
}

void AddSignalFlags(CLI::App* cmd, bool* traces, bool* metrics, bool* logs, std::string_view verb) {
  for (auto [name, value] : {std::pair{"traces", traces}, std::pair{"metrics", metrics}, std::pair{"logs", logs}}) {
    bool* v = value;
    cmd->add_flag_callback(fmt::format("--{}", name), [v] { *v = true; }, fmt::format("{} {} (the default)", verb, name));
    cmd->add_flag_callback(fmt::format("--no-{}", name), [v] { *v = false; }, fmt::format("do not {} {}", verb, name));
  }
}

void AddStoreOption(CLI::App* cmd, StoreFlag* store) {
  cmd->add_option("--store", store->uri,
                  "session store: a directory, file:// URI or s3://BUCKET[/PREFIX] (default: $OTELRR_STORE, else "
                  "s3://$S3_BUCKET or s3://$MINIO_BUCKET when set, else ./data; S3 endpoint and keys from "
                  "S3_*, MINIO_* or AWS_* variables, docs/STORAGE.md)");
}

absl::StatusOr<std::unique_ptr<net::OtlpExporter>> OpenForward(const std::string& url) {
  if (url.empty()) return std::unique_ptr<net::OtlpExporter>();
  absl::StatusOr<std::unique_ptr<net::OtlpExporter>> e = net::CreateOtlpExporter(url, {.tls = net::TlsFilesFromEnvironment()});
  if (!e.ok()) return absl::InvalidArgumentError(fmt::format("--forward: {}", e.status().message()));
  return e;
}

}  // namespace otelrr::cli
