// fuzz_scim_filter.cpp — filter::parse on arbitrary text for Users and
// Groups, then matching on fixed resources: only scim_error may escape, and
// a filter that parses evaluates without throwing; every error serialises.
#include "scim/scim_filter.hpp"

#include <cstdint>
#include <cstdlib>

using namespace reclaim::scim;

namespace {

const nlohmann::json &user() {
  static const nlohmann::json u = [] {
    auto r = normalise(nlohmann::json::parse(R"({"userName":"bjensen","active":false,"title":"Guide",
      "name":{"givenName":"Barbara"},"emails":[{"value":"b@x.org","type":"work","primary":true},{"value":"c"}],
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Tours","manager":"m1"},
      "urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User":{"state":"leave","legalHold":true,
        "effectiveDate":"2026-03-01T00:00:00Z"}})"),
                       resource_kind::user);
    r["id"] = "u1";
    r["meta"] = {{"lastModified", "2026-03-01T09:30:00+01:00"}, {"created", "2026-01-01T00:00:00Z"}};
    return r;
  }();
  return u;
}

const nlohmann::json &group() {
  static const nlohmann::json g = normalise(
      nlohmann::json::parse(R"({"displayName":"G","members":[{"value":"u1","display":"B"},{"value":"u2"}]})"),
      resource_kind::group);
  return g;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  for (const auto kind : {resource_kind::user, resource_kind::group}) {
    std::shared_ptr<const filter> f;
    try {
      f = filter::parse(text, kind);
    } catch (const scim_error &e) {
      (void)error_body(e).dump(); // the host must be able to send every error
      if (e.status != 400 || e.scim_type != "invalidFilter")
        std::abort();
      continue;
    }
    const auto &r = kind == resource_kind::user ? user() : group();
    (void)f->matches(r);
    (void)f->matches(nlohmann::json::object());
    if (const auto eq = f->simple_equality(); eq && eq->first.empty())
      std::abort();
  }
  return 0;
}
