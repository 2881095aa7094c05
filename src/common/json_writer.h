// A small streaming JSON writer: commas, escaping and number formatting done once, right.
//
//   JsonWriter w;                 // or JsonWriter w(/*pretty=*/true)
//   w.BeginObject();
//   w.Key("sessionId"); w.String(id);
//   w.Field("spans", n);          // the same as Key("spans"); Uint(n)
//   w.EndObject();
//   std::string json = w.Take();
//
// Strings are written as valid UTF-8 JSON: control characters are escaped and invalid UTF-8 sequences
// become U+FFFD, so any bytes produce a document every parser accepts.
#ifndef OTELRR_COMMON_JSON_WRITER_H_
#define OTELRR_COMMON_JSON_WRITER_H_

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace otelrr {

class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}
  // Writes into `out` (appending) instead of an internal buffer.
  explicit JsonWriter(std::string* out, bool pretty = false) : out_(out), pretty_(pretty) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key);
  void String(std::string_view value);
  void Int(int64_t value);
  void Uint(uint64_t value);
  // Finite values as the shortest decimal that reads back exactly; NaN and infinities as the
  // strings "NaN", "Infinity", "-Infinity" (the proto3 JSON mapping).
  void Double(double value);
  void Bool(bool value);
  void Null();
  // A value already encoded as JSON, written as is.
  void Raw(std::string_view json);

  // A member of the open object: its key, then its value.
  // Strings: std::string, std::string_view, absl::string_view (a distinct type in Debian's abseil).
  template <typename Text>
    requires requires(const Text& t) {
      { t.data() } -> std::convertible_to<const char*>;
      { t.size() } -> std::convertible_to<size_t>;
    }
  void Field(std::string_view key, const Text& value) {
    Key(key);
    String(std::string_view(value.data(), value.size()));
  }
  void Field(std::string_view key, const char* value) { Field(key, std::string_view(value)); }
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  void Field(std::string_view key, T value) {
    Key(key);
    if constexpr (std::is_signed_v<T>) {
      Int(value);
    } else {
      Uint(value);
    }
  }
  void Field(std::string_view key, double value) {
    Key(key);
    Double(value);
  }
  void Field(std::string_view key, bool value) {
    Key(key);
    Bool(value);
  }
  // An array of strings.
  template <typename Strings>
  void StringArray(std::string_view key, const Strings& values) {
    Key(key);
    BeginArray();
    for (const auto& v : values) String(v);
    EndArray();
  }

  const std::string& str() const { return *out_; }
  std::string Take() { return std::move(*out_); }

  // Appends `value` as a quoted, escaped JSON string.
  static void AppendQuoted(std::string* out, std::string_view value);
  // Appends a double as Double() writes it. Integral values of 1e15 and more are written in exponent
  // form: as plain digits they would be integers wider than 64 bits that JSON parsers (simdjson among
  // them) refuse, and -0 as "-0.0" so that it does not read back as the integer 0.
  static void AppendDouble(std::string* out, double value);
  // The length of the valid UTF-8 sequence that starts at s[i] (a byte >= 0x80), or 0 when it is not
  // valid (overlong, a surrogate, above U+10FFFF, cut short): what AppendQuoted replaces by U+FFFD.
  static size_t Utf8SequenceLength(std::string_view s, size_t i);

 private:
  void Open(char c);
  void Close(char c);
  void BeforeValue();
  void Newline();

  std::string own_;
  std::string* out_ = &own_;
  bool pretty_;
  // One entry per open container: true once it holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

}  // namespace otelrr

#endif  // OTELRR_COMMON_JSON_WRITER_H_
