// scim_schema.cpp — schema tables (RFC 7643 §4, §8.7), normalise, project,
// compare_by, body parsing and the discovery documents. The tables are the
// single source of truth: the published /Schemas documents are made from them.
#include "scim/scim_schema.hpp"

#include "scim/scim_filter.hpp"
#include "scim/scim_path.hpp"
#include "scim/scim_protocol.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <set>
#include <utility>
#include <vector>

namespace reclaim::scim {
namespace {

using json = nlohmann::json;
using enum attr_type;

constexpr mutability ro = mutability::read_only;
constexpr mutability wo = mutability::write_only;
constexpr mutability imm = mutability::immutable;

constexpr std::array<std::string_view, 3> email_types{"work", "home", "other"};
constexpr std::array<std::string_view, 6> phone_types{"work", "home", "mobile", "fax", "pager", "other"};
constexpr std::array<std::string_view, 2> user_ref{"User", "Group"};
constexpr std::array<std::string_view, 1> user_only_ref{"User"};
constexpr std::array<std::string_view, 1> external_ref{"external"};
constexpr std::array<std::string_view, 7> lifecycle_states{
    "active", "leave", "transferred", "terminated", "contract_ended", "reactivated", "deleted"};

// value/display/type/primary: the sub-attributes of most multi-valued attributes.
constexpr std::array<attribute_def, 4> mv_string_subs{{
    {.name = "value", .description = "The value."},
    {.name = "display", .description = "A human-readable name."},
    {.name = "type", .description = "A label such as work or home."},
    {.name = "primary", .type = boolean, .description = "The preferred value."},
}};
constexpr std::array<attribute_def, 4> email_subs{{
    {.name = "value", .description = "Email address."},
    {.name = "display", .description = "A human-readable name."},
    {.name = "type", .description = "work, home or other.", .canonical_values = email_types},
    {.name = "primary", .type = boolean, .description = "The preferred email address."},
}};
constexpr std::array<attribute_def, 4> phone_subs{{
    {.name = "value", .description = "Phone number."},
    {.name = "display", .description = "A human-readable name."},
    {.name = "type", .description = "work, home, mobile, fax, pager or other.", .canonical_values = phone_types},
    {.name = "primary", .type = boolean, .description = "The preferred phone number."},
}};
constexpr std::array<attribute_def, 4> photo_subs{{
    {.name = "value", .type = reference, .case_exact = true, .description = "URL of a photo.",
     .reference_types = external_ref},
    {.name = "display", .description = "A human-readable name."},
    {.name = "type", .description = "photo or thumbnail."},
    {.name = "primary", .type = boolean, .description = "The preferred photo."},
}};
constexpr std::array<attribute_def, 4> cert_subs{{
    {.name = "value", .type = binary, .case_exact = true, .description = "DER certificate, base64."},
    {.name = "display", .description = "A human-readable name."},
    {.name = "type", .description = "A label."},
    {.name = "primary", .type = boolean, .description = "The preferred certificate."},
}};
constexpr std::array<attribute_def, 6> name_subs{{
    {.name = "formatted", .description = "The full name."},
    {.name = "familyName", .description = "Family name."},
    {.name = "givenName", .description = "Given name."},
    {.name = "middleName", .description = "Middle name."},
    {.name = "honorificPrefix", .description = "Honorific prefix."},
    {.name = "honorificSuffix", .description = "Honorific suffix."},
}};
constexpr std::array<attribute_def, 8> address_subs{{
    {.name = "formatted", .description = "The full mailing address."},
    {.name = "streetAddress", .description = "Street address."},
    {.name = "locality", .description = "City or locality."},
    {.name = "region", .description = "State or region."},
    {.name = "postalCode", .description = "Postal code."},
    {.name = "country", .description = "ISO 3166-1 alpha-2 country code."},
    {.name = "type", .description = "work, home or other.", .canonical_values = email_types},
    {.name = "primary", .type = boolean, .description = "The preferred address."},
}};
constexpr std::array<attribute_def, 4> user_group_subs{{
    {.name = "value", .case_exact = true, .mut = ro, .description = "The id of the Group."},
    {.name = "$ref", .type = reference, .case_exact = true, .mut = ro, .description = "URI of the Group.",
     .reference_types = user_ref},
    {.name = "display", .mut = ro, .description = "The Group's displayName."},
    {.name = "type", .mut = ro, .description = "direct or indirect."},
}};
constexpr std::array<attribute_def, 4> member_subs{{
    {.name = "value", .case_exact = true, .mut = imm, .description = "The id of the member."},
    {.name = "$ref", .type = reference, .case_exact = true, .mut = imm, .description = "URI of the member.",
     .reference_types = user_ref},
    {.name = "display", .description = "The member's display name."},
    {.name = "type", .mut = imm, .description = "User or Group.", .canonical_values = user_ref},
}};
constexpr std::array<attribute_def, 5> meta_subs{{
    {.name = "resourceType", .case_exact = true, .mut = ro, .description = "User or Group."},
    {.name = "created", .type = date_time, .mut = ro, .description = "When the resource was created."},
    {.name = "lastModified", .type = date_time, .mut = ro, .description = "When it last changed."},
    {.name = "location", .type = reference, .case_exact = true, .mut = ro, .description = "Its URI."},
    {.name = "version", .case_exact = true, .mut = ro, .description = "Its ETag."},
}};
constexpr std::array<attribute_def, 3> manager_subs{{
    {.name = "value", .case_exact = true, .description = "The id of the manager's User."},
    {.name = "$ref", .type = reference, .case_exact = true, .description = "URI of the manager's User.",
     .reference_types = user_only_ref},
    {.name = "displayName", .mut = ro, .description = "The manager's displayName."},
}};

constexpr std::array<attribute_def, 3> common_attrs{{
    {.name = "id", .case_exact = true, .mut = ro, .ret = returned::always, .uniq = uniqueness::server,
     .description = "Identifier issued by the service provider."},
    {.name = "externalId", .case_exact = true, .description = "Identifier issued by the provisioning client."},
    {.name = "meta", .type = complex, .mut = ro, .sub_attributes = meta_subs, .description = "Resource metadata."},
}};

constexpr std::array<attribute_def, 21> user_attrs{{
    {.name = "userName", .required = true, .uniq = uniqueness::server, .description = "Unique login name."},
    {.name = "name", .type = complex, .sub_attributes = name_subs, .description = "The person's name."},
    {.name = "displayName", .description = "Name for display."},
    {.name = "nickName", .description = "Casual name."},
    {.name = "profileUrl", .type = reference, .case_exact = true, .description = "Profile URL.",
     .reference_types = external_ref},
    {.name = "title", .description = "Job title."},
    {.name = "userType", .description = "Relationship to the organisation, such as Employee."},
    {.name = "preferredLanguage", .description = "Preferred language (RFC 7231 Accept-Language)."},
    {.name = "locale", .description = "Default locale."},
    {.name = "timezone", .description = "Time zone (IANA name)."},
    {.name = "active", .type = boolean, .description = "Administrative status."},
    {.name = "password", .case_exact = true, .mut = wo, .ret = returned::never,
     .description = "Accepted and discarded: reclaim never stores passwords."},
    {.name = "emails", .type = complex, .multi_valued = true, .sub_attributes = email_subs,
     .description = "Email addresses."},
    {.name = "phoneNumbers", .type = complex, .multi_valued = true, .sub_attributes = phone_subs,
     .description = "Phone numbers."},
    {.name = "ims", .type = complex, .multi_valued = true, .sub_attributes = mv_string_subs,
     .description = "Instant messaging addresses."},
    {.name = "photos", .type = complex, .multi_valued = true, .sub_attributes = photo_subs,
     .description = "Photo URLs."},
    {.name = "addresses", .type = complex, .multi_valued = true, .sub_attributes = address_subs,
     .description = "Physical addresses."},
    {.name = "groups", .type = complex, .multi_valued = true, .mut = ro, .sub_attributes = user_group_subs,
     .description = "Groups the user belongs to (read-only)."},
    {.name = "entitlements", .type = complex, .multi_valued = true, .sub_attributes = mv_string_subs,
     .description = "Entitlements."},
    {.name = "roles", .type = complex, .multi_valued = true, .sub_attributes = mv_string_subs,
     .description = "Roles."},
    {.name = "x509Certificates", .type = complex, .multi_valued = true, .sub_attributes = cert_subs,
     .description = "Certificates."},
}};

constexpr std::array<attribute_def, 2> group_attrs{{
    {.name = "displayName", .required = true, .description = "Name of the Group."},
    {.name = "members", .type = complex, .multi_valued = true, .sub_attributes = member_subs,
     .description = "Members of the Group."},
}};

constexpr std::array<attribute_def, 6> enterprise_attrs{{
    {.name = "employeeNumber", .description = "Employee number."},
    {.name = "costCenter", .description = "Cost centre."},
    {.name = "organization", .description = "Organisation."},
    {.name = "division", .description = "Division."},
    {.name = "department", .description = "Department."},
    {.name = "manager", .type = complex, .sub_attributes = manager_subs,
     .description = "The user's manager (a complex value; a bare id string is accepted)."},
}};

constexpr std::array<attribute_def, 4> lifecycle_attrs{{
    {.name = "state", .description = "Lifecycle state for reclaim: active, leave, transferred, terminated, "
                                     "contract_ended, reactivated or deleted.",
     .canonical_values = lifecycle_states},
    {.name = "effectiveDate", .type = date_time, .description = "When the state takes effect."},
    {.name = "contractEndDate", .type = date_time, .description = "When the contract ends (a bare date is "
                                                                  "accepted and means midnight UTC)."},
    {.name = "legalHold", .type = boolean, .description = "Whether the person's accounts are under legal hold."},
}};

constexpr schema_def user_schema{user_urn, "User", "User Account", user_attrs};
constexpr schema_def group_schema{group_urn, "Group", "Group", group_attrs};
constexpr schema_def enterprise_schema{enterprise_user_urn, "EnterpriseUser", "Enterprise User", enterprise_attrs};
constexpr schema_def lifecycle_schema{lifecycle_user_urn, "LifecycleUser",
                                      "Lifecycle of a person as reclaim journals it", lifecycle_attrs};
constexpr std::array<const schema_def *, 2> user_extensions{&enterprise_schema, &lifecycle_schema};
constexpr std::array<const schema_def *, 4> all_schemas{&user_schema, &group_schema, &enterprise_schema,
                                                        &lifecycle_schema};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower(x) == lower(y);
         });
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = lower(c);
  return out;
}

const attribute_def *find_in(std::span<const attribute_def> attrs, std::string_view name) {
  for (const auto &a : attrs)
    if (iequals(a.name, name))
      return &a;
  return nullptr;
}

[[noreturn]] void fail(int status, const char *type, const std::string &detail) {
  throw scim_error(status, type, detail);
}

std::string type_name(attr_type t) {
  switch (t) {
  case string: return "string";
  case boolean: return "boolean";
  case decimal: return "decimal";
  case integer: return "integer";
  case date_time: return "dateTime";
  case binary: return "binary";
  case reference: return "reference";
  case complex: return "complex";
  }
  return "string";
}

// One value of a non-complex attribute, checked and in canonical form.
json scalar_value(const json &v, const attribute_def &def, const std::string &where) {
  auto wrong = [&]() -> json {
    fail(400, "invalidValue", where + " must be a " + type_name(def.type) + ", not " + v.type_name());
  };
  switch (def.type) {
  case boolean:
    if (v.is_boolean())
      return v;
    // Entra without aadOptscim062020 sends "True"/"False".
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      if (iequals(s, "true"))
        return true;
      if (iequals(s, "false"))
        return false;
    }
    return wrong();
  case integer:
    if (v.is_number_integer())
      return v;
    return wrong();
  case decimal:
    if (v.is_number())
      return v;
    return wrong();
  case date_time:
    if (!v.is_string())
      return wrong();
    if (!parse_date_time(v.get<std::string>()))
      fail(400, "invalidValue", where + " is not an xsd:dateTime such as 2026-03-01T09:30:00Z");
    return v;
  case complex:
    return wrong();
  case string:
  case binary:
  case reference:
    if (!v.is_string())
      return wrong();
    if (!def.canonical_values.empty() && &def == &lifecycle_attrs[0]) {
      // The lifecycle state must be a state the engine knows.
      const std::string s = lowered(v.get<std::string>());
      if (std::find(def.canonical_values.begin(), def.canonical_values.end(), s) == def.canonical_values.end())
        fail(400, "invalidValue", where + " is not a lifecycle state (active, leave, transferred, terminated, "
                                          "contract_ended, reactivated, deleted)");
      return s;
    }
    return v;
  }
  return wrong();
}

json single_value(const json &v, const attribute_def &def, const std::string &where);

json complex_value(const json &v, const attribute_def &def, const std::string &where) {
  if (v.is_string() && find_in(def.sub_attributes, "value")) // manager: "id" -> {"value":"id"}
    return json{{"value", v}};
  if (!v.is_object())
    fail(400, "invalidValue", where + " must be a complex value (object), not " + std::string(v.type_name()));
  json out = json::object();
  for (const auto &[key, sub] : v.items()) {
    const attribute_def *sd = find_in(def.sub_attributes, key);
    if (!sd)
      fail(400, "invalidSyntax", where + " has no sub-attribute '" + key + "'");
    const std::string name(sd->name);
    if (out.contains(name))
      fail(400, "invalidSyntax", where + "." + name + " is given twice");
    if (sd->mut == ro || sub.is_null())
      continue;
    json value = single_value(sub, *sd, where + "." + name);
    if (!value.is_null())
      out[name] = std::move(value);
  }
  if (out.empty())
    return nullptr;
  return out;
}

json single_value(const json &v, const attribute_def &def, const std::string &where) {
  if (v.is_null())
    return nullptr;
  if (def.type == complex)
    return complex_value(v, def, where);
  return scalar_value(v, def, where);
}

// Stable dedupe key of a multi-valued element: its "value" when it has one.
json element_key(const json &element) {
  if (element.is_object()) {
    auto it = element.find("value");
    if (it != element.end())
      return *it;
  }
  return element;
}

// Multi-valued attributes: a lone value is wrapped (a dialect), nulls and
// duplicates (same "value") are dropped, at most one element is primary.
json attribute_value(const json &v, const attribute_def &def, const std::string &where) {
  if (v.is_null())
    return nullptr;
  if (def.multi_valued) {
    json out = json::array();
    const json lone = v.is_array() ? json() : json::array({v});
    const json &items = v.is_array() ? v : lone;
    std::set<std::string> seen;
    // Members and groups are references: one per id, whatever their display.
    const bool by_value = def.name == "members" || def.name == "groups";
    bool primary = false;
    for (const auto &item : items) {
      json e = single_value(item, def, where);
      if (e.is_null())
        continue;
      if (!seen.insert((by_value ? element_key(e) : e).dump()).second)
        continue;
      if (e.is_object() && e.value("primary", false)) {
        if (primary)
          fail(400, "invalidValue", where + " has more than one primary value");
        primary = true;
      }
      out.push_back(std::move(e));
    }
    if (out.empty())
      return nullptr;
    return out;
  }
  if (v.is_array()) {
    // Entra sends manager as [{"value":"id","$ref":"..."}].
    if (v.size() == 1 && def.type == complex)
      return single_value(v[0], def, where);
    if (v.empty())
      return nullptr;
    fail(400, "invalidValue", where + " is single-valued but an array was given");
  }
  return single_value(v, def, where);
}

} // namespace

const schema_def *find_schema(std::string_view urn) {
  for (const schema_def *s : all_schemas)
    if (iequals(s->urn, urn))
      return s;
  return nullptr;
}

const schema_def &core_schema(resource_kind kind) { return kind == resource_kind::user ? user_schema : group_schema; }

std::span<const schema_def *const> extension_schemas(resource_kind kind) {
  if (kind == resource_kind::user)
    return user_extensions;
  return {};
}

std::span<const attribute_def> common_attributes() { return common_attrs; }

bool is_core(resource_kind kind, const schema_def &s) { return &s == &core_schema(kind); }

std::optional<resolved_attribute> find_attribute(resource_kind kind, std::string_view urn, std::string_view name) {
  const schema_def &core = core_schema(kind);
  if (urn.empty() || iequals(urn, core.urn)) {
    if (const attribute_def *a = find_in(common_attrs, name))
      return resolved_attribute{&core, a};
    if (const attribute_def *a = find_in(core.attributes, name))
      return resolved_attribute{&core, a};
    if (!urn.empty())
      return std::nullopt;
    std::optional<resolved_attribute> found;
    for (const schema_def *ext : extension_schemas(kind))
      if (const attribute_def *a = find_in(ext->attributes, name)) {
        if (found)
          return std::nullopt; // ambiguous
        found = resolved_attribute{ext, a};
      }
    return found;
  }
  for (const schema_def *ext : extension_schemas(kind))
    if (iequals(ext->urn, urn)) {
      if (const attribute_def *a = find_in(ext->attributes, name))
        return resolved_attribute{ext, a};
      return std::nullopt;
    }
  return std::nullopt;
}

const attribute_def *find_sub_attribute(const attribute_def &parent, std::string_view name) {
  return find_in(parent.sub_attributes, name);
}

void check_depth(const json &value, std::size_t max_depth) {
  std::vector<std::pair<const json *, std::size_t>> stack{{&value, 1}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured())
      continue;
    if (depth > max_depth)
      fail(400, "invalidSyntax", "JSON nested deeper than " + std::to_string(max_depth) + " levels");
    for (const auto &child : *v)
      stack.emplace_back(&child, depth + 1);
  }
}

json parse_body(std::string_view text, std::size_t max_depth) {
  bool too_deep = false;
  const json::parser_callback_t limit = [&](int depth, json::parse_event_t event, json &) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        static_cast<std::size_t>(depth) >= max_depth)
      too_deep = true;
    return !too_deep;
  };
  json out;
  try {
    out = json::parse(text.begin(), text.end(), limit);
  } catch (const json::exception &e) {
    fail(400, "invalidSyntax", std::string("malformed JSON: ") + e.what());
  }
  if (too_deep)
    fail(400, "invalidSyntax", "JSON nested deeper than " + std::to_string(max_depth) + " levels");
  return out;
}

json normalise(const json &body, resource_kind kind) {
  if (!body.is_object())
    fail(400, "invalidSyntax", std::string("a resource must be a JSON object, not ") + body.type_name());
  const schema_def &core = core_schema(kind);
  json out = json::object();
  std::set<std::string> seen; // "<urn>:<name>" in lower case
  const auto put = [&](const schema_def &s, const attribute_def &a, const json &v) {
    const std::string canonical(a.name);
    if (!seen.insert(lowered(std::string(s.urn) + ":" + canonical)).second)
      fail(400, "invalidSyntax", canonical + " is given twice");
    if (a.mut == ro || a.ret == returned::never)
      return; // id, meta, groups: server-assigned; password: never kept
    json value = attribute_value(v, a, canonical);
    if (value.is_null())
      return;
    if (is_core(kind, s))
      out[canonical] = std::move(value);
    else
      out[std::string(s.urn)][canonical] = std::move(value);
  };
  for (const auto &[key, v] : body.items()) {
    if (iequals(key, "schemas")) {
      if (!v.is_array() || !std::all_of(v.begin(), v.end(), [](const json &s) { return s.is_string(); }))
        fail(400, "invalidSyntax", "schemas must be an array of URN strings");
      continue; // recomputed below; unknown URNs listed here are ignored (Entra's ADSCIM Group URN)
    }
    if (const schema_def *ext = find_schema(key); ext && !is_core(kind, *ext)) {
      const auto exts = extension_schemas(kind);
      if (std::find(exts.begin(), exts.end(), ext) == exts.end())
        fail(400, "invalidSyntax", "schema " + std::string(ext->urn) + " does not apply to this resource");
      if (v.is_null())
        continue;
      if (!v.is_object())
        fail(400, "invalidSyntax", std::string(ext->urn) + " must be an object");
      if (!seen.insert(lowered(ext->urn)).second)
        fail(400, "invalidSyntax", std::string(ext->urn) + " is given twice");
      for (const auto &[name, ev] : v.items()) {
        const attribute_def *a = find_in(ext->attributes, name);
        if (!a)
          fail(400, "invalidSyntax", std::string(ext->urn) + " has no attribute '" + name + "'");
        put(*ext, *a, ev);
      }
      continue;
    }
    if (key.rfind("urn:", 0) == 0 || key.rfind("URN:", 0) == 0) {
      if (v.is_null() || (v.is_object() && v.empty()))
        continue;
      fail(400, "invalidSyntax", "unknown schema extension '" + key + "'");
    }
    // An empty URN also finds extension attributes sent at the root: Entra's
    // create bodies carry "manager": null there.
    const auto found = find_attribute(kind, "", key);
    if (!found)
      fail(400, "invalidSyntax", "unknown attribute '" + key + "' for " + std::string(core.name));
    put(*found->schema, *found->attribute, v);
  }
  for (const auto &a : core.attributes)
    if (a.required && !out.contains(std::string(a.name)))
      fail(400, "invalidValue", std::string(a.name) + " is required");
  if (kind == resource_kind::user && out["userName"].get_ref<const std::string &>().empty())
    fail(400, "invalidValue", "userName must not be empty");
  json schemas = json::array({std::string(core.urn)});
  for (const schema_def *ext : extension_schemas(kind))
    if (out.contains(std::string(ext->urn)))
      schemas.push_back(std::string(ext->urn));
  out["schemas"] = std::move(schemas);
  return out;
}

namespace {

std::vector<std::string_view> split_list(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (!item.empty())
      out.push_back(item);
    if (comma == std::string_view::npos)
      break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<attribute_path> projection_path(std::string_view text, resource_kind kind) {
  try {
    attribute_path p = parse_path(text, kind);
    if (p.value_filter)
      return std::nullopt;
    return p;
  } catch (const scim_error &) {
    return std::nullopt; // RFC 7644 §3.4.2.5 names no error: unknown names select nothing
  }
}

json *container_for_write(json &out, const attribute_path &p) {
  if (p.in_core)
    return &out;
  return &out[p.urn];
}

void copy_selected(const json &resource, json &out, const attribute_path &p) {
  if (p.attribute.empty()) {
    if (auto it = resource.find(p.urn); it != resource.end())
      out[p.urn] = *it;
    return;
  }
  const json *from = container_of(resource, p);
  if (!from)
    return;
  auto it = from->find(p.attribute);
  if (it == from->end())
    return;
  json &to = *container_for_write(out, p);
  if (p.sub_attribute.empty()) {
    to[p.attribute] = *it;
    return;
  }
  if (it->is_object()) {
    if (auto s = it->find(p.sub_attribute); s != it->end())
      to[p.attribute][p.sub_attribute] = *s;
  } else if (it->is_array()) {
    // emails.value: each element with only that sub-attribute
    json &target = to[p.attribute];
    json merged = target.is_array() ? target : json::array();
    merged.get_ref<json::array_t &>().resize(it->size(), json::object());
    for (std::size_t i = 0; i < it->size(); ++i)
      if ((*it)[i].is_object())
        if (auto s = (*it)[i].find(p.sub_attribute); s != (*it)[i].end())
          merged[i][p.sub_attribute] = *s;
    target = std::move(merged);
  }
}

void erase_selected(json &out, const attribute_path &p) {
  if (p.attribute.empty()) {
    out.erase(p.urn);
    return;
  }
  if (p.def->ret == returned::always)
    return;
  json *in = p.in_core ? &out : (out.contains(p.urn) ? &out[p.urn] : nullptr);
  if (!in || !in->is_object())
    return;
  auto it = in->find(p.attribute);
  if (it == in->end())
    return;
  if (p.sub_attribute.empty()) {
    in->erase(it);
  } else if (it->is_object()) {
    it->erase(p.sub_attribute);
  } else if (it->is_array()) {
    for (auto &e : *it)
      if (e.is_object())
        e.erase(p.sub_attribute);
  }
  if (!p.in_core && in->empty())
    out.erase(p.urn);
}

} // namespace

json project(const json &resource, resource_kind kind, std::string_view attributes,
             std::string_view excluded_attributes) {
  json out;
  const auto wanted = split_list(attributes);
  if (!wanted.empty()) {
    out = json::object();
    for (const char *always : {"id", "schemas"})
      if (auto it = resource.find(always); it != resource.end())
        out[always] = *it;
    for (std::string_view w : wanted)
      if (auto p = projection_path(w, kind))
        copy_selected(resource, out, *p);
  } else {
    out = resource;
  }
  for (std::string_view x : split_list(excluded_attributes))
    if (auto p = projection_path(x, kind))
      erase_selected(out, *p);
  out.erase("password");
  return out;
}

namespace {

// `n` decimal digits at text[at], or -1.
int digits(std::string_view text, std::size_t at, std::size_t n) {
  if (at + n > text.size())
    return -1;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9')
      return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

} // namespace

// xsd:dateTime read strictly: YYYY-MM-DD, then optionally Thh:mm:ss, an
// optional fraction and Z or ±hh:mm (a time without a zone is refused: it
// would not name an instant).
std::optional<long long> parse_date_time(std::string_view text) {
  using namespace std::chrono;
  if (text.size() < 10 || text.size() > 40 || text[4] != '-' || text[7] != '-')
    return std::nullopt;
  const int y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
  if (y < 0 || mo < 0 || d < 0)
    return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok())
    return std::nullopt;
  long long ms = duration_cast<milliseconds>(sys_days{ymd}.time_since_epoch()).count();
  if (text.size() == 10)
    return ms;
  if ((text[10] != 'T' && text[10] != 't') || text.size() < 20 || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  const int h = digits(text, 11, 2), mi = digits(text, 14, 2), sec = digits(text, 17, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
    return std::nullopt;
  ms += ((h * 60LL + mi) * 60LL + sec) * 1000LL;
  std::size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    std::size_t j = i + 1;
    long long frac = 0, scale = 1;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') {
      if (scale < 1000) {
        frac = frac * 10 + (text[j] - '0');
        scale *= 10;
      }
      ++j;
    }
    if (j == i + 1)
      return std::nullopt;
    ms += frac * 1000 / scale;
    i = j;
  }
  if (i + 1 == text.size() && (text[i] == 'Z' || text[i] == 'z'))
    return ms;
  if (i + 6 != text.size() || (text[i] != '+' && text[i] != '-') || text[i + 3] != ':')
    return std::nullopt;
  const int oh = digits(text, i + 1, 2), om = digits(text, i + 4, 2);
  if (oh < 0 || oh > 23 || om < 0 || om > 59)
    return std::nullopt;
  const long long offset = (oh * 60LL + om) * 60000LL;
  return text[i] == '+' ? ms - offset : ms + offset;
}

namespace {

std::string_view mutability_name(mutability m) {
  switch (m) {
  case mutability::read_only: return "readOnly";
  case mutability::read_write: return "readWrite";
  case mutability::immutable: return "immutable";
  case mutability::write_only: return "writeOnly";
  }
  return "readWrite";
}

std::string_view returned_name(returned r) {
  switch (r) {
  case returned::always: return "always";
  case returned::never: return "never";
  case returned::by_default: return "default";
  case returned::request: return "request";
  }
  return "default";
}

std::string_view uniqueness_name(uniqueness u) {
  switch (u) {
  case uniqueness::none: return "none";
  case uniqueness::server: return "server";
  case uniqueness::global: return "global";
  }
  return "none";
}

json attribute_document(const attribute_def &a) {
  json d = {{"name", a.name},
            {"type", type_name(a.type)},
            {"multiValued", a.multi_valued},
            {"description", a.description},
            {"required", a.required},
            {"caseExact", a.case_exact},
            {"mutability", mutability_name(a.mut)},
            {"returned", returned_name(a.ret)},
            {"uniqueness", uniqueness_name(a.uniq)}};
  if (!a.canonical_values.empty())
    d["canonicalValues"] = std::vector<std::string>(a.canonical_values.begin(), a.canonical_values.end());
  if (!a.reference_types.empty())
    d["referenceTypes"] = std::vector<std::string>(a.reference_types.begin(), a.reference_types.end());
  if (a.type == complex) {
    json subs = json::array();
    for (const auto &s : a.sub_attributes)
      subs.push_back(attribute_document(s));
    d["subAttributes"] = std::move(subs);
  }
  return d;
}

json schema_document(const schema_def &s) {
  json attrs = json::array();
  for (const auto &a : s.attributes)
    attrs.push_back(attribute_document(a));
  return {{"schemas", {schema_urn}},
          {"id", s.urn},
          {"name", s.name},
          {"description", s.description},
          {"attributes", std::move(attrs)},
          {"meta", {{"resourceType", "Schema"}, {"location", "/Schemas/" + std::string(s.urn)}}}};
}

json list_response(json resources) {
  const auto n = resources.size();
  return {{"schemas", {list_urn}},
          {"totalResults", n},
          {"startIndex", 1},
          {"itemsPerPage", n},
          {"Resources", std::move(resources)}};
}

} // namespace

json service_provider_config(bool bulk_supported, bool sort_supported, std::size_t max_results) {
  return {{"schemas", {service_provider_config_urn}},
          {"documentationUri", "https://github.com/reclaim/reclaim/blob/main/docs/scim.md"},
          {"patch", {{"supported", true}}},
          {"bulk",
           {{"supported", bulk_supported},
            {"maxOperations", bulk_supported ? 1000 : 0},
            {"maxPayloadSize", bulk_supported ? 1048576 : 0}}},
          {"filter", {{"supported", true}, {"maxResults", max_results}}},
          {"changePassword", {{"supported", false}}},
          {"sort", {{"supported", sort_supported}}},
          {"etag", {{"supported", true}}},
          {"authenticationSchemes",
           {{{"type", "oauthbearertoken"},
             {"name", "Bearer token"},
             {"description", "A bearer token issued by the reclaim administrator (RFC 6750)."},
             {"primary", true}}}},
          {"meta", {{"resourceType", "ServiceProviderConfig"}, {"location", "/ServiceProviderConfig"}}}};
}

json schemas_document() {
  json all = json::array();
  for (const schema_def *s : all_schemas)
    all.push_back(schema_document(*s));
  return list_response(std::move(all));
}

json schema(std::string_view urn) {
  const schema_def *s = find_schema(urn);
  if (!s)
    fail(404, "", "no schema " + std::string(urn.substr(0, 200)));
  return schema_document(*s);
}

json resource_types(std::string_view base_url) {
  std::string base(base_url);
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  json user = {{"schemas", {resource_type_urn}},
               {"id", "User"},
               {"name", "User"},
               {"endpoint", "/Users"},
               {"description", "User Account"},
               {"schema", user_urn},
               {"schemaExtensions",
                {{{"schema", enterprise_user_urn}, {"required", false}},
                 {{"schema", lifecycle_user_urn}, {"required", false}}}},
               {"meta", {{"resourceType", "ResourceType"}, {"location", base + "/ResourceTypes/User"}}}};
  json group = {{"schemas", {resource_type_urn}},
                {"id", "Group"},
                {"name", "Group"},
                {"endpoint", "/Groups"},
                {"description", "Group"},
                {"schema", group_urn},
                {"schemaExtensions", json::array()},
                {"meta", {{"resourceType", "ResourceType"}, {"location", base + "/ResourceTypes/Group"}}}};
  return list_response(json::array({std::move(user), std::move(group)}));
}

namespace {

// The value sortBy orders by: the attribute, its primary (else first)
// element when multi-valued, then the sub-attribute (or "value").
const json *sort_value(const json &resource, const attribute_path &p) {
  const json *c = container_of(resource, p);
  if (!c)
    return nullptr;
  auto it = c->find(p.attribute);
  if (it == c->end())
    return nullptr;
  const json *v = &*it;
  if (v->is_array()) {
    if (v->empty())
      return nullptr;
    const json *pick = &(*v)[0];
    for (const auto &e : *v)
      if (e.is_object() && e.value("primary", false) == true) {
        pick = &e;
        break;
      }
    v = pick;
  }
  if (v->is_object()) {
    const std::string sub = p.sub_attribute.empty() ? "value" : p.sub_attribute;
    auto s = v->find(sub);
    if (s == v->end())
      return nullptr;
    v = &*s;
  }
  return v->is_null() ? nullptr : v;
}

int sign(long long d) { return d < 0 ? -1 : (d > 0 ? 1 : 0); }

} // namespace

int compare_by(const json &a, const json &b, std::string_view attribute_path_text, resource_kind kind) {
  const attribute_path p = parse_path(attribute_path_text, kind);
  if (p.value_filter || p.attribute.empty())
    fail(400, "invalidPath", "sortBy takes an attribute path without a filter");
  const attribute_def &leaf = p.sub_def ? *p.sub_def
                              : (p.def->type == complex && find_sub_attribute(*p.def, "value"))
                                  ? *find_sub_attribute(*p.def, "value")
                                  : *p.def;
  const json *x = sort_value(a, p);
  const json *y = sort_value(b, p);
  if (!x || !y)
    return (x ? -1 : 0) + (y ? 1 : 0); // unassigned last
  if (x->is_string() && y->is_string()) {
    const auto &xs = x->get_ref<const std::string &>();
    const auto &ys = y->get_ref<const std::string &>();
    if (leaf.type == date_time) {
      const auto xt = parse_date_time(xs), yt = parse_date_time(ys);
      if (xt && yt)
        return sign(*xt - *yt);
    }
    const int c = leaf.case_exact ? xs.compare(ys) : lowered(xs).compare(lowered(ys));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (x->is_number() && y->is_number()) {
    const double xd = x->get<double>(), yd = y->get<double>();
    return xd < yd ? -1 : (xd > yd ? 1 : 0);
  }
  if (x->is_boolean() && y->is_boolean())
    return static_cast<int>(x->get<bool>()) - static_cast<int>(y->get<bool>());
  return 0;
}

} // namespace reclaim::scim
