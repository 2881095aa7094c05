#include "net/otlp_exporter.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"
#include "net/address.h"
#include "net/grpc_client.h"
#include "otlp/field_reader.h"
#include "otlp/json.h"
#include "common/gzip.h"

namespace otelrr::net {
namespace {

using otlp::FieldReader;
using otlp::RawField;
using otlp::WireType;

std::string_view PathOf(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return "/v1/traces";
    case otlp::Signal::kMetrics:
      return "/v1/metrics";
    case otlp::Signal::kLogs:
      return "/v1/logs";
  }
  return "/v1/traces";
}

// The message of a google.rpc.Status (protobuf), or "" when it is not one.
std::string RpcStatusMessage(std::string_view body) {
  FieldReader fields(body);
  RawField f;
  std::string message;
  while (fields.Next(&f)) {
    if (f.Is(2, WireType::kLen)) message = std::string(f.value);
  }
  return fields.malformed() ? "" : message;
}

// Retry-After: delay-seconds (an HTTP date is not worth parsing here: 1 s then).
std::chrono::milliseconds RetryAfter(std::string_view header) {
  if (header.empty()) return std::chrono::milliseconds(0);
  unsigned seconds = 0;
  auto [ptr, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (ec != std::errc()) return std::chrono::seconds(1);
  return std::chrono::seconds(seconds);
}

// The OTLP/HTTP answer of a downstream, in ExportResult terms (otlp_exporter.h).
ExportResult FromHttp(otlp::Signal signal, long status, std::string_view content_type, std::string_view body,
                      std::string_view retry_after, const std::string& url, otlp::JsonCodec& codec) {
  ExportResult r;
  r.http_status = static_cast<int>(status);
  if (status >= 200 && status < 300) {
    if (content_type.starts_with("application/x-protobuf")) {
      r.partial_success = DecodePartialSuccess(body);
    } else if (content_type.starts_with("application/json") && !body.empty()) {
      std::string proto;
      if (codec.JsonToProto(otlp::ResponseType(signal), body, &proto).ok()) {
        r.partial_success = DecodePartialSuccess(proto);
      }
    }
    return r;
  }
  std::string message = content_type.starts_with("application/x-protobuf") ? RpcStatusMessage(body) : std::string(body);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  if (message.size() > 512) message.resize(512);
  std::string text = fmt::format("{} answered HTTP {}{}{}", url, status, message.empty() ? "" : ": ", message);
  switch (status) {
    case 400:
      r.status = absl::InvalidArgumentError(text);
      break;
    case 413:
      r.status = absl::InvalidArgumentError(text);
      break;
    case 429:
      r.status = absl::ResourceExhaustedError(text);
      r.retry_after = RetryAfter(retry_after);
      break;
    case 502:
    case 503:
    case 504:
      r.status = absl::UnavailableError(text);
      r.retry_after = RetryAfter(retry_after);
      break;
    default:
      r.status = absl::InternalError(text);
  }
  return r;
}

// OTLP/HTTP with libcurl: a pool of threads, each with its own kept-alive connection.
class HttpOtlpExporter : public OtlpExporter {
 public:
  HttpOtlpExporter(std::string url, std::string base, OtlpExporterOptions options)
      : url_(std::move(url)),
        base_(std::move(base)),
        options_(options),
        sockets_(static_cast<size_t>(std::max(1, options_.http_connections))) {
    for (Socket& socket : sockets_) threads_.emplace_back([this, &socket] { Run(socket); });
  }

  ~HttpOtlpExporter() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  void Export(otlp::Signal signal, std::shared_ptr<const std::string> request, ExportDone done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!cancelled_.load()) {
        jobs_.push_back({signal, std::move(request), std::move(done)});
        cv_.notify_one();
        return;
      }
    }
    done({.status = CancelledError()});
  }

  const std::string& url() const override { return url_; }

  void Cancel() override {
    std::deque<Job> queued;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_.store(true);
      queued.swap(jobs_);
    }
    // Requests on the wire: their sockets are shut down, which ends a connection attempt or a transfer
    // at once (libcurl's progress callback alone would notice only within a second).
    for (Socket& socket : sockets_) {
      std::lock_guard<std::mutex> lock(socket.mu);
      if (socket.fd >= 0) ::shutdown(socket.fd, SHUT_RDWR);
    }
    for (Job& job : queued) job.done({.status = CancelledError()});
  }

 private:
  struct Job {
    otlp::Signal signal;
    std::shared_ptr<const std::string> body;
    ExportDone done;
  };
  // The socket a worker's connection uses, so that Cancel can shut it down. `mu` orders shutdown
  // against close, so an fd is never shut down after it was closed (and perhaps reused).
  struct Socket {
    std::mutex mu;
    int fd = -1;
  };

  absl::Status CancelledError() const { return absl::CancelledError(fmt::format("sending to {} was cancelled", url_)); }

  static curl_socket_t OpenSocket(void* user, curlsocktype, curl_sockaddr* address) {
    auto* socket = static_cast<Socket*>(user);
    curl_socket_t fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    std::lock_guard<std::mutex> lock(socket->mu);
    socket->fd = fd;
    return fd;
  }

  static int CloseSocket(void* user, curl_socket_t fd) {
    auto* socket = static_cast<Socket*>(user);
    std::lock_guard<std::mutex> lock(socket->mu);
    if (socket->fd == fd) socket->fd = -1;
    return ::close(fd);
  }

  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<HttpOtlpExporter*>(user)->cancelled_.load() ? 1 : 0;
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* user) {
    std::string_view line(data, size * n);
    constexpr std::string_view kName = "retry-after:";
    if (line.size() > kName.size()) {
      std::string lower(line.substr(0, kName.size()));
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == kName) {
        std::string_view v = line.substr(kName.size());
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
        *static_cast<std::string*>(user) = std::string(v);
      }
    }
    return size * n;
  }

  void Run(Socket& socket) {
    CURL* curl = curl_easy_init();
    if (curl != nullptr) {
      curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, &HttpOtlpExporter::OpenSocket);
      curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &socket);
      curl_easy_setopt(curl, CURLOPT_CLOSESOCKETFUNCTION, &HttpOtlpExporter::CloseSocket);
      curl_easy_setopt(curl, CURLOPT_CLOSESOCKETDATA, &socket);
      curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &HttpOtlpExporter::OnProgress);
      curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
    }
    curl_slist* headers = curl_slist_append(
        nullptr, options_.json ? "Content-Type: application/json" : "Content-Type: application/x-protobuf");
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    if (options_.gzip) headers = curl_slist_append(headers, "Content-Encoding: gzip");
    for (const auto& [name, value] : options_.headers) {
      headers = curl_slist_append(headers, fmt::format("{}: {}", name, value).c_str());
    }
    std::string response, retry_after, compressed, json;
    GzipCompressor gzip(1);
    otlp::JsonCodec codec;
    while (true) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) break;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      if (curl == nullptr) {
        job.done({.status = absl::InternalError("libcurl could not start")});
        continue;
      }
      if (cancelled_.load()) {
        job.done({.status = CancelledError()});
        continue;
      }
      std::string endpoint = base_ + std::string(PathOf(job.signal));
      response.clear();
      retry_after.clear();
      curl_easy_setopt(curl, CURLOPT_URL, endpoint.c_str());
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
      std::string_view body = *job.body;
      if (options_.json) {
        json.clear();
        if (absl::Status s = codec.ProtoToJson(job.signal, *job.body, &json); !s.ok()) {
          job.done({.status = absl::InvalidArgumentError(fmt::format("encoding OTLP/JSON for {}: {}", endpoint, s.message()))});
          continue;
        }
        body = json;
      }
      if (options_.gzip) {
        std::string_view plain = body;
        compressed.clear();
        if (absl::Status s = gzip.CompressMember(plain, &compressed); !s.ok()) {
          job.done({.status = absl::InternalError(fmt::format("compressing for {}: {}", endpoint, s.message()))});
          continue;
        }
        body = compressed;
      }
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &HttpOtlpExporter::OnBody);
      curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
      curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &HttpOtlpExporter::OnHeader);
      curl_easy_setopt(curl, CURLOPT_HEADERDATA, &retry_after);
      curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
      curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
      if (!options_.tls.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.tls.ca_file.c_str());
      if (!options_.tls.client_cert_file.empty()) {
        curl_easy_setopt(curl, CURLOPT_SSLCERT, options_.tls.client_cert_file.c_str());
        curl_easy_setopt(curl, CURLOPT_SSLKEY, options_.tls.client_key_file.c_str());
      }
      CURLcode rc = curl_easy_perform(curl);
      if (cancelled_.load() && rc != CURLE_OK) {
        job.done({.status = CancelledError()});
        continue;
      }
      if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM) {
        // Not transient: retrying cannot make a certificate trusted.
        job.done({.status = absl::FailedPreconditionError(fmt::format(
                      "sending to {} failed: {} (TLS: trust the server's CA by giving its certificate file, as "
                      "OTEL_EXPORTER_OTLP_CERTIFICATE does; a server that wants a client certificate needs the "
                      "client certificate and key files)",
                      endpoint, curl_easy_strerror(rc)))});
        continue;
      }
      if (rc != CURLE_OK) {
        job.done({.status = absl::UnavailableError(
                      fmt::format("sending to {} failed: {}", endpoint, curl_easy_strerror(rc)))});
        continue;
      }
      long status = 0;
      char* content_type = nullptr;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &content_type);
      job.done(FromHttp(job.signal, status, content_type != nullptr ? content_type : "", response, retry_after,
                        endpoint, codec));
    }
    curl_slist_free_all(headers);
    if (curl != nullptr) curl_easy_cleanup(curl);
  }

  const std::string url_;
  const std::string base_;  // "http://host:port/prefix" without a trailing slash
  const OtlpExporterOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::atomic<bool> cancelled_{false};
  std::vector<Socket> sockets_;       // one per worker
  std::vector<std::thread> threads_;  // last
};

class GrpcOtlpExporter : public OtlpExporter {
 public:
  GrpcOtlpExporter(std::string url, std::unique_ptr<GrpcExporter> exporter)
      : url_(std::move(url)), exporter_(std::move(exporter)) {}

  void Export(otlp::Signal signal, std::shared_ptr<const std::string> request, ExportDone done) override {
    exporter_->ExportAsync(signal, std::move(request), [this, done = std::move(done)](GrpcExportResult r) {
      ExportResult out;
      if (r.ok()) {
        out.partial_success = DecodePartialSuccess(r.response);
      } else {
        out.status = absl::Status(r.code, fmt::format("{} answered {}: {}", url_, static_cast<int>(r.code), r.message));
        out.retry_after = r.retry_after;
        if (r.code == absl::StatusCode::kUnavailable || r.code == absl::StatusCode::kDeadlineExceeded) {
          out.status = absl::UnavailableError(fmt::format("sending to {} failed: {}", url_, r.message));
        }
      }
      done(std::move(out));
    });
  }

  const std::string& url() const override { return url_; }
  void Cancel() override { exporter_->Cancel(); }

 private:
  const std::string url_;
  std::unique_ptr<GrpcExporter> exporter_;
};

std::vector<std::pair<std::string, std::string>> LowerNames(std::vector<std::pair<std::string, std::string>> headers) {
  for (auto& [name, value] : headers) {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return headers;
}

// The contents of a PEM file named in TlsFiles (`what` names the setting in errors).
absl::StatusOr<std::string> ReadPem(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(fmt::format("cannot read the {} file '{}'", what, path));
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(fmt::format("the {} file '{}' holds no PEM block (-----BEGIN ...)", what, path));
  }
  return pem;
}

// Reads and checks the TLS files: every file named must hold PEM, and a client certificate comes with its key.
absl::Status LoadTls(const TlsFiles& tls, GrpcExporterOptions* grpc) {
  if (tls.client_cert_file.empty() != tls.client_key_file.empty()) {
    return absl::InvalidArgumentError(
        "mutual TLS needs both a client certificate and its key (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and "
        "OTEL_EXPORTER_OTLP_CLIENT_KEY)");
  }
  std::string* targets[] = {&grpc->tls_root_certs, &grpc->tls_client_cert, &grpc->tls_client_key};
  const std::string* files[] = {&tls.ca_file, &tls.client_cert_file, &tls.client_key_file};
  const std::string_view names[] = {"CA certificate", "client certificate", "client key"};
  for (int i = 0; i < 3; ++i) {
    if (files[i]->empty()) continue;
    absl::StatusOr<std::string> pem = ReadPem(*files[i], names[i]);
    if (!pem.ok()) return pem.status();
    *targets[i] = std::move(*pem);
  }
  return absl::OkStatus();
}

}  // namespace

TlsFiles TlsFilesFromEnvironment(TlsFiles given) {
  auto fill = [](std::string* value, const char* name) {
    if (!value->empty()) return;
    if (const char* v = std::getenv(name); v != nullptr) *value = v;
  };
  fill(&given.ca_file, "OTEL_EXPORTER_OTLP_CERTIFICATE");
  fill(&given.client_cert_file, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE");
  fill(&given.client_key_file, "OTEL_EXPORTER_OTLP_CLIENT_KEY");
  return given;
}

PartialSuccess DecodePartialSuccess(std::string_view response) {
  PartialSuccess out;
  FieldReader fields(response);
  RawField f;
  while (fields.Next(&f)) {
    if (!f.Is(1, WireType::kLen)) continue;
    FieldReader partial(f.value);
    RawField g;
    while (partial.Next(&g)) {
      if (g.Is(1, WireType::kVarint)) out.rejected = static_cast<int64_t>(g.varint);
      if (g.Is(2, WireType::kLen)) out.error_message = std::string(g.value);
    }
    if (partial.malformed()) return {};
  }
  if (fields.malformed()) return {};
  return out;
}

absl::StatusOr<std::unique_ptr<OtlpExporter>> CreateOtlpExporter(std::string_view url, OtlpExporterOptions options) {
  absl::StatusOr<OtlpUrl> parsed = ParseOtlpUrl(url);
  if (!parsed.ok()) return parsed.status();
  GrpcExporterOptions grpc_options{
      .target = parsed->authority, .gzip = options.gzip, .timeout = options.timeout, .metadata = LowerNames(options.headers)};
  if (absl::Status s = LoadTls(options.tls, &grpc_options); !s.ok()) return s;
  if (parsed->scheme == "grpc" || parsed->scheme == "grpcs") {
    grpc_options.tls = parsed->scheme == "grpcs";
    absl::StatusOr<std::unique_ptr<GrpcExporter>> e = GrpcExporter::Create(std::move(grpc_options));
    if (!e.ok()) return e.status();
    return std::unique_ptr<OtlpExporter>(new GrpcOtlpExporter(std::string(url), std::move(*e)));
  }
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::string base = fmt::format("{}://{}{}", parsed->scheme, parsed->authority, parsed->path);
  return std::unique_ptr<OtlpExporter>(new HttpOtlpExporter(std::string(url), std::move(base), options));
}

}  // namespace otelrr::net
