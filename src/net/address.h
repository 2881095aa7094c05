// Network addresses as users write them: "host:port" for listening, and the URLs of OTLP endpoints.
//
//   absl::StatusOr<HostPort> a = ParseHostPort("[::1]:4317");          // {"::1", 4317}
//   absl::StatusOr<OtlpUrl> u = ParseOtlpUrl("https://collector/otlp"); // https, collector:443, "/otlp"
//
// One set of rules everywhere (receivers, the control API, exporters): an IPv6 host is written in
// brackets, a port is a decimal number in range, and errors name the address and what to write instead.
#ifndef OTELRR_NET_ADDRESS_H_
#define OTELRR_NET_ADDRESS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace otelrr::net {

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
};

// "host:port" or "[v6]:port"; port 0 to 65535 (0: any free port, for listening). InvalidArgument with
// the reason.
absl::StatusOr<HostPort> ParseHostPort(std::string_view address);

struct OtlpUrl {
  std::string scheme;     // http, https, grpc or grpcs
  HostPort address;       // the port defaults to 80 for http, 443 for https and grpcs
  std::string authority;  // host:port as given in the URL (IPv6 in brackets)
  std::string path;       // "" or "/prefix" (never for grpc / grpcs)
};

// scheme://host[:port][/path] with scheme http, https, grpc (which needs a port) or grpcs; port 1 to
// 65535. InvalidArgument naming the URL and what is wrong.
absl::StatusOr<OtlpUrl> ParseOtlpUrl(std::string_view url);

}  // namespace otelrr::net

#endif  // OTELRR_NET_ADDRESS_H_
