// Session ids name folders in the store, so they are restricted to a safe alphabet: ASCII letters,
// digits, '.', '_' and '-', 1 to 128 characters, and never "." or "..". Every session entry point
// validates its id with this function before building a key, so no id can reach outside the store.
//
//   if (absl::Status s = ValidateSessionId(id); !s.ok()) return s;  // InvalidArgument, says what is allowed
#ifndef OTELRR_SESSION_SESSION_ID_H_
#define OTELRR_SESSION_SESSION_ID_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace otelrr::session {

inline constexpr size_t kMaxSessionIdLength = 128;

absl::Status ValidateSessionId(std::string_view id);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_SESSION_ID_H_
