// Reading JSON objects (API bodies, lines of JSONL files): one table of fields per object type, and errors that
// name the field and say what it must be.
//
//   std::string name;
//   bool on = false;
//   absl::Status s = ReadJsonObject(body, "a CaptureConfig", {
//       {"sessionId", StringInto(&name)},
//       {"captureLogs", BoolInto(&on)},
//   });
#ifndef OTELRR_COMMON_JSON_FIELDS_H_
#define OTELRR_COMMON_JSON_FIELDS_H_

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace otelrr {

// Reads one member's value; `key` names it in errors.
using FieldReader = std::function<absl::Status(std::string_view key, simdjson::dom::element value)>;
using FieldTable = std::vector<std::pair<std::string_view, FieldReader>>;

// Parses `body` as a JSON object (`what` names it in errors, e.g. "a CaptureConfig") and hands each member
// to its reader. InvalidArgument for invalid JSON, a body that is not an object, or an unknown member
// (the message lists the known ones). An empty body (or only whitespace) reads as {}.
absl::Status ReadJsonObject(std::string_view body, std::string_view what, const FieldTable& fields);
// The same for an element already parsed (a nested object, one line of a JSONL file).
absl::Status ReadJsonObject(simdjson::dom::element element, std::string_view what, const FieldTable& fields);

FieldReader StringInto(std::string* out);
FieldReader OptionalStringInto(std::optional<std::string>* out);  // null resets it
FieldReader Uint64Into(uint64_t* out);  // a non-negative integer, or a decimal string of one (JSON numbers lose precision beyond 2^53)
FieldReader Uint64sInto(std::vector<uint64_t>* out);  // an array of non-negative integers
FieldReader BoolInto(bool* out);
FieldReader NumberInto(double* out);
FieldReader OptionalNumberInto(std::optional<double>* out);  // null resets it
FieldReader StringsInto(std::vector<std::string>* out);      // an array of strings
FieldReader StringMapInto(std::vector<std::pair<std::string, std::string>>* out);  // an object of strings
// A string handed to `parse`, whose error is prefixed with the key.
FieldReader ParsedString(std::function<absl::Status(std::string_view)> parse);

}  // namespace otelrr

#endif  // OTELRR_COMMON_JSON_FIELDS_H_
