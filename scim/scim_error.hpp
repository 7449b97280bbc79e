// scim_error.hpp — the one error type of the SCIM service-provider pieces:
// an HTTP status and an RFC 7644 §3.12 scimType, turned by the host into an
// Error body (error_body) with the status as a string, as the RFC writes it.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace reclaim::scim {

// status: 400 with scimType invalidFilter, invalidPath, invalidValue,
// invalidSyntax, noTarget, mutability, tooMany, invalidVers; 409 uniqueness;
// 404 (no scimType) for an unknown schema. detail is safe to show a client.
struct scim_error : std::runtime_error {
  int status;
  std::string scim_type; // "" when the RFC has none for this status
  scim_error(int status, std::string scim_type, const std::string &detail);
};

// {"schemas":[Error URN],"status":"400","scimType":"...","detail":"..."};
// scimType is left out when empty.
nlohmann::json error_body(int status, const std::string &scim_type, const std::string &detail);
inline nlohmann::json error_body(const scim_error &e) { return error_body(e.status, e.scim_type, e.what()); }

} // namespace reclaim::scim
