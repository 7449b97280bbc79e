// scim_protocol.cpp — strict readers and small builders for SCIM 2.0
// messages; every malformed answer becomes a protocol_error naming what was
// wrong, so a connector can report it instead of acting on a guess.
#include "scim_protocol.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace reclaim::scim {

using json = nlohmann::json;

json patch_active(bool active) {
  return {{"schemas", {patch_urn}}, {"Operations", {{{"op", "replace"}, {"path", "active"}, {"value", active}}}}};
}

std::string filter_user_name(const std::string &user_name) {
  std::string v;
  for (char c : user_name) {
    if (c == '"' || c == '\\') v += '\\';
    v += c;
  }
  return "userName eq \"" + v + "\"";
}

user parse_user(const json &b) {
  if (!b.is_object()) throw protocol_error("a SCIM User must be a JSON object");
  if (!b.contains("id") || !b["id"].is_string()) throw protocol_error("SCIM User without a string \"id\"");
  user u;
  u.id = b["id"].get<std::string>();
  if (b.contains("userName") && b["userName"].is_string()) u.user_name = b["userName"].get<std::string>();
  if (b.contains("active")) {
    if (!b["active"].is_boolean()) throw protocol_error("SCIM User \"active\" is not a boolean");
    u.active = b["active"].get<bool>();
  }
  if (b.contains("meta") && b["meta"].is_object() && b["meta"].contains("version") && b["meta"]["version"].is_string())
    u.version = b["meta"]["version"].get<std::string>();
  return u;
}

std::vector<user> parse_list(const json &b) {
  if (!b.is_object()) throw protocol_error("a ListResponse must be a JSON object");
  const auto &schemas = b.contains("schemas") ? b["schemas"] : json();
  if (!schemas.is_array() || std::find(schemas.begin(), schemas.end(), json(list_urn)) == schemas.end())
    throw protocol_error("answer is not a SCIM ListResponse (schemas lacks the ListResponse URN)");
  if (!b.contains("totalResults") || !b["totalResults"].is_number_integer())
    throw protocol_error("ListResponse totalResults is not an integer");
  std::vector<user> out;
  if (b["totalResults"].get<int64_t>() == 0) return out;
  if (!b.contains("Resources") || !b["Resources"].is_array()) throw protocol_error("ListResponse without Resources");
  for (const auto &r : b["Resources"]) out.push_back(parse_user(r));
  return out;
}

std::optional<std::string> parse_error(const json &b) {
  if (!b.is_object() || !b.contains("schemas") || !b["schemas"].is_array()) return std::nullopt;
  const auto &s = b["schemas"];
  if (std::find(s.begin(), s.end(), json(error_urn)) == s.end()) return std::nullopt;
  std::string status;
  if (b.contains("status") && b["status"].is_string()) status = b["status"].get<std::string>();
  else if (b.contains("status") && b["status"].is_number_integer()) status = std::to_string(b["status"].get<int64_t>());
  const auto type = b.contains("scimType") && b["scimType"].is_string() ? b["scimType"].get<std::string>() : "";
  const auto detail = b.contains("detail") && b["detail"].is_string() ? b["detail"].get<std::string>() : "";
  return fmt::format("{}{}{} (status {})", type, type.empty() ? "" : ": ", detail.empty() ? "no detail" : detail,
                     status.empty() ? "?" : status);
}

} // namespace reclaim::scim
