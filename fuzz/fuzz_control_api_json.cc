// Fuzzes the control API's request bodies (server/control_api.h): ParseCaptureConfig, ParseSeedRequest and
// ParseReplayRequest read JSON from whoever reaches the API. The first input byte picks the parser.
//
// Oracles: a refusal is InvalidArgument with a message (the API answers it 400); an accepted capture
// config passes ValidateCaptureConfig (what StartCapture checks again).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "capture/capture_service.h"
#include "fuzz/oracle.h"
#include "replay/replay_service.h"
#include "server/control_api.h"

namespace {

constexpr std::string_view kName = "fuzz_control_api_json";

void CheckRefusal(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kInvalidArgument) {
    otelrr::fuzz::OracleFailed(kName, "a refused body is not InvalidArgument (it would not be a 400)");
  }
  if (s.message().empty()) otelrr::fuzz::OracleFailed(kName, "a refusal without a message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace otelrr;
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      absl::StatusOr<capture::CaptureConfig> c = server::ParseCaptureConfig(body);
      if (!c.ok()) {
        CheckRefusal(c.status());
      } else if (!capture::ValidateCaptureConfig(*c).ok()) {
        fuzz::OracleFailed(kName, "an accepted capture config fails ValidateCaptureConfig");
      }
      break;
    }
    case 1: {
      absl::StatusOr<generate::SeedConfig> c = server::ParseSeedRequest(body);
      if (!c.ok()) CheckRefusal(c.status());
      break;
    }
    default: {
      absl::StatusOr<replay::ReplayRequest> r = server::ParseReplayRequest(body);
      if (!r.ok()) CheckRefusal(r.status());
      break;
    }
  }
  return 0;
}
