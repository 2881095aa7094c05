#include "common/json_fields.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "common/status.h"

namespace otelrr {

absl::Status ReadJsonObject(std::string_view body, std::string_view what, const FieldTable& fields) {
  std::string_view trimmed = body;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
  if (trimmed.empty()) return absl::OkStatus();
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err) {
    return absl::InvalidArgumentError(fmt::format("the body is not valid JSON: {}", simdjson::error_message(err)));
  }
  return ReadJsonObject(root, what, fields);
}

absl::Status ReadJsonObject(simdjson::dom::element root, std::string_view what, const FieldTable& fields) {
  simdjson::dom::object object;
  if (root.get(object)) return absl::InvalidArgumentError(fmt::format("{} must be a JSON object", what));
  for (auto member : object) {
    std::string_view key = member.key;
    auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == key; });
    if (it == fields.end()) {
      std::vector<std::string_view> known;
      for (const auto& f : fields) known.push_back(f.first);
      return absl::InvalidArgumentError(
          fmt::format("unknown field '{}': {} has {}", key, what, fmt::join(known, ", ")));
    }
    if (absl::Status s = it->second(key, member.value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

FieldReader StringInto(std::string* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    std::string_view s;
    if (v.get(s)) return absl::InvalidArgumentError(fmt::format("{} must be a string", key));
    *out = std::string(s);
    return absl::OkStatus();
  };
}

FieldReader OptionalStringInto(std::optional<std::string>* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    if (v.is_null()) {
      out->reset();
      return absl::OkStatus();
    }
    std::string_view s;
    if (v.get(s)) return absl::InvalidArgumentError(fmt::format("{} must be a string or null", key));
    *out = std::string(s);
    return absl::OkStatus();
  };
}

FieldReader Uint64Into(uint64_t* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    if (!v.get(*out)) return absl::OkStatus();
    std::string_view s;
    if (!v.get(s) && !s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      uint64_t n = 0;
      for (char c : s) {
        if (n > (UINT64_MAX - static_cast<uint64_t>(c - '0')) / 10) {
          return absl::InvalidArgumentError(fmt::format("{} is too large", key));
        }
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      *out = n;
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(fmt::format("{} must be a non-negative integer", key));
  };
}

FieldReader Uint64sInto(std::vector<uint64_t>* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    simdjson::dom::array array;
    if (v.get(array)) return absl::InvalidArgumentError(fmt::format("{} must be an array of integers", key));
    out->clear();
    out->reserve(array.size());
    for (simdjson::dom::element e : array) {
      uint64_t n = 0;
      if (e.get(n)) return absl::InvalidArgumentError(fmt::format("{} must hold non-negative integers", key));
      out->push_back(n);
    }
    return absl::OkStatus();
  };
}

FieldReader BoolInto(bool* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    if (v.get(*out)) return absl::InvalidArgumentError(fmt::format("{} must be true or false", key));
    return absl::OkStatus();
  };
}

FieldReader NumberInto(double* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    if (v.get(*out)) return absl::InvalidArgumentError(fmt::format("{} must be a number", key));
    return absl::OkStatus();
  };
}

FieldReader OptionalNumberInto(std::optional<double>* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    if (v.is_null()) {
      out->reset();
      return absl::OkStatus();
    }
    double d;
    if (v.get(d)) return absl::InvalidArgumentError(fmt::format("{} must be a number or null", key));
    *out = d;
    return absl::OkStatus();
  };
}

FieldReader StringsInto(std::vector<std::string>* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    simdjson::dom::array array;
    const absl::Status wrong = absl::InvalidArgumentError(fmt::format("{} must be an array of strings", key));
    if (v.get(array)) return wrong;
    out->clear();
    for (simdjson::dom::element e : array) {
      std::string_view s;
      if (e.get(s)) return wrong;
      out->emplace_back(s);
    }
    return absl::OkStatus();
  };
}

FieldReader StringMapInto(std::vector<std::pair<std::string, std::string>>* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    simdjson::dom::object object;
    const absl::Status wrong = absl::InvalidArgumentError(fmt::format("{} must be an object of strings", key));
    if (v.get(object)) return wrong;
    out->clear();
    for (auto member : object) {
      std::string_view s;
      if (member.value.get(s)) return wrong;
      out->emplace_back(std::string(member.key), std::string(s));
    }
    return absl::OkStatus();
  };
}

FieldReader ParsedString(std::function<absl::Status(std::string_view)> parse) {
  return [parse = std::move(parse)](std::string_view key, simdjson::dom::element v) {
    std::string_view s;
    if (v.get(s)) return absl::InvalidArgumentError(fmt::format("{} must be a string", key));
    return Prefixed(parse(s), key);
  };
}

}  // namespace otelrr
