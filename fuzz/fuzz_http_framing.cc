// Fuzzes the OTLP/HTTP receivers' HTTP framing: the bytes of one connection, cut into requests exactly as the
// servers do (net::FrameHttpRequests: Boost.Beast's parser with the servers' limits, then the request handed to
// the handler), and each request through the OTLP/HTTP receiver (path, method, Content-Type, Content-Encoding,
// gzip bounded while inflating) into an export handler. Small limits, so that the size refusals are reached.
//
// Oracles: a stream that cannot be framed is refused with 400, 413 or 431 and a message; every request gets
// exactly one answer, with a status the receiver documents (200, 400, 404, 405, 413, 415); what reaches the
// handler is within the request limit and came from the path of its signal.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/oracle.h"
#include "net/export_handler.h"
#include "net/http_server.h"
#include "net/otlp_http_receiver.h"

namespace {

constexpr std::string_view kName = "fuzz_http_framing";
constexpr size_t kMaxRequestBytes = 64 << 10;

class CheckingHandler : public otelrr::net::ExportHandler {
 public:
  void Export(otelrr::net::ExportRequest request, otelrr::net::ExportDone done) override {
    if (request.body.size() > kMaxRequestBytes) otelrr::fuzz::OracleFailed(kName, "a body over the limit reached the handler");
    if (request.signal != expected_) otelrr::fuzz::OracleFailed(kName, "a request reached the handler as another signal");
    done({});
  }
  otelrr::otlp::Signal expected_ = otelrr::otlp::Signal::kTraces;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace otelrr;
  CheckingHandler handler;
  net::OtlpHttpReceiver receiver(handler, {.max_request_bytes = kMaxRequestBytes});
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::optional<net::HttpFramingRefusal> refused = net::FrameHttpRequests(
      bytes, {.max_body_bytes = kMaxRequestBytes, .max_header_bytes = 4096}, [&](net::HttpRequest request) {
        handler.expected_ = request.path == "/v1/metrics" ? otlp::Signal::kMetrics
                            : request.path == "/v1/logs"  ? otlp::Signal::kLogs
                                                          : otlp::Signal::kTraces;
        int answers = 0;
        int status = 0;
        receiver.Handle(std::move(request), [&](net::HttpResponse response) {
          ++answers;
          status = response.status;
        });
        if (answers != 1) fuzz::OracleFailed(kName, "a request was not answered exactly once");
        if (status != 200 && status != 400 && status != 404 && status != 405 && status != 413 && status != 415) {
          fuzz::OracleFailed(kName, "an answer with a status the receiver does not document");
        }
      });
  if (refused) {
    if (refused->status != 400 && refused->status != 413 && refused->status != 431) {
      fuzz::OracleFailed(kName, "a framing refusal that is not 400, 413 or 431");
    }
    if (refused->message.empty()) fuzz::OracleFailed(kName, "a framing refusal without a message");
  }
  return 0;
}
