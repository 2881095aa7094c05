#include "net/otlp_http_receiver.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cctype>

#include "common/status.h"

namespace otelrr::net {
namespace {


std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The media type without parameters, lower case, trimmed: "application/json; charset=utf-8" -> "application/json".
std::string MediaType(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return Lower(t);
}

constexpr std::string_view kProtobuf = "application/x-protobuf";
constexpr std::string_view kJson = "application/json";

// An error answer: a google.rpc.Status in the request's encoding.
HttpResponse ErrorResponse(int http_status, absl::StatusCode code, std::string_view message, bool json,
                           std::chrono::milliseconds retry_after = std::chrono::milliseconds(0)) {
  HttpResponse r;
  r.status = http_status;
  if (json) {
    r.content_type = std::string(kJson);
    r.body = EncodeRpcStatusJson(static_cast<int>(code), message);
  } else {
    r.content_type = std::string(kProtobuf);
    r.body = EncodeRpcStatus(static_cast<int>(code), message, retry_after);
  }
  if (retry_after.count() > 0) {
    r.headers.emplace_back("Retry-After", std::to_string((retry_after.count() + 999) / 1000));
  }
  return r;
}

}  // namespace

absl::Status GunzipBounded(std::string_view in, size_t limit, std::string* out) {
  out->clear();
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return absl::InternalError("zlib inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
  size_t remaining_in = in.size() - z.avail_in;
  absl::Status status;
  // Start from a guess (OTLP protobuf compresses ~4-8x) and grow, never beyond limit + 1.
  size_t capacity = std::min(limit + 1, std::max<size_t>(in.size() * 4, 64 << 10));
  out->resize(capacity);
  size_t produced = 0;
  while (true) {
    if (produced == out->size()) {
      if (out->size() > limit) {
        status = absl::ResourceExhaustedError(
            fmt::format("the decompressed body exceeds the limit of {} bytes", limit));
        break;
      }
      out->resize(std::min(limit + 1, out->size() * 2));
    }
    z.next_out = reinterpret_cast<Bytef*>(out->data() + produced);
    z.avail_out = static_cast<uInt>(std::min<size_t>(out->size() - produced, UINT32_MAX));
    uInt before = z.avail_out;
    int rc = inflate(&z, Z_NO_FLUSH);
    produced += before - z.avail_out;
    if (produced > limit) {
      status = absl::ResourceExhaustedError(fmt::format("the decompressed body exceeds the limit of {} bytes", limit));
      break;
    }
    if (z.avail_in == 0 && remaining_in > 0) {
      z.avail_in = static_cast<uInt>(std::min<size_t>(remaining_in, UINT32_MAX));
      remaining_in -= z.avail_in;
    }
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0 && remaining_in == 0) break;  // the last member ended with the body
      // Another member follows (concatenated gzip, RFC 1952).
      if (inflateReset(&z) != Z_OK) {
        status = absl::InternalError("zlib inflateReset failed");
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && remaining_in == 0) {
      status = absl::InvalidArgumentError("the gzip body is truncated");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      status = absl::InvalidArgumentError(
          fmt::format("the body is not valid gzip: {}", z.msg != nullptr ? z.msg : "corrupt data"));
      break;
    }
  }
  inflateEnd(&z);
  if (status.ok()) {
    out->resize(produced);
  } else {
    out->clear();
  }
  return status;
}

void OtlpHttpReceiver::Handle(HttpRequest request, HttpResponder respond) {
  requests_.fetch_add(1);
  otlp::Signal signal;
  if (request.path == "/v1/traces") {
    signal = otlp::Signal::kTraces;
  } else if (request.path == "/v1/metrics") {
    signal = otlp::Signal::kMetrics;
  } else if (request.path == "/v1/logs") {
    signal = otlp::Signal::kLogs;
  } else {
    rejected_.fetch_add(1);
    respond({.status = 404,
             .content_type = "text/plain; charset=utf-8",
             .body = fmt::format("no such path {}: OTLP/HTTP serves POST /v1/traces, /v1/metrics and /v1/logs\n",
                                 request.path)});
    return;
  }
  if (request.method != "POST") {
    rejected_.fetch_add(1);
    respond({.status = 405,
             .content_type = "text/plain; charset=utf-8",
             .body = fmt::format("method {} is not allowed on {}: use POST\n", request.method, request.path),
             .headers = {{"Allow", "POST"}}});
    return;
  }
  std::string media = MediaType(request.Header("content-type"));
  bool json = media == kJson;
  if (media != kProtobuf && !json) {
    rejected_.fetch_add(1);
    respond({.status = 415,
             .content_type = "text/plain; charset=utf-8",
             .body = fmt::format("unsupported Content-Type '{}': use application/x-protobuf or application/json\n",
                                 request.Header("content-type"))});
    return;
  }
  std::string encoding = Lower(request.Header("content-encoding"));
  std::string body;
  if (encoding == "gzip" || encoding == "x-gzip") {
    absl::Status s = GunzipBounded(request.body, options_.max_request_bytes, &body);
    if (!s.ok()) {
      rejected_.fetch_add(1);
      bool too_big = s.code() == absl::StatusCode::kResourceExhausted;
      respond(ErrorResponse(too_big ? 413 : 400, too_big ? absl::StatusCode::kResourceExhausted
                                                           : absl::StatusCode::kInvalidArgument,
                            std::string(s.message()), json));
      return;
    }
  } else if (encoding.empty() || encoding == "identity") {
    if (request.body.size() > options_.max_request_bytes) {
      rejected_.fetch_add(1);
      respond(ErrorResponse(413, absl::StatusCode::kResourceExhausted,
                            fmt::format("the body exceeds the limit of {} bytes", options_.max_request_bytes), json));
      return;
    }
    body = std::move(request.body);
  } else {
    rejected_.fetch_add(1);
    respond({.status = 415,
             .content_type = "text/plain; charset=utf-8",
             .body = fmt::format("unsupported Content-Encoding '{}': use gzip or identity\n",
                                 request.Header("content-encoding"))});
    return;
  }
  ExportRequest export_request{.signal = signal,
                               .transport = otlp::Transport::kHttp,
                               .encoding = json ? otlp::Encoding::kJson : otlp::Encoding::kProtobuf,
                               .body = std::move(body),
                               .arrival_unix_nano = clock_.WallNowUnixNano(),
                               .peer = std::move(request.peer)};
  handler_.Export(std::move(export_request), [signal, json, respond = std::move(respond)](ExportResult result) {
    if (result.status.ok()) {
      HttpResponse r;
      r.status = 200;
      r.content_type = std::string(json ? kJson : kProtobuf);
      r.body = json ? EncodeExportResponseJson(signal, result.partial_success)
                    : EncodeExportResponse(signal, result.partial_success);
      respond(std::move(r));
      return;
    }
    respond(ErrorResponse(HttpStatusOf(result.status.code()), result.status.code(), std::string(result.status.message()), json,
                          result.retry_after));
  });
}

}  // namespace otelrr::net
