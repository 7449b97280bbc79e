// scim_path.hpp — the attribute path grammar of RFC 7644 §3.5.2 and §3.10:
// [URN ":"] attr ["." subAttr] or attr "[" valFilter "]" ["." subAttr],
// resolved against the schemas (canonical case, definitions attached).
#pragma once

#include "scim/scim_schema.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace reclaim::scim {

class filter;

struct attribute_path {
  std::string urn;           // canonical URN of the schema the attribute belongs to (core included)
  std::string attribute;     // canonical name; "" when the path is a bare extension URN
  std::string sub_attribute; // canonical name or ""
  std::shared_ptr<const class filter> value_filter; // `[...]`, relative to the attribute's elements
  const attribute_def *def = nullptr;     // definition of attribute (nullptr iff attribute is "")
  const attribute_def *sub_def = nullptr; // definition of sub_attribute
  bool in_core = true;                    // stored at the resource root (else under resource[urn])

  std::string to_string() const; // canonical text without the value filter
};

// Throws scim_error 400 invalidPath for bad syntax, unknown URNs, attributes
// or sub-attributes, and filters in the wrong place; a malformed value filter
// is 400 invalidFilter. A bare extension URN is allowed (attribute "").
attribute_path parse_path(std::string_view text, resource_kind kind);

// The JSON object an attribute of `path` is stored in: the root, or
// resource[urn] for an extension (nullptr when absent / not an object).
const nlohmann::json *container_of(const nlohmann::json &resource, const attribute_path &path);

} // namespace reclaim::scim
