// Redaction of OTLP requests before they are stored: attributes dropped, hashed with a keyed hash or
// replaced, and patterns masked in log bodies. Works on the protobuf bytes like rewrite.h: the request is
// copied field by field, and only what a rule touches is re-encoded.
//
//   absl::StatusOr<RedactionRule> r = ParseRedactionRule("hash:user.email");
//   absl::StatusOr<std::unique_ptr<Redactor>> redactor = Redactor::Create({*r}, hash_key);
//   std::string out;
//   absl::StatusOr<RedactionCounts> n = (*redactor)->Redact(Signal::kTraces, request, &out);
//
// Rules (ParseRedactionRule), each for every attribute whose key matches KEY, a glob (fnmatch: `*`, `?`,
// `[...]`), in every attribute list a request has: resource, scope, span, span event, span link, metric
// metadata, data point, exemplar and log record attributes:
//   drop:KEY            the attribute is removed
//   hash:KEY            its value becomes the string "hmac:" + the first 32 hex digits of HMAC-SHA256(hash key,
//                       the value: a string's bytes, any other value's protobuf encoding). The same value
//                       gives the same hash under the same key, so redacted data can still be grouped and
//                       joined; without the key it cannot be reversed or guessed by hashing candidates.
//   replace:KEY=VALUE   its value becomes the string VALUE
//   body:REGEX          every match of REGEX (RE2 syntax) in a log record's body (its strings, also inside
//                       arrays and key-value lists) becomes "****"
// The first attribute rule whose KEY matches decides; body rules all apply. Nothing else changes: every
// other byte of the request is copied as it was.
#ifndef OTELRR_OTLP_REDACT_H_
#define OTELRR_OTLP_REDACT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/signal.h"

namespace re2 {
class RE2;
}

namespace otelrr::otlp {

enum class RedactionAction { kDrop, kHash, kReplace, kMaskBody };

struct RedactionRule {
  RedactionAction action = RedactionAction::kDrop;
  std::string pattern;      // the key glob, or the body regex
  std::string replacement;  // kReplace
  std::string text;         // the rule as written ("drop:user.email")
};

// "drop:KEY", "hash:KEY", "replace:KEY=VALUE" or "body:REGEX". InvalidArgument saying which forms exist.
absl::StatusOr<RedactionRule> ParseRedactionRule(std::string_view text);

struct RedactionCounts {
  uint64_t attributes_dropped = 0;
  uint64_t attributes_hashed = 0;
  uint64_t attributes_replaced = 0;
  uint64_t bodies_masked = 0;  // log records whose body had at least one match
  RedactionCounts& operator+=(const RedactionCounts& o) {
    attributes_dropped += o.attributes_dropped;
    attributes_hashed += o.attributes_hashed;
    attributes_replaced += o.attributes_replaced;
    bodies_masked += o.bodies_masked;
    return *this;
  }
  bool any() const { return attributes_dropped + attributes_hashed + attributes_replaced + bodies_masked > 0; }
};

// Thread-safe: Redact may be called from many threads at once.
class Redactor {
 public:
  // InvalidArgument for a body regex RE2 cannot compile, or hash rules without a key (hash_key: at least 16
  // bytes, say where it comes from).
  static absl::StatusOr<std::unique_ptr<Redactor>> Create(std::vector<RedactionRule> rules, std::string hash_key);
  ~Redactor();

  // Writes the redacted copy of `request` (an Export*ServiceRequest of `signal`) to *out. InvalidArgument
  // when the request is not well-formed protobuf (nothing is written then).
  absl::StatusOr<RedactionCounts> Redact(Signal signal, std::string_view request, std::string* out) const;

  const std::vector<RedactionRule>& rules() const { return rules_; }

 private:
  Redactor() = default;
  class Walk;
  std::vector<RedactionRule> rules_;        // as given
  // An attribute rule and how its glob is matched: most globs are a plain key or "prefix*", compared
  // directly; the others go to fnmatch.
  struct KeyRule {
    const RedactionRule* rule;
    enum class Match { kExact, kPrefix, kGlob } match;
    std::string literal;  // kExact: the key; kPrefix: the part before the final '*'
    bool Matches(std::string_view key, std::string& scratch) const;
  };
  std::vector<KeyRule> keys_;  // the attribute rules, in order
  std::unique_ptr<re2::RE2> body_;          // every body pattern in one alternation; null without body rules
  std::string hash_key_;
};

}  // namespace otelrr::otlp

#endif  // OTELRR_OTLP_REDACT_H_
