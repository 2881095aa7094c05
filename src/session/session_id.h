// Session ids name folders in the store, so they are restricted to a safe alphabet: ASCII letters,
// digits, '.', '_' and '-', 1 to 128 characters, and never "." or "..". Every session entry point
// validates its id with this function before building a key, so no id can reach outside the store.
//
//   if (absl::Status s = ValidateSessionId(id); !s.ok()) return s;  // InvalidArgument, says what is allowed
#ifndef OTELRR_SESSION_SESSION_ID_H_
#define OTELRR_SESSION_SESSION_ID_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace otelrr::session {

inline constexpr size_t kMaxSessionIdLength = 128;

absl::Status ValidateSessionId(std::string_view id);

// The one way to say a session is not there: NotFound "session <id> does not exist". Callers that know
// where they looked (the CLI) add the store; the API does not expose paths.
absl::Status NoSuchSession(std::string_view id);

// A fresh id for a session started at `now_unix_nano`: "{prefix}-20261126-114544-3fa9c1" (UTC time and
// 24 random bits).
std::string NewSessionId(std::string_view prefix, uint64_t now_unix_nano);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_SESSION_ID_H_
