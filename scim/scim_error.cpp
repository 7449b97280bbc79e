// scim_error.cpp — scim_error and the RFC 7644 §3.12 Error body.
#include "scim/scim_error.hpp"

#include "scim/scim_protocol.hpp"

#include <utility>

namespace reclaim::scim {

scim_error::scim_error(int status_, std::string scim_type_, const std::string &detail)
    : std::runtime_error(detail), status(status_), scim_type(std::move(scim_type_)) {}

nlohmann::json error_body(int status, const std::string &scim_type, const std::string &detail) {
  nlohmann::json body = {{"schemas", {error_urn}}, {"status", std::to_string(status)}};
  if (!scim_type.empty())
    body["scimType"] = scim_type;
  body["detail"] = detail;
  return body;
}

} // namespace reclaim::scim
