// The few XML documents S3 answers with (ListBucketResult, Error, InitiateMultipartUploadResult,
// DeleteResult...), read with libxml2 into a small tree we walk by element name.
//
//   absl::StatusOr<XmlDocument> doc = XmlDocument::Parse(body);
//   for (XmlElement c : doc->root().Children("Contents")) use(c.ChildText("Key"));
#ifndef OTELRR_STORE_INTERNAL_XML_H_
#define OTELRR_STORE_INTERNAL_XML_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

struct _xmlDoc;
struct _xmlNode;

namespace otelrr::store::internal {

// An element of a parsed document; valid while its XmlDocument lives.
class XmlElement {
 public:
  explicit XmlElement(_xmlNode* node) : node_(node) {}
  std::string_view name() const;
  // The element's text content (entities decoded).
  std::string Text() const;
  // The direct child elements named `name` (namespaces ignored), in document order.
  std::vector<XmlElement> Children(std::string_view name) const;
  // The text of the first child named `name`; "" when there is none.
  std::string ChildText(std::string_view name) const;

 private:
  _xmlNode* node_;
};

class XmlDocument {
 public:
  // InvalidArgument when `xml` is not well-formed or has no root element. No network access, no
  // external entities.
  static absl::StatusOr<XmlDocument> Parse(std::string_view xml);
  XmlElement root() const;

 private:
  struct Free {
    void operator()(_xmlDoc* doc) const;
  };
  explicit XmlDocument(_xmlDoc* doc) : doc_(doc) {}
  std::unique_ptr<_xmlDoc, Free> doc_;
};

// `text` with &, <, >, " and ' escaped, for building request bodies.
std::string XmlEscape(std::string_view text);

}  // namespace otelrr::store::internal

#endif  // OTELRR_STORE_INTERNAL_XML_H_
