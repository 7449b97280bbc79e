// scim_patch.hpp — RFC 7644 §3.5.2 PATCH applied to a stored resource, with
// the identity providers' dialects (vendor-apis.md §4): op names in any
// case, booleans as strings, Okta's path-less {"active": false}, path-less
// values with dotted or URN keys, Entra's removal of members by a value
// array, manager as a bare string or a one-element array.
#pragma once

#include "scim/scim_schema.hpp"

#include <nlohmann/json.hpp>

namespace reclaim::scim {

inline constexpr std::size_t max_patch_operations = 1000;

// Returns the new resource, normalised like normalise(), with id and meta
// kept from `resource` (the host updates meta). Throws scim_error:
// invalidSyntax (body is not a PatchOp, bad op, too many operations),
// invalidPath (unknown or malformed path), invalidFilter (bad value filter),
// noTarget (remove without path; replace whose value filter matches nothing),
// invalidValue (wrong type, missing value), mutability (writing id or meta,
// removing a required attribute). A remove that matches nothing succeeds; a
// value made primary demotes the attribute's other values (RFC 7644 §3.5.2).
nlohmann::json apply_patch(const nlohmann::json &resource, const nlohmann::json &patch_body, resource_kind kind);

} // namespace reclaim::scim
