// scim_protocol.hpp — the SCIM 2.0 pieces a SCIM client needs (RFC 7643,
// 7644): message URNs, the PatchOp that sets `active`, reading a
// ListResponse and a User strictly (wrong types are errors, not guesses),
// the filter for a userName lookup, and the Error schema turned into one
// readable line for an action's failure reason.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reclaim::scim {

inline constexpr const char *user_urn = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr const char *patch_urn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr const char *list_urn = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr const char *error_urn = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr const char *media_type = "application/scim+json";

// The answer does not follow the protocol.
class protocol_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct user {
  std::string id, user_name, version; // version: meta.version (an ETag) or ""
  bool active = true;
};

// {"schemas":[PatchOp],"Operations":[{"op":"replace","path":"active","value":v}]}
nlohmann::json patch_active(bool active);
// userName eq "value", with " and \ escaped.
std::string filter_user_name(const std::string &user_name);
// The Resources of a ListResponse (totalResults etc. must be integers).
std::vector<user> parse_list(const nlohmann::json &body);
user parse_user(const nlohmann::json &body);
// "scimType: detail (status N)" from an Error body, or nullopt if the body
// is not one; status may be a string (RFC) or a number (Okta).
std::optional<std::string> parse_error(const nlohmann::json &body);

} // namespace reclaim::scim
