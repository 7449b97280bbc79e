// test_audit_reason.cpp — audit::reason_code, the only part of a connector's
// message an action_outcome keeps in clear: a table of the messages the
// connectors and the HTTP client produce, each mapped to one code of
// audit::reason_codes.
#include "audit/audit_points.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

using reclaim::audit::reason_code;

BOOST_AUTO_TEST_CASE(connector_messages_map_to_fixed_reason_codes) {
  struct row {
    const char *outcome, *message;
    bool throttled;
    const char *code;
  };
  const row rows[] = {
      {"done", "SCIM user active=false", false, "ok"},
      {"already_done", "no SCIM user alice@example.com at the service provider", false, "ok"},
      {"permanent_failure", "SCIM search for alice@example.com: HTTP 404: not found", false, "not_found"},
      {"permanent_failure", "PATCH https://graph/v1.0/users/alice%40example.com: HTTP 403: Insufficient privileges",
       false, "unauthorized"},
      {"permanent_failure", "SCIM PATCH User s-1: HTTP 401 (the access token was refused twice; check the credential)",
       false, "unauthorized"},
      {"transient_failure", "SCIM ETag mismatch (412): the user changed since it was read", false, "conflict"},
      {"transient_failure", "SCIM search for a@b: answer refused (412 bytes): too deep", false, "bad_answer"},
      {"permanent_failure", "POST https://x/$batch: HTTP 409: conflict for bob", false, "conflict"},
      {"transient_failure", "SCIM search for a@b: HTTP 429: slow down", false, "throttled"},
      {"transient_failure", "reading the user: HTTP 503: busy", false, "throttled"},
      {"transient_failure", "Graph batch item", true, "throttled"},
      {"permanent_failure", "SCIM PATCH User s-2: HTTP 400: mutability: read-only (status 400)", false, "refused"},
      {"transient_failure", "SCIM search for a@b: HTTP 502: bad gateway", false, "vendor_error"},
      {"transient_failure", "unexpected vendor answer: [json.exception.parse_error.101]", false, "bad_answer"},
      {"transient_failure", "GET http://127.0.0.1:1/scim/v2/Users?filter=userName%20eq%20%22a%40b%22: Couldn't "
                            "connect to server", false, "transport"},
      {"permanent_failure", "GET https://x/: SSL peer certificate or SSH remote key was not OK", false, "tls"},
      {"permanent_failure", "uid=grace,dc=example,dc=com has no mail attribute to address them at the vendor", false,
       "refused"},
      {"permanent_failure", "/etc/reclaim/graph.secret: the credential file is readable by others", false,
       "unauthorized"},
      {"something_else", "?", false, "failed"},
  };
  for (const auto &r : rows) {
    const auto code = reason_code(r.outcome, r.message, r.throttled);
    BOOST_TEST(code == r.code, r.message << " -> " << code);
    BOOST_TEST(std::count(reclaim::audit::reason_codes.begin(), reclaim::audit::reason_codes.end(), code) == 1);
  }
}
