// fuzz_scim_patch.cpp — parse_body then apply_patch on a fixed User and a
// fixed Group: only scim_error may escape, and a PATCH that succeeds yields a
// resource normalise() accepts unchanged (the stored form is a fixed point).
#include "scim/scim_patch.hpp"

#include <cstdint>
#include <cstdlib>

using namespace reclaim::scim;
using nlohmann::json;

namespace {

json with_id(json r, const char *id) {
  r["id"] = id;
  r["meta"] = {{"resourceType", "x"}, {"version", "W/\"1\""}};
  return r;
}

const json &user() {
  static const json u = with_id(
      normalise(json::parse(R"({"userName":"bjensen","active":true,"name":{"givenName":"B","familyName":"J"},
        "emails":[{"value":"b@x.org","type":"work","primary":true},{"value":"h@y.org","type":"home"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Tours","manager":"m1"}})"),
                resource_kind::user),
      "u1");
  return u;
}

const json &group() {
  static const json g = with_id(
      normalise(json::parse(R"({"displayName":"G","members":[{"value":"u1"},{"value":"u2","display":"x"}]})"),
                resource_kind::group),
      "g1");
  return g;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json body;
  try {
    body = parse_body(std::string_view(reinterpret_cast<const char *>(data), size), 64);
  } catch (const scim_error &e) {
    (void)error_body(e).dump(); // the host must be able to send every error
    return 0;
  }
  for (const auto kind : {resource_kind::user, resource_kind::group}) {
    const json &r = kind == resource_kind::user ? user() : group();
    json out;
    try {
      out = apply_patch(r, body, kind);
    } catch (const scim_error &e) {
      (void)error_body(e).dump(); // the host must be able to send every error
      if (e.status != 400 || e.scim_type.empty())
        std::abort();
      continue;
    }
    if (out["id"] != r["id"] || out["meta"] != r["meta"])
      std::abort();
    json again = normalise(out, kind); // must not throw
    again["id"] = out["id"];
    again["meta"] = out["meta"];
    if (again != out)
      std::abort();
  }
  return 0;
}
