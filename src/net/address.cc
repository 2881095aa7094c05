#include "net/address.h"

#include <fmt/format.h>

#include <charconv>

#include "common/status.h"

namespace otelrr::net {
namespace {

// Splits "host:port" / "[v6]:port" / "host" (port empty, has_port false). `what` names the input in errors.
absl::Status Split(std::string_view address, std::string_view what, std::string_view* host, std::string_view* port,
                   bool* has_port) {
  *has_port = false;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(fmt::format("{}: the IPv6 host has no closing bracket", what));
    }
    *host = address.substr(1, close - 1);
    std::string_view rest = address.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return absl::InvalidArgumentError(fmt::format("{}: expected :port after ]", what));
      *port = rest.substr(1);
      *has_port = true;
    }
  } else {
    size_t colon = address.find(':');
    if (colon != std::string_view::npos && address.find(':', colon + 1) != std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("{}: write an IPv6 host in brackets, e.g. [::1]:4317", what));
    }
    *host = address.substr(0, colon);
    if (colon != std::string_view::npos) {
      *port = address.substr(colon + 1);
      *has_port = true;
    }
  }
  if (host->empty()) return absl::InvalidArgumentError(fmt::format("{} has no host", what));
  return absl::OkStatus();
}

absl::StatusOr<uint16_t> Port(std::string_view port, std::string_view what, unsigned min) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec == std::errc::invalid_argument || end != port.data() + port.size()) {
    return absl::InvalidArgumentError(fmt::format("{}: port '{}' is not a number", what, port));
  }
  if (ec == std::errc::result_out_of_range || value > 65535 || value < min) {
    return absl::InvalidArgumentError(fmt::format("{}: port {} is out of range ({}-65535)", what, port, min));
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(std::string_view address) {
  const std::string what = fmt::format("address '{}'", address);
  std::string_view host, port;
  bool has_port;
  if (absl::Status s = Split(address, what, &host, &port, &has_port); !s.ok()) return s;
  if (!has_port) return absl::InvalidArgumentError(fmt::format("{} is not host:port (e.g. 127.0.0.1:4318)", what));
  absl::StatusOr<uint16_t> p = Port(port, what, 0);
  if (!p.ok()) return p.status();
  return HostPort{.host = std::string(host), .port = *p};
}

absl::StatusOr<OtlpUrl> ParseOtlpUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return absl::InvalidArgumentError(
        fmt::format("'{}' is not a URL: use http://host:port (OTLP/HTTP) or grpc://host:port (OTLP/gRPC)", url));
  }
  OtlpUrl out;
  out.scheme = std::string(url.substr(0, scheme_end));
  if (out.scheme != "http" && out.scheme != "https" && out.scheme != "grpc" && out.scheme != "grpcs") {
    return absl::InvalidArgumentError(fmt::format(
        "'{}': scheme {} is not supported: use http://, https://, grpc:// or grpcs://", url, out.scheme));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (out.path == "/" || (!out.path.empty() && out.path.back() == '/')) out.path.pop_back();
  if (!out.path.empty() && (out.scheme == "grpc" || out.scheme == "grpcs")) {
    return absl::InvalidArgumentError(fmt::format("'{}': a {}:// URL has no path", url, out.scheme));
  }
  const std::string what = fmt::format("'{}'", url);
  std::string_view host, port;
  bool has_port;
  if (absl::Status s = Split(authority, what, &host, &port, &has_port); !s.ok()) {
    return absl::InvalidArgumentError(fmt::format("{} (e.g. http://127.0.0.1:4318)", s.message()));
  }
  out.address.host = std::string(host);
  if (has_port) {
    absl::StatusOr<uint16_t> p = Port(port, what, 1);
    if (!p.ok()) return p.status();
    out.address.port = *p;
  } else if (out.scheme == "grpc") {
    return absl::InvalidArgumentError(fmt::format("{} has no port: use e.g. grpc://127.0.0.1:4317", what));
  } else {
    out.address.port = out.scheme == "http" ? 80 : 443;
  }
  out.authority = std::string(authority);
  if (!has_port) out.authority += fmt::format(":{}", out.address.port);
  return out;
}

}  // namespace otelrr::net
