// fuzz_scim_resource.cpp — parse_body (depth 64, UTF-8) and normalise() of
// arbitrary bodies as Users and Groups: only scim_error may escape, the
// stored form is a fixed point of normalise(), and projection and sortBy
// work on it.
#include "scim/scim_schema.hpp"

#include <cstdint>
#include <cstdlib>

using namespace reclaim::scim;
using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json body;
  try {
    body = parse_body(std::string_view(reinterpret_cast<const char *>(data), size), 64);
  } catch (const scim_error &e) {
    (void)error_body(e).dump(); // the host must be able to send every error
    if (e.status != 400 || e.scim_type != "invalidSyntax")
      std::abort();
    return 0;
  }
  for (const auto kind : {resource_kind::user, resource_kind::group}) {
    json stored;
    try {
      stored = normalise(body, kind);
    } catch (const scim_error &e) {
      (void)error_body(e).dump(); // the host must be able to send every error
      if (e.status != 400 || (e.scim_type != "invalidSyntax" && e.scim_type != "invalidValue"))
        std::abort();
      continue;
    }
    if (normalise(stored, kind) != stored)
      std::abort();
    stored["id"] = "x";
    const json p = project(stored, kind, "", "members,emails.value,name.givenName");
    if (!p.contains("id") || p.contains("members") || p.contains("password"))
      std::abort();
    (void)project(stored, kind, "displayName,userName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "");
    (void)compare_by(stored, body.is_object() ? body : stored, "displayName", kind);
  }
  return 0;
}
