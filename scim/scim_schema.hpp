// scim_schema.hpp — the resource schemas a SCIM service provider serves
// (RFC 7643: core User and Group, the enterprise User extension and the
// reclaim lifecycle extension), the stored form of a resource (normalise),
// attributes=/excludedAttributes= projection, sortBy ordering, request-body
// parsing with limits and the discovery documents. Pure functions, no I/O.
#pragma once

#include "scim/scim_error.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace reclaim::scim {

inline constexpr const char *group_urn = "urn:ietf:params:scim:schemas:core:2.0:Group";
inline constexpr const char *enterprise_user_urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr const char *lifecycle_user_urn = "urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User";
inline constexpr const char *schema_urn = "urn:ietf:params:scim:schemas:core:2.0:Schema";
inline constexpr const char *resource_type_urn = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
inline constexpr const char *service_provider_config_urn =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

enum class resource_kind { user, group };

enum class attr_type { string, boolean, decimal, integer, date_time, binary, reference, complex };
enum class mutability { read_only, read_write, immutable, write_only };
enum class returned { always, never, by_default, request };
enum class uniqueness { none, server, global };

// One attribute of a schema (RFC 7643 §7). Names are canonical case.
struct attribute_def {
  std::string_view name;
  attr_type type = attr_type::string;
  bool multi_valued = false;
  bool required = false;
  bool case_exact = false;
  mutability mut = mutability::read_write;
  returned ret = returned::by_default;
  uniqueness uniq = uniqueness::none;
  std::span<const attribute_def> sub_attributes = {};
  std::string_view description = {};
  std::span<const std::string_view> canonical_values = {};
  std::span<const std::string_view> reference_types = {};
};

struct schema_def {
  std::string_view urn, name, description;
  std::span<const attribute_def> attributes;
};

// The schema with this URN (compared case-insensitively), or nullptr.
const schema_def *find_schema(std::string_view urn);
// The core schema of a kind, then its extensions (User: enterprise, lifecycle).
const schema_def &core_schema(resource_kind kind);
std::span<const schema_def *const> extension_schemas(resource_kind kind);
// Common attributes (RFC 7643 §3.1): id, externalId, meta — stored at the root.
std::span<const attribute_def> common_attributes();

struct resolved_attribute {
  const schema_def *schema = nullptr; // the core schema for common attributes
  const attribute_def *attribute = nullptr;
};
// Resolves an attribute name (case-insensitive) in schema `urn`; an empty
// urn means the core schema and common attributes, then (a dialect: Entra's
// "manager") an extension attribute whose name is unique across extensions.
std::optional<resolved_attribute> find_attribute(resource_kind kind, std::string_view urn, std::string_view name);
const attribute_def *find_sub_attribute(const attribute_def &parent, std::string_view name);
// Whether the attribute lives at the root of a stored resource (core or common).
bool is_core(resource_kind kind, const schema_def &schema);

// Parses a request body: malformed JSON, invalid UTF-8, or nesting deeper
// than max_depth -> scim_error 400 invalidSyntax. Never recurses on input.
nlohmann::json parse_body(std::string_view text, std::size_t max_depth = 64);
// Throws scim_error 400 invalidSyntax when `value` nests deeper than max_depth.
void check_depth(const nlohmann::json &value, std::size_t max_depth);

// Validates and normalises a POST/PUT body into the stored form: core and
// common attributes at the root, each extension's attributes under its URN,
// "schemas" = core URN plus the extensions that hold values, every name in
// canonical case. Accepted dialects: booleans as "True"/"False" strings,
// manager as a bare string or a one-element array, an extension attribute
// sent at the root (Entra's "manager": null), a lone value for a
// multi-valued attribute, null and [] meaning unassigned (dropped), unknown
// URNs listed only in "schemas" (ignored). Exact duplicates in a
// multi-valued attribute (members and groups: the same "value") are dropped.
// Ignored: readOnly attributes (id, meta, groups) and password (never stored).
// Refused: non-object (400 invalidSyntax), unknown attribute or unknown
// extension URN carrying values (400 invalidSyntax), an attribute given twice
// in different case (400 invalidSyntax), wrong types (400 invalidValue),
// missing required userName/displayName (400 invalidValue).
nlohmann::json normalise(const nlohmann::json &body, resource_kind kind);

// attributes= / excludedAttributes= (comma-separated, URN-qualified or not,
// "name.givenName" sub-attributes, a bare extension URN for all of it).
// id and schemas are always returned, password never; unknown names ignored.
nlohmann::json project(const nlohmann::json &resource, resource_kind kind, std::string_view attributes,
                       std::string_view excluded_attributes);

// Discovery documents (RFC 7643 §5, §6, §7).
nlohmann::json service_provider_config(bool bulk_supported, bool sort_supported, std::size_t max_results);
nlohmann::json schemas_document(); // ListResponse of the four schema definitions
nlohmann::json schema(std::string_view urn); // one definition, or scim_error 404
nlohmann::json resource_types(std::string_view base_url); // ListResponse of User, Group

// sortBy: <0, 0, >0 comparing a and b by the attribute path (first or
// primary value of a multi-valued attribute); strings compared
// case-insensitively unless caseExact, dates as instants; unassigned sorts
// last. An invalid path -> scim_error 400 invalidPath.
int compare_by(const nlohmann::json &a, const nlohmann::json &b, std::string_view attribute_path, resource_kind kind);

// An xsd:dateTime ("2026-03-01T09:30:00Z", "...+02:00", fractions) as
// milliseconds since the epoch; also a bare date "2026-03-01" (midnight UTC).
std::optional<long long> parse_date_time(std::string_view text);

} // namespace reclaim::scim
