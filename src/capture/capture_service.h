// The capture service: records the OTLP requests that reach the receivers into a session.
//
//   session::SessionStore sessions(store);
//   capture::CaptureService capture(sessions, {});
//   net::OtlpHttpReceiver http(capture);                     // receivers hand requests to the service
//   absl::StatusOr<session::SessionMetadata> m = capture.StartCapture({.session_id = "debug-payment"});
//   ... clients send OTLP ...
//   absl::StatusOr<session::SessionMetadata> done = capture.StopCapture("debug-payment");
//
// One capture is active at a time. Requests are validated on the
// receiver's thread (OTLP/JSON normalised to protobuf there, once) and queued for the capture's writer
// thread, which appends a batch of them to the SessionWriter, writes the batch as complete gzip members
// (Flush) and only then acknowledges every request in it: an acknowledged request survives kill -9 (and
// a power loss too with `fsync`). The queue is bounded (max_queue_bytes): beyond it requests are
// answered Unavailable with a retry delay, never buffered without bound. A record's arrival time is
// when its receiver had it whole, raised where needed so that arrivals never go back in recording
// order (receivers on several threads stamp a little out of order; session files are sorted by arrival).
//
// Requests that arrive while no capture is active, or for a signal the capture does not record, are
// validated and answered with success and a partial_success that says they were not recorded (the
// items count as rejected: the client must not retry them), and are counted in stats().
//
// Thread-safe: receivers call Export from many threads while the API starts and stops captures. Each
// capture's writer is used by that capture's thread only.
#ifndef OTELRR_CAPTURE_CAPTURE_SERVICE_H_
#define OTELRR_CAPTURE_CAPTURE_SERVICE_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "annotate/annotation_service.h"
#include "common/clock.h"
#include "net/export_handler.h"
#include "otlp/redact.h"
#include "net/otlp_exporter.h"
#include "session/metadata.h"
#include "session/session_store.h"

namespace otelrr::capture {

// CaptureConfig (docs/CONCEPTS.md).
struct CaptureConfig {
  std::string session_id = {};  // empty: "capture-<utc time>-<random>"
  std::string diagnostic_session_id = {};
  std::string description = {};
  std::vector<std::string> enabled_flags = {};
  bool capture_traces = true;
  bool capture_metrics = true;
  bool capture_logs = true;
  // false stores the records uncompressed whatever `compression` says (the seed's compressionEnabled).
  bool compression_enabled = true;
  // How the raw files are compressed (session/compression.h), at this level (unset: the default one).
  session::Compression compression = session::kDefaultCompression;
  std::optional<int> compression_level = {};
  // Stop (status completed) once this many MB (10^6 bytes) of requests were recorded (uncompressed).
  std::optional<double> max_size_mb = {};
  // Stop (status completed) this long after the start.
  std::optional<double> max_duration_minutes = {};
  std::string created_by = "otelrr capture";
  // Expires this many days after it started (expiresAt, session/retention.h). Absent: the store's
  // retention policy decides.
  std::optional<int64_t> retention_days = {};
  // Sync the files before each acknowledgement (survives power loss, costs a disk flush per batch).
  bool fsync = false;
  // Set: record as this instance of the shared session `session_id` (session/shared.h), beside other
  // instances on the same store. StopCapture returns the instance's part (its `instance` set); the instance
  // that stops last also seals the session (its metadata.json then holds the merge).
  std::string instance = {};
};

// Checks a config: a valid (or empty) session id, limits > 0 and finite, retention days in range. The
// message names the value.
absl::Status ValidateCaptureConfig(const CaptureConfig& config);

struct CaptureServiceOptions {
  // Requests queued for the writer and not yet acknowledged, in bytes. Beyond it: Unavailable.
  size_t max_queue_bytes = 256u << 20;
  std::chrono::milliseconds retry_after = std::chrono::seconds(1);
  // 0 compresses on the writer thread; more run beside it (the bytes are the same).
  int compression_threads = 1;
  // How often the live counts are written to metadata.json while capturing.
  std::chrono::milliseconds metadata_interval = std::chrono::seconds(5);
  // Tee: every request is sent here first, and the client gets this downstream's answer. Only what the
  // downstream accepted is recorded (once it is, the client gets the answer), so a client's retries of a
  // refused request are recorded once, when one gets through. Recording problems never change that
  // answer; forwarding problems are the answer (and counted). Not owned; must outlive the service.
  net::OtlpExporter* forward = nullptr;
  // Where the phases marked during a capture (MarkPhase) are written as test.phase.* annotations, each
  // once it has ended (kept with the session, and in ClickHouse when the service has a sink). Null:
  // phases are only in metadata.json. Not owned; must outlive the service.
  annotate::AnnotationService* annotations = nullptr;
  // Redaction (otlp/redact.h): every request is redacted before anything of it is written, and what it
  // changed is counted in the session's metadata ("redaction"). The forwarded copy stays as the client
  // sent it unless redact_forward. Not owned; must outlive the service.
  const otlp::Redactor* redactor = nullptr;
  bool redact_forward = false;
  Clock* clock = nullptr;  // arrival times of CaptureOtlpData, ids, limits; default RealClock()
};

// What the receivers brought, by signal, since the service started.
struct SignalStats {
  uint64_t requests = 0;      // every request handed to the service
  uint64_t recorded = 0;      // acknowledged after being written to a session
  uint64_t not_recorded = 0;  // valid, answered, but no capture was active or the signal is off
  uint64_t invalid = 0;       // answered InvalidArgument
  uint64_t overloaded = 0;    // answered Unavailable: the queue was full
  uint64_t failed = 0;        // answered with an error because writing failed
  uint64_t forwarded = 0;     // the downstream answered OK
  uint64_t forward_failed = 0;  // the downstream answered an error, or could not be reached
};

struct CaptureStats {
  otlp::PerSignal<SignalStats> signals = {};
  uint64_t queued_bytes = 0;
};

class CaptureService : public net::ExportHandler {
 public:
  CaptureService(session::SessionStore& sessions, CaptureServiceOptions options = {});
  // Stops an active capture (status completed).
  ~CaptureService() override;
  CaptureService(const CaptureService&) = delete;
  CaptureService& operator=(const CaptureService&) = delete;

  // Creates the session (type capture, status active) and starts recording into it.
  // FailedPrecondition while another capture is active; AlreadyExists when the id is taken.
  absl::StatusOr<session::SessionMetadata> StartCapture(CaptureConfig config);
  // Records what is queued, closes the session with `status` and returns its final metadata.
  // NotFound when `session_id` is not the active capture.
  absl::StatusOr<session::SessionMetadata> StopCapture(std::string_view session_id,
                                                       session::SessionStatus status = session::SessionStatus::kCompleted,
                                                       std::string reason = "");
  // Stops the active capture `session_id` and deletes its session: for a capture that could not begin
  // (its receivers did not start), so that nothing is left behind.
  absl::Status AbortCapture(std::string_view session_id, std::string reason);
  // The active capture's live metadata, or the stored metadata of a finished one.
  absl::StatusOr<session::SessionMetadata> GetCaptureStatus(std::string_view session_id);
  // Every capture session in the store (the active one with live counts), sorted by id.
  absl::StatusOr<std::vector<session::SessionMetadata>> ListCaptureSessions();
  // Marks the start of phase `name` in the active capture `session_id` now, ending the phase before it;
  // with an empty name, only ends the current phase. A phase's flags are the capture's enabled flags
  // plus `flags`. Each phase is kept in metadata.json (phases) and, once ended, written as the
  // annotation test.phase.<name> (options.annotations); the phase open at the end of the capture ends
  // with it. Returns the capture's phases as they stand. NotFound when `session_id` is not the active
  // capture; InvalidArgument for a name that is not a simple name (letters, digits, '-', '_', '.') or
  // that an earlier phase of the capture has.
  absl::StatusOr<std::vector<session::Phase>> MarkPhase(std::string_view session_id, std::string name,
                                                        std::vector<std::string> flags = {});
  // The id of the active capture, if any.
  std::optional<std::string> ActiveCapture();
  // The configuration the active capture was started with (its limits, for a live view).
  std::optional<CaptureConfig> ActiveCaptureConfig();
  // captureOTLPData: records one protobuf request into the active capture `session_id` and returns
  // once it is written (or why not).
  absl::Status CaptureOtlpData(std::string_view session_id, std::string request, otlp::Signal signal);

  // net::ExportHandler: the receivers' entry point.
  void Export(net::ExportRequest request, net::ExportDone done) override;

  CaptureStats stats();
  Clock& clock() const { return options_.clock != nullptr ? *options_.clock : RealClock(); }
  // Called (on the capture's thread) when a capture ended by itself: a limit was reached or writing
  // failed. Set before starting captures.
  void set_on_capture_ended(std::function<void(const session::SessionMetadata&)> f) { on_ended_ = std::move(f); }

 private:
  class Active;
  std::shared_ptr<Active> CurrentActive();
  // Records (or answers as not recorded) a protobuf request; `done` gets the recording's answer.
  // `redacted`: what redaction already changed in `payload`; null: redacted here when the service redacts.
  void Record(otlp::Signal signal, net::ExportRequest& request, std::string payload, net::ExportDone done,
              const otlp::RedactionCounts* redacted = nullptr);
  // Redacts *payload in place; false when it is malformed (then `done` was answered InvalidArgument).
  bool Redact(otlp::Signal signal, std::string* payload, otlp::RedactionCounts* counts, net::ExportDone& done);
  void Count(otlp::Signal signal, size_t stat);
  // An Active's thread reports that its capture ended by itself.
  void ActiveEnded(Active* active);
  // Writes the ended phases of a capture as annotations (options_.annotations); errors are reported, not returned.
  void WritePhaseAnnotations(const std::string& session_id, const std::vector<session::Phase>& phases);

  session::SessionStore& sessions_;
  const CaptureServiceOptions options_;
  std::function<void(const session::SessionMetadata&)> on_ended_;
  std::mutex mu_;                   // guards active_
  std::shared_ptr<Active> active_;  // the capture being recorded, if any
  std::vector<std::shared_ptr<Active>> retired_;  // ended by themselves; joined at the next start or at exit
  std::mutex start_mu_;             // serialises Start/Stop
  otlp::PerSignal<std::array<std::atomic<uint64_t>, 8>> stats_;
};

}  // namespace otelrr::capture

#endif  // OTELRR_CAPTURE_CAPTURE_SERVICE_H_
