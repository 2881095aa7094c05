#include "store/internal/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <climits>

namespace otelrr::store::internal {

std::string_view XmlElement::name() const { return reinterpret_cast<const char*>(node_->name); }

std::string XmlElement::Text() const {
  xmlChar* text = xmlNodeGetContent(node_);
  if (text == nullptr) return "";
  std::string out(reinterpret_cast<const char*>(text));
  xmlFree(text);
  return out;
}

std::vector<XmlElement> XmlElement::Children(std::string_view name) const {
  std::vector<XmlElement> out;
  for (xmlNode* c = node_->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && std::string_view(reinterpret_cast<const char*>(c->name)) == name) {
      out.emplace_back(c);
    }
  }
  return out;
}

std::string XmlElement::ChildText(std::string_view name) const {
  for (xmlNode* c = node_->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE && std::string_view(reinterpret_cast<const char*>(c->name)) == name) {
      return XmlElement(c).Text();
    }
  }
  return "";
}

void XmlDocument::Free::operator()(_xmlDoc* doc) const { xmlFreeDoc(doc); }

absl::StatusOr<XmlDocument> XmlDocument::Parse(std::string_view xml) {
  if (xml.size() > INT_MAX) return absl::InvalidArgumentError("XML document too large");
  // XML_PARSE_NONET: never fetch anything; no XML_PARSE_NOENT, so external entities are not expanded.
  xmlDoc* doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) return absl::InvalidArgumentError("not well-formed XML");
  XmlDocument out(doc);
  if (xmlDocGetRootElement(doc) == nullptr) return absl::InvalidArgumentError("an XML document without an element");
  return out;
}

XmlElement XmlDocument::root() const { return XmlElement(xmlDocGetRootElement(doc_.get())); }

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace otelrr::store::internal
