// scim_filter.hpp — RFC 7644 §3.4.2.2 filters: eq ne co sw ew pr gt ge lt le,
// and/or/not, parentheses, value filters `attr[...]`, URN-qualified paths,
// case-insensitive names, operators and literals; strings compared per the
// attribute's caseExact, dates as instants. Bounded length and depth.
#pragma once

#include "scim/scim_path.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace reclaim::scim {

inline constexpr std::size_t max_filter_length = 8192;
inline constexpr std::size_t max_filter_depth = 32;

class filter {
public:
  struct node;

  // Throws scim_error 400 invalidFilter (syntax, unknown attribute, an
  // operator the attribute's type does not support, too long or too deep).
  static std::shared_ptr<const filter> parse(std::string_view text, resource_kind kind);
  // A value filter inside `parent[...]`: names are sub-attributes of parent.
  static std::shared_ptr<const filter> parse_value_filter(std::string_view text, resource_kind kind,
                                                          const attribute_path &parent);

  // Whether a stored (normalised) resource matches. Never throws on odd data.
  bool matches(const nlohmann::json &resource) const;
  // For a value filter: whether one element of the parent attribute matches.
  bool matches_element(const nlohmann::json &element) const;

  // When the filter is exactly `<attr> eq "<string>"` on a single-valued
  // top-level attribute: its canonical name ("userName", "externalId", "id",
  // "displayName"; extension attributes as "<urn>:<name>") and the value.
  // Compare per the attribute's caseExact (userName and displayName: no).
  std::optional<std::pair<std::string, std::string>> simple_equality() const;
  // For a value filter: `<sub> eq <literal>` -> the sub-attribute and literal
  // (PATCH uses it to create the element an add's filter names).
  std::optional<std::pair<std::string, nlohmann::json>> simple_element_equality() const;

  filter(std::unique_ptr<node> root, bool relative);
  ~filter();
  filter(const filter &) = delete;
  filter &operator=(const filter &) = delete;

private:
  std::unique_ptr<node> root_;
  bool relative_;
};

} // namespace reclaim::scim
