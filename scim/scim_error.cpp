// scim_error.cpp — scim_error and the RFC 7644 §3.12 Error body.
#include "scim/scim_error.hpp"

#include "scim/scim_protocol.hpp"

#include <utility>

namespace reclaim::scim {
namespace {

// A detail quotes the client's input, which may be any bytes: invalid UTF-8
// becomes U+FFFD (nlohmann's replace handler), or the Error body could not
// be serialised.
std::string valid_utf8(const std::string &text) {
  const auto quoted = nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(quoted).get<std::string>();
}

} // namespace

scim_error::scim_error(int status_, std::string scim_type_, const std::string &detail)
    : std::runtime_error(valid_utf8(detail)), status(status_), scim_type(std::move(scim_type_)) {}

nlohmann::json error_body(int status, const std::string &scim_type, const std::string &detail) {
  nlohmann::json body = {{"schemas", {error_urn}}, {"status", std::to_string(status)}};
  if (!scim_type.empty())
    body["scimType"] = scim_type;
  body["detail"] = valid_utf8(detail);
  return body;
}

} // namespace reclaim::scim
