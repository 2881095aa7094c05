#include "otlp/redact.h"

#include <fnmatch.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <re2/re2.h>

#include <string>
#include <utility>

#include "fmt/format.h"
#include "otlp/field_reader.h"
#include "otlp/proto_writer.h"

namespace otelrr::otlp {

absl::StatusOr<RedactionRule> ParseRedactionRule(std::string_view text) {
  const size_t colon = text.find(':');
  const std::string_view kind = colon == std::string_view::npos ? text : text.substr(0, colon);
  const std::string_view rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  RedactionRule rule{.text = std::string(text)};
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format(
        "redaction rule '{}': {}; use drop:KEY, hash:KEY, replace:KEY=VALUE (KEY a glob such as user.* ) or "
        "body:REGEX",
        text, why));
  };
  if (kind == "drop" || kind == "hash") {
    rule.action = kind == "drop" ? RedactionAction::kDrop : RedactionAction::kHash;
    rule.pattern = std::string(rest);
  } else if (kind == "replace") {
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return bad("replace needs KEY=VALUE");
    rule.action = RedactionAction::kReplace;
    rule.pattern = std::string(rest.substr(0, eq));
    rule.replacement = std::string(rest.substr(eq + 1));
  } else if (kind == "body") {
    rule.action = RedactionAction::kMaskBody;
    rule.pattern = std::string(rest);
  } else {
    return bad(colon == std::string_view::npos ? "no action" : fmt::format("unknown action '{}'", kind));
  }
  if (rule.pattern.empty()) return bad("the key or pattern is empty");
  return rule;
}

namespace {
constexpr std::string_view kMask = "****";
}

// One request's copy: the message tree of OTLP, walked down to every attribute list and log body.
class Redactor::Walk {
 public:
  Walk(const Redactor& r, std::string* out) : r_(r), out_(out) {}

  bool Request(Signal signal, std::string_view request) {
    return Copy(request, [&](const RawField& f) { return f.number == 1 ? Nested(f, [&](auto v) { return Resource(signal, v); }) : 0; });
  }

  RedactionCounts counts;

 private:
  // Copies message `m` field by field; `on` gets each length-delimited field and returns 1 when it wrote
  // (or dropped) the field itself, 0 to have it copied as it is, -1 when it is malformed.
  template <class On>
  bool Copy(std::string_view m, On&& on) {
    FieldReader fields(m);
    RawField f;
    while (fields.Next(&f)) {
      if (f.wire == WireType::kLen) {
        const int handled = on(f);
        if (handled < 0) return false;
        if (handled > 0) continue;
      }
      out_->append(f.whole);
    }
    return !fields.malformed();
  }

  // Writes field f again, its contents produced by `inner` (which returns false when they are malformed).
  template <class Inner>
  int Nested(const RawField& f, Inner&& inner) {
    AppendTag(out_, f.number, WireType::kLen);
    const size_t length = BeginLengthDelimited(out_);
    if (!inner(f.value)) return -1;
    EndLengthDelimited(out_, length);
    return 1;
  }

  // A message whose field `attributes` holds its KeyValue attributes.
  bool Attributes(std::string_view m, uint32_t attributes) {
    return Copy(m, [&](const RawField& f) { return f.number == attributes ? KeyValue(f) : 0; });
  }

  bool Resource(Signal signal, std::string_view m) {
    return Copy(m, [&](const RawField& f) {
      if (f.number == 1) return Nested(f, [&](auto v) { return Attributes(v, 1); });  // Resource
      if (f.number == 2) return Nested(f, [&](auto v) { return Scope(signal, v); });
      return 0;
    });
  }

  bool Scope(Signal signal, std::string_view m) {
    return Copy(m, [&](const RawField& f) {
      if (f.number == 1) return Nested(f, [&](auto v) { return Attributes(v, 3); });  // InstrumentationScope
      if (f.number != 2) return 0;
      switch (signal) {
        case Signal::kTraces:
          return Nested(f, [&](auto v) { return Span(v); });
        case Signal::kMetrics:
          return Nested(f, [&](auto v) { return Metric(v); });
        case Signal::kLogs:
          return Nested(f, [&](auto v) { return LogRecord(v); });
      }
      return 0;
    });
  }

  bool Span(std::string_view m) {
    return Copy(m, [&](const RawField& f) {
      if (f.number == 9) return KeyValue(f);
      if (f.number == 11) return Nested(f, [&](auto v) { return Attributes(v, 3); });  // Event
      if (f.number == 13) return Nested(f, [&](auto v) { return Attributes(v, 4); });  // Link
      return 0;
    });
  }

  bool Metric(std::string_view m) {
    return Copy(m, [&](const RawField& f) {
      // The data kinds and their points' attribute and exemplar fields: gauge 5 and sum 7 (NumberDataPoint:
      // 7, 5), histogram 9 (9, 8), exponential histogram 10 (1, 11), summary 11 (7, none).
      uint32_t attributes = 0;
      uint32_t exemplars = 0;
      switch (f.number) {
        case 12:
          return KeyValue(f);  // metadata
        case 5:
        case 7:
          attributes = 7, exemplars = 5;
          break;
        case 9:
          attributes = 9, exemplars = 8;
          break;
        case 10:
          attributes = 1, exemplars = 11;
          break;
        case 11:
          attributes = 7;
          break;
        default:
          return 0;
      }
      return Nested(f, [&](auto data) {
        return Copy(data, [&](const RawField& p) {
          if (p.number != 1) return 0;
          return Nested(p, [&](auto point) {
            return Copy(point, [&](const RawField& pf) {
              if (pf.number == attributes) return KeyValue(pf);
              if (exemplars != 0 && pf.number == exemplars) return Nested(pf, [&](auto v) { return Attributes(v, 7); });
              return 0;
            });
          });
        });
      });
    });
  }

  bool LogRecord(std::string_view m) {
    masked_ = false;
    const bool ok = Copy(m, [&](const RawField& f) {
      if (f.number == 6) return KeyValue(f);
      if (f.number == 5 && r_.body_ != nullptr) return Nested(f, [&](auto v) { return Body(v); });
      return 0;
    });
    if (masked_) ++counts.bodies_masked;
    return ok;
  }

  // An AnyValue of a log body: its strings masked, also inside arrays (5) and key-value lists (6).
  bool Body(std::string_view any) {
    return Copy(any, [&](const RawField& f) {
      if (f.number == 1) {
        if (!re2::RE2::PartialMatch(f.value, *r_.body_)) return 0;
        std::string s(f.value);
        re2::RE2::GlobalReplace(&s, *r_.body_, kMask);
        masked_ = true;
        AppendTag(out_, 1, WireType::kLen);
        AppendVarint(out_, s.size());
        out_->append(s);
        return 1;
      }
      if (f.number == 5) {  // ArrayValue: values = 1
        return Nested(f, [&](auto array) {
          return Copy(array, [&](const RawField& v) { return v.number == 1 ? Nested(v, [&](auto a) { return Body(a); }) : 0; });
        });
      }
      if (f.number == 6) {  // KeyValueList: values = 1, each a KeyValue whose value = 2
        return Nested(f, [&](auto list) {
          return Copy(list, [&](const RawField& kv) {
            if (kv.number != 1) return 0;
            return Nested(kv, [&](auto pair) {
              return Copy(pair, [&](const RawField& p) { return p.number == 2 ? Nested(p, [&](auto a) { return Body(a); }) : 0; });
            });
          });
        });
      }
      return 0;
    });
  }

  // One attribute (a KeyValue in field f): copied, dropped or rewritten by the first rule whose key matches.
  int KeyValue(const RawField& f) {
    std::string_view key;
    std::string_view value;  // the AnyValue
    FieldReader fields(f.value);
    RawField kv;
    while (fields.Next(&kv)) {
      if (kv.Is(1, WireType::kLen)) key = kv.value;
      if (kv.Is(2, WireType::kLen)) value = kv.value;
    }
    if (fields.malformed()) return -1;
    const RedactionRule* rule = nullptr;
    for (const KeyRule& k : r_.keys_) {
      if (k.Matches(key, key_)) {
        rule = k.rule;
        break;
      }
    }
    if (rule == nullptr) return 0;
    std::string replacement;
    switch (rule->action) {
      case RedactionAction::kDrop:
        ++counts.attributes_dropped;
        return 1;
      case RedactionAction::kHash:
        replacement = Hash(value);
        ++counts.attributes_hashed;
        break;
      case RedactionAction::kReplace:
        replacement = rule->replacement;
        ++counts.attributes_replaced;
        break;
      case RedactionAction::kMaskBody:
        return 0;
    }
    AppendTag(out_, f.number, WireType::kLen);
    const size_t pair = BeginLengthDelimited(out_);
    AppendTag(out_, 1, WireType::kLen);
    AppendVarint(out_, key.size());
    out_->append(key);
    AppendTag(out_, 2, WireType::kLen);
    const size_t any = BeginLengthDelimited(out_);
    AppendTag(out_, 1, WireType::kLen);
    AppendVarint(out_, replacement.size());
    out_->append(replacement);
    EndLengthDelimited(out_, any);
    EndLengthDelimited(out_, pair);
    return 1;
  }

  // "hmac:" and the first 16 bytes of HMAC-SHA256(key, value) in hex; a string value's own bytes, any other
  // value's encoding.
  std::string Hash(std::string_view any) const {
    std::string_view data = any;
    FieldReader fields(any);
    RawField v;
    if (fields.Next(&v) && v.Is(1, WireType::kLen)) {
      RawField next;
      if (!fields.Next(&next)) data = v.value;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), r_.hash_key_.data(), static_cast<int>(r_.hash_key_.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &n);
    std::string hex = "hmac:";
    for (unsigned int i = 0; i < 16 && i < n; ++i) hex += fmt::format("{:02x}", mac[i]);
    return hex;
  }

  const Redactor& r_;
  std::string* out_;
  std::string key_;
  bool masked_ = false;
};

absl::StatusOr<std::unique_ptr<Redactor>> Redactor::Create(std::vector<RedactionRule> rules, std::string hash_key) {
  std::unique_ptr<Redactor> r(new Redactor());
  r->rules_ = std::move(rules);
  std::string bodies;
  bool hashes = false;
  for (const RedactionRule& rule : r->rules_) {
    if (rule.action == RedactionAction::kMaskBody) {
      re2::RE2 alone(rule.pattern, re2::RE2::Quiet);
      if (!alone.ok()) {
        return absl::InvalidArgumentError(
            fmt::format("redaction rule '{}': the regular expression does not compile: {}", rule.text, alone.error()));
      }
      if (!bodies.empty()) bodies += '|';
      bodies += "(?:" + rule.pattern + ")";
    } else {
      // fnmatch without flags: '*' matches any characters (also '/' and a leading '.'), so a pattern whose only
      // special character is one final '*' is a prefix, and one without any is the key itself.
      const size_t special = rule.pattern.find_first_of("*?[\\");
      if (special == std::string::npos) {
        r->keys_.push_back({&rule, KeyRule::Match::kExact, rule.pattern});
      } else if (special == rule.pattern.size() - 1 && rule.pattern.back() == '*') {
        r->keys_.push_back({&rule, KeyRule::Match::kPrefix, rule.pattern.substr(0, special)});
      } else {
        r->keys_.push_back({&rule, KeyRule::Match::kGlob, {}});
      }
      hashes |= rule.action == RedactionAction::kHash;
    }
  }
  if (hashes && hash_key.size() < 16) {
    return absl::InvalidArgumentError(
        hash_key.empty() ? "hash: rules need a key: --redact-key-file FILE or $OTELRR_REDACT_KEY (16 bytes or more, "
                           "kept secret: who has it can test guesses against the hashes)"
                         : "the redaction hash key is shorter than 16 bytes: use a longer random key");
  }
  r->hash_key_ = std::move(hash_key);
  if (!bodies.empty()) r->body_ = std::make_unique<re2::RE2>(bodies, re2::RE2::Quiet);
  return r;
}

bool Redactor::KeyRule::Matches(std::string_view key, std::string& scratch) const {
  switch (match) {
    case Match::kExact:
      return key == literal;
    case Match::kPrefix:
      return key.starts_with(literal);
    case Match::kGlob:
      scratch.assign(key);  // fnmatch needs a terminated string
      return fnmatch(rule->pattern.c_str(), scratch.c_str(), 0) == 0;
  }
  return false;
}

Redactor::~Redactor() = default;

absl::StatusOr<RedactionCounts> Redactor::Redact(Signal signal, std::string_view request, std::string* out) const {
  out->clear();
  out->reserve(request.size());
  Walk walk(*this, out);
  if (!walk.Request(signal, request)) {
    out->clear();
    return absl::InvalidArgumentError(
        fmt::format("the {} request is not well-formed protobuf: it cannot be redacted", SignalName(signal)));
  }
  return walk.counts;
}

}  // namespace otelrr::otlp
