// scim_path.cpp — parse_path: URN prefix (the text before the last ':' ahead
// of any '['), attribute, optional value filter and sub-attribute, each name
// resolved case-insensitively against the schema tables.
#include "scim/scim_path.hpp"

#include "scim/scim_filter.hpp"

#include <algorithm>

namespace reclaim::scim {
namespace {

constexpr std::size_t max_path_length = 1024;

[[noreturn]] void bad_path(std::string_view text, const std::string &why) {
  throw scim_error(400, "invalidPath", "invalid path '" + std::string(text.substr(0, 200)) + "': " + why);
}

bool is_name(std::string_view s) {
  if (s.empty())
    return false;
  const auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  if (s == "$ref")
    return true;
  return std::all_of(s.begin(), s.end(), ok);
}

bool starts_with_urn(std::string_view s) {
  return s.size() >= 4 && (s[0] == 'u' || s[0] == 'U') && (s[1] == 'r' || s[1] == 'R') &&
         (s[2] == 'n' || s[2] == 'N') && s[3] == ':';
}

// The index of the ']' closing the '[' at `open`, skipping quoted strings.
std::size_t closing_bracket(std::string_view text, std::size_t open) {
  bool quoted = false;
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ']') {
      return i;
    } else if (c == '[') {
      return std::string_view::npos; // no nested value filters (RFC 7644 §3.4.2.2)
    }
  }
  return std::string_view::npos;
}

} // namespace

std::string attribute_path::to_string() const {
  std::string out = in_core ? std::string() : urn + (attribute.empty() ? "" : ":");
  out += attribute;
  if (!sub_attribute.empty())
    out += "." + sub_attribute;
  return out;
}

attribute_path parse_path(std::string_view text, resource_kind kind) {
  if (text.empty())
    bad_path(text, "empty");
  if (text.size() > max_path_length)
    bad_path(text, "longer than " + std::to_string(max_path_length) + " characters");
  const std::size_t open = text.find('[');
  std::string_view head = text.substr(0, open);
  std::string_view urn;
  attribute_path out;
  if (starts_with_urn(head)) {
    if (open == std::string_view::npos)
      if (const schema_def *s = find_schema(head); s && !is_core(kind, *s)) {
        const auto exts = extension_schemas(kind);
        if (std::find(exts.begin(), exts.end(), s) == exts.end())
          bad_path(text, "schema does not apply to this resource");
        out.urn = std::string(s->urn);
        out.in_core = false;
        return out;
      }
    const std::size_t colon = head.rfind(':');
    urn = head.substr(0, colon);
    head = head.substr(colon + 1);
    const schema_def *s = find_schema(urn);
    if (!s)
      bad_path(text, "unknown schema URN");
    if (!is_core(kind, *s)) {
      const auto exts = extension_schemas(kind);
      if (std::find(exts.begin(), exts.end(), s) == exts.end())
        bad_path(text, "schema does not apply to this resource");
    }
    urn = s->urn;
  }
  std::string_view attr = head, sub;
  if (const auto dot = head.find('.'); dot != std::string_view::npos) {
    attr = head.substr(0, dot);
    sub = head.substr(dot + 1);
    if (!is_name(sub))
      bad_path(text, "bad sub-attribute name");
  }
  if (!is_name(attr))
    bad_path(text, "bad attribute name");
  const auto found = find_attribute(kind, urn, attr);
  if (!found)
    bad_path(text, "no attribute '" + std::string(attr) + "'");
  out.urn = std::string(found->schema->urn);
  out.in_core = is_core(kind, *found->schema);
  out.def = found->attribute;
  out.attribute = std::string(out.def->name);
  if (open != std::string_view::npos) {
    if (!sub.empty())
      bad_path(text, "a value filter follows the attribute, not its sub-attribute");
    if (!out.def->multi_valued)
      bad_path(text, "a value filter needs a multi-valued attribute");
    const std::size_t close = closing_bracket(text, open);
    if (close == std::string_view::npos)
      bad_path(text, "unterminated or nested '['");
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != '.' || !is_name(rest.substr(1)))
        bad_path(text, "only '.subAttribute' may follow ']'");
      sub = rest.substr(1);
    }
    out.value_filter = filter::parse_value_filter(text.substr(open + 1, close - open - 1), kind, out);
  }
  if (!sub.empty()) {
    out.sub_def = find_sub_attribute(*out.def, sub);
    if (!out.sub_def)
      bad_path(text, "no sub-attribute '" + std::string(sub) + "' of " + out.attribute);
    out.sub_attribute = std::string(out.sub_def->name);
  }
  return out;
}

const nlohmann::json *container_of(const nlohmann::json &resource, const attribute_path &path) {
  if (!resource.is_object())
    return nullptr;
  if (path.in_core)
    return &resource;
  auto it = resource.find(path.urn);
  if (it == resource.end() || !it->is_object())
    return nullptr;
  return &*it;
}

} // namespace reclaim::scim
