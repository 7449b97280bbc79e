// test_scimd_http.cpp — every endpoint of reclaim-scimd over HTTP: discovery,
// Users and Groups CRUD, list/filter/paging, ETags, auth and roles, bad
// input (each answered and nothing recorded), the Entra and Okta sequences
// of vendor-apis.md §4 and the events they journal, restart durability.
#include "scimd_harness.hpp"

#include <boost/test/unit_test.hpp>
#include <curl/curl.h>

using namespace reclaim::test;
using json = nlohmann::json;

namespace {

const std::string user_urn = "urn:ietf:params:scim:schemas:core:2.0:User";
const std::string ent_urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const std::string patch_urn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

std::string new_user(const std::string &name, const std::string &ext = "") {
  json u = {{"schemas", {user_urn, ent_urn}},
            {"userName", name},
            {"active", true},
            {"displayName", name},
            {"emails", {{{"value", name}, {"type", "work"}, {"primary", true}}}},
            {ent_urn, {{"employeeNumber", "E-" + name}, {"department", "Research"}}}};
  if (!ext.empty()) u["externalId"] = ext;
  return u.dump();
}

std::string patch(const json &ops) { return json{{"schemas", {patch_urn}}, {"Operations", ops}}.dump(); }

std::string escape(const std::string &s) {
  char *e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
  std::string out(e);
  curl_free(e);
  return out;
}

std::string describe(const http_reply &r) { return std::to_string(r.status) + " " + r.error + " " + r.body; }

// Events of one subject, in journal order, as "state" strings.
std::vector<std::string> states_of(const std::vector<journal_event> &events, const std::string &subject) {
  std::vector<std::string> out;
  for (const auto &e : events)
    if (e.subject_id == subject) out.push_back(e.state);
  return out;
}

struct started : scimd_instance {
  explicit started(const std::string &extra = "", const std::string &toml = "") : scimd_instance(extra, toml) { start(); }
};

} // namespace

BOOST_AUTO_TEST_CASE(discovery_endpoints) {
  started s;
  auto r = s.request("GET", "/scim/v2/ServiceProviderConfig");
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.header("content-type").find("application/scim+json") == 0u);
  BOOST_TEST(r.json()["bulk"]["supported"] == false);
  r = s.request("GET", "/scim/v2/Schemas", "", reader_token);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["totalResults"].get<int>() >= 4);
  r = s.request("GET", "/scim/v2/Schemas/" + ent_urn);
  BOOST_TEST(r.status == 200, describe(r));
  r = s.request("GET", "/scim/v2/Schemas/urn:nope");
  BOOST_TEST(r.status == 404, describe(r));
  r = s.request("GET", "/scim/v2/ResourceTypes");
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["Resources"].size() == 2u);
  r = s.request("GET", "/scim/v2/ResourceTypes/User");
  BOOST_TEST(r.status == 200, describe(r));
  r = s.request("POST", "/scim/v2/Bulk", "{}");
  BOOST_TEST(r.status == 501, describe(r));
  r = s.request("GET", "/scim/v2/Nothing");
  BOOST_TEST(r.status == 404, describe(r));
  BOOST_TEST(r.json()["schemas"][0] == "urn:ietf:params:scim:api:messages:2.0:Error");
}

BOOST_AUTO_TEST_CASE(authentication_and_roles_record_nothing) {
  started s;
  auto r = s.request("POST", "/scim/v2/Users", new_user("nobody@example.com"), "");
  BOOST_TEST(r.status == 401, describe(r));
  BOOST_TEST(r.header("www-authenticate").find("Bearer") == 0u);
  r = s.request("POST", "/scim/v2/Users", new_user("nobody@example.com"), "wrong-token");
  BOOST_TEST(r.status == 401, describe(r));
  r = s.request("GET", "/scim/v2/Users", "", "wrong-token");
  BOOST_TEST(r.status == 401, describe(r));
  r = s.request("POST", "/scim/v2/Users", new_user("nobody@example.com"), reader_token);
  BOOST_TEST(r.status == 403, describe(r));
  r = s.request("POST", "/scim/v2/Users", new_user("nobody@example.com"), hr_token);
  BOOST_TEST(r.status == 403, describe(r));
  r = s.request("GET", "/scim/v2/Users", "", hr_token);
  BOOST_TEST(r.status == 403, describe(r));
  r = s.request("GET", "/scim/v2/Users", "", reader_token);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["totalResults"] == 0);
  BOOST_TEST(s.scim_events().empty());
}

// Entra ID: lookup by filter, create, capitalised ops with "False" as a
// string, path-less replace with URN keys, manager as an array, DELETE.
BOOST_AUTO_TEST_CASE(entra_sequence) {
  started s;
  const std::string name = "ada.lovelace@example.com";
  auto r = s.request("GET", "/scim/v2/Users?filter=" + escape("userName eq \"" + name + "\""));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["totalResults"] == 0);
  BOOST_TEST(r.json()["Resources"].empty());

  r = s.request("POST", "/scim/v2/Users", new_user(name, "entra-oid-1"));
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  const std::string id = r.json()["id"];
  BOOST_TEST(r.header("location").find("/scim/v2/Users/" + id) != std::string::npos);
  BOOST_TEST(r.header("etag") == "W/\"1\"");
  BOOST_TEST(r.json()["meta"]["version"] == "W/\"1\"");

  r = s.request("POST", "/scim/v2/Users", new_user("ADA.LOVELACE@example.com"));
  BOOST_TEST(r.status == 409, describe(r));
  BOOST_TEST(r.json()["scimType"] == "uniqueness");

  r = s.request("GET", "/scim/v2/Users?filter=" + escape("userName eq \"" + name + "\""));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["totalResults"] == 1);
  BOOST_TEST(r.json()["Resources"][0]["id"] == id);

  // Update: a transfer (department), URN-keyed path-less replace.
  r = s.request("PATCH", "/scim/v2/Users/" + id,
                patch({{{"op", "Replace"}, {"value", {{ent_urn + ":department", "Finance"}, {"displayName", "Ada L."}}}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()[ent_urn]["department"] == "Finance");
  // Manager as Entra sends it: a one-element array, path without the URN.
  r = s.request("PATCH", "/scim/v2/Users/" + id,
                patch({{{"op", "Add"}, {"path", "manager"}, {"value", {{{"value", "mgr-1"}}}}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  const std::string deactivate = patch({{{"op", "Replace"}, {"path", "active"}, {"value", "False"}}});
  r = s.request("PATCH", "/scim/v2/Users/" + id, deactivate);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["active"] == false);
  const std::string etag = r.header("etag");
  // Entra retries: the same PATCH again changes nothing and journals nothing.
  r = s.request("PATCH", "/scim/v2/Users/" + id, deactivate);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.header("etag") == etag);
  // Still readable while inactive.
  r = s.request("GET", "/scim/v2/Users/" + id);
  BOOST_TEST(r.status == 200, describe(r));
  r = s.request("PATCH", "/scim/v2/Users/" + id, patch({{{"op", "Replace"}, {"path", "active"}, {"value", true}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  r = s.request("DELETE", "/scim/v2/Users/" + id);
  BOOST_TEST_REQUIRE(r.status == 204, describe(r));
  r = s.request("GET", "/scim/v2/Users/" + id);
  BOOST_TEST(r.status == 404, describe(r));
  r = s.request("DELETE", "/scim/v2/Users/" + id);
  BOOST_TEST(r.status == 404, describe(r));

  const auto events = s.scim_events();
  BOOST_TEST(states_of(events, id) ==
                 (std::vector<std::string>{"active", "transferred", "transferred", "terminated", "reactivated", "deleted"}),
             describe(events));
  for (const auto &e : events) {
    BOOST_TEST(e.subject_name == name);
    BOOST_TEST(e.actor == "scim:entra");
  }
  // Policy rules see the flattened SCIM attributes.
  BOOST_TEST_REQUIRE(events.size() >= 3u);
  BOOST_TEST(events[2].attributes.dump().find("Finance") != std::string::npos, events[2].attributes.dump());
  BOOST_TEST(events[2].attributes.dump().find("E-" + name) != std::string::npos, events[2].attributes.dump());
}

// Okta: lookup with paging, create with password and groups, full PUT,
// path-less {"active": false}, reactivation; Okta never DELETEs.
BOOST_AUTO_TEST_CASE(okta_sequence) {
  started s;
  const std::string name = "grace.hopper@example.com";
  auto r = s.request("GET", "/scim/v2/Users?filter=" + escape("userName eq \"" + name + "\"") + "&startIndex=1&count=100");
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  json body = json::parse(new_user(name, "00u1okta"));
  body["password"] = "t1meMachine!";
  body["groups"] = json::array();
  r = s.request("POST", "/scim/v2/Users", body.dump());
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  BOOST_TEST(!r.json().contains("password"));
  const std::string id = r.json()["id"];
  // Profile update: GET then PUT of the full object (deactivation included, AIW apps).
  r = s.request("GET", "/scim/v2/Users/" + id);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  json full = r.json();
  full["title"] = "Rear Admiral";
  r = s.request("PUT", "/scim/v2/Users/" + id, full.dump());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["title"] == "Rear Admiral");
  r = s.request("PATCH", "/scim/v2/Users/" + id, patch({{{"op", "replace"}, {"value", {{"active", false}}}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["active"] == false);
  r = s.request("PATCH", "/scim/v2/Users/" + id, patch({{{"op", "replace"}, {"value", {{"active", true}}}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  full = r.json();
  full["active"] = false;
  r = s.request("PUT", "/scim/v2/Users/" + id, full.dump());
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(states_of(s.scim_events(), id) ==
                 (std::vector<std::string>{"active", "transferred", "terminated", "reactivated", "terminated"}),
             describe(s.scim_events()));
}

BOOST_AUTO_TEST_CASE(etags_and_preconditions) {
  started s;
  auto r = s.request("POST", "/scim/v2/Users", new_user("etag@example.com"));
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  const std::string id = r.json()["id"];
  r = s.request("GET", "/scim/v2/Users/" + id, "", provisioner_token, {"If-None-Match: W/\"1\""});
  BOOST_TEST(r.status == 304, describe(r));
  BOOST_TEST(r.body.empty());
  r = s.request("GET", "/scim/v2/Users/" + id, "", provisioner_token, {"If-None-Match: W/\"7\""});
  BOOST_TEST(r.status == 200, describe(r));
  const std::string off = patch({{{"op", "replace"}, {"path", "active"}, {"value", false}}});
  r = s.request("PATCH", "/scim/v2/Users/" + id, off, provisioner_token, {"If-Match: W/\"9\""});
  BOOST_TEST(r.status == 412, describe(r));
  BOOST_TEST(states_of(s.scim_events(), id) == std::vector<std::string>{"active"}); // nothing recorded
  r = s.request("PATCH", "/scim/v2/Users/" + id, off, provisioner_token, {"If-Match: W/\"1\""});
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.header("etag") == "W/\"2\"");
  r = s.request("DELETE", "/scim/v2/Users/" + id, "", provisioner_token, {"If-Match: \"1\""});
  BOOST_TEST(r.status == 412, describe(r));
  r = s.request("DELETE", "/scim/v2/Users/" + id, "", provisioner_token, {"If-Match: W/\"2\""});
  BOOST_TEST(r.status == 204, describe(r));
}

BOOST_AUTO_TEST_CASE(list_filter_paging_sort_projection) {
  started s;
  for (int i = 0; i < 5; ++i) {
    json u = json::parse(new_user("user" + std::to_string(i) + "@example.com", "ext" + std::to_string(i)));
    u["title"] = i % 2 == 0 ? "Engineer" : "Manager";
    auto r = s.request("POST", "/scim/v2/Users", u.dump());
    BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  }
  auto r = s.request("GET", "/scim/v2/Users?filter=" + escape("title eq \"Engineer\" and userName sw \"user\"") +
                                "&sortBy=userName&sortOrder=descending&attributes=userName");
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  auto j = r.json();
  BOOST_TEST(j["totalResults"] == 3);
  BOOST_TEST(j["Resources"][0]["userName"] == "user4@example.com");
  BOOST_TEST(!j["Resources"][0].contains("title"));
  r = s.request("GET", "/scim/v2/Users?startIndex=2&count=2");
  j = r.json();
  BOOST_TEST(j["totalResults"] == 5);
  BOOST_TEST(j["itemsPerPage"] == 2);
  BOOST_TEST(j["startIndex"] == 2);
  BOOST_TEST(j["Resources"][0]["userName"] == "user1@example.com");
  r = s.request("GET", "/scim/v2/Users?filter=" + escape("externalId eq \"ext3\""));
  BOOST_TEST(r.json()["totalResults"] == 1);
  r = s.request("GET", "/scim/v2/Users?filter=" + escape("USERNAME eq \"USER2@EXAMPLE.COM\""));
  BOOST_TEST(r.json()["totalResults"] == 1);
  r = s.request("GET", "/scim/v2/Users?filter=" + escape("emails[type eq \"work\"].value co \"user1\""));
  BOOST_TEST(r.json()["totalResults"] == 1, describe(r));
  r = s.request("GET", "/scim/v2/Users?filter=" + escape("userName eq"));
  BOOST_TEST(r.status == 400, describe(r));
  BOOST_TEST(r.json()["scimType"] == "invalidFilter");
  r = s.request("GET", "/scim/v2/Users?count=abc");
  BOOST_TEST(r.status == 400, describe(r));
  r = s.request("POST", "/scim/v2/Users/.search", json{{"filter", "title eq \"Manager\""}, {"count", 1}}.dump(), reader_token);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["totalResults"] == 2);
  BOOST_TEST(r.json()["Resources"].size() == 1u);
}

BOOST_AUTO_TEST_CASE(groups) {
  started s;
  auto r = s.request("POST", "/scim/v2/Users", new_user("member@example.com"));
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  const std::string uid = r.json()["id"];
  r = s.request("POST", "/scim/v2/Groups",
                json{{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:Group",
                                  "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"}},
                     {"displayName", "Engineering"},
                     {"members", json::array()}}
                    .dump());
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  const std::string gid = r.json()["id"];
  r = s.request("PATCH", "/scim/v2/Groups/" + gid,
                patch({{{"op", "Add"}, {"path", "members"}, {"value", {{{"value", uid}, {"display", "member"}}}}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["members"].size() == 1u);
  r = s.request("GET", "/scim/v2/Groups?filter=" + escape("displayName eq \"engineering\"") + "&excludedAttributes=members");
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["totalResults"] == 1);
  BOOST_TEST(!r.json()["Resources"][0].contains("members"));
  // Entra's removal by value array.
  r = s.request("PATCH", "/scim/v2/Groups/" + gid, patch({{{"op", "Remove"}, {"path", "members"}, {"value", {{{"value", uid}}}}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json().value("members", json::array()).empty());
  // Okta's add by path with a member array, then the User is deleted: it
  // leaves the group (RFC 7643 §4.2) and the group's version moves on.
  r = s.request("PATCH", "/scim/v2/Groups/" + gid, patch({{{"op", "add"}, {"path", "members"}, {"value", {{{"value", uid}}}}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["members"].size() == 1u);
  const std::string etag = r.header("etag");
  r = s.request("DELETE", "/scim/v2/Users/" + uid);
  BOOST_TEST_REQUIRE(r.status == 204, describe(r));
  r = s.request("GET", "/scim/v2/Groups/" + gid);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json().value("members", json::array()).empty(), r.body);
  BOOST_TEST(r.header("etag") != etag);
  r = s.request("DELETE", "/scim/v2/Groups/" + gid);
  BOOST_TEST(r.status == 204, describe(r));
  // Groups journal nothing; the user's create and delete do.
  BOOST_TEST(states_of(s.scim_events(), uid) == (std::vector<std::string>{"active", "deleted"}), describe(s.scim_events()));
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_and_nothing_recorded) {
  started s("[scim_server.limits]\nmax_body_bytes = 65536\nmax_json_depth = 16\n");
  auto r = s.request("POST", "/scim/v2/Users", "{\"userName\": ");
  BOOST_TEST(r.status == 400, describe(r));
  BOOST_TEST(r.json()["scimType"] == "invalidSyntax");
  r = s.request("POST", "/scim/v2/Users", std::string(5000, '[') + std::string(5000, ']'));
  BOOST_TEST(r.status == 400, describe(r));
  r = s.request("POST", "/scim/v2/Users", "{\"userName\": \"\xff\xfe\"}");
  BOOST_TEST(r.status == 400, describe(r));
  r = s.request("POST", "/scim/v2/Users", json{{"userName", 7}}.dump());
  BOOST_TEST(r.status == 400, describe(r));
  r = s.request("POST", "/scim/v2/Users", json{{"displayName", "no userName"}}.dump());
  BOOST_TEST(r.status == 400, describe(r));
  r = s.request("POST", "/scim/v2/Users", json{{"userName", "a@b"}, {"urn:unknown:ext", {{"x", 1}}}}.dump());
  BOOST_TEST(r.status == 400, describe(r));
  r = s.request("POST", "/scim/v2/Users", "{\"userName\":\"big\",\"x\":\"" + std::string(70000, 'a') + "\"}");
  BOOST_TEST(r.status == 413, describe(r));
  r = s.request("POST", "/scim/v2/Users", new_user("ok@example.com"));
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  const std::string id = r.json()["id"];
  r = s.request("PATCH", "/scim/v2/Users/" + id, patch({{{"op", "replace"}, {"path", "nosuch"}, {"value", 1}}}));
  BOOST_TEST(r.status == 400, describe(r));
  BOOST_TEST(r.json()["scimType"] == "invalidPath");
  r = s.request("PATCH", "/scim/v2/Users/" + id, patch({{{"op", "explode"}, {"path", "active"}, {"value", false}}}));
  BOOST_TEST(r.status == 400, describe(r));
  r = s.request("PATCH", "/scim/v2/Users/" + id, "[]");
  BOOST_TEST(r.status == 400, describe(r));
  // The service keeps serving, and only the one create was journalled.
  r = s.request("GET", "/scim/v2/Users/" + id);
  BOOST_TEST(r.status == 200, describe(r));
  BOOST_TEST(s.scim_events().size() == 1u, describe(s.scim_events()));
}

BOOST_AUTO_TEST_CASE(restart_loses_nothing_and_a_replayed_patch_journals_nothing) {
  scimd_instance s;
  s.start();
  auto r = s.request("POST", "/scim/v2/Users", new_user("durable@example.com"));
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  const std::string id = r.json()["id"];
  const std::string off = patch({{{"op", "replace"}, {"path", "active"}, {"value", false}}});
  r = s.request("PATCH", "/scim/v2/Users/" + id, off);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(s.stop_term() == 0, s.log());
  s.start();
  r = s.request("GET", "/scim/v2/Users/" + id);
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  BOOST_TEST(r.json()["active"] == false);
  r = s.request("PATCH", "/scim/v2/Users/" + id, off);
  BOOST_TEST(r.status == 200, describe(r));
  BOOST_TEST(states_of(s.scim_events(), id) == (std::vector<std::string>{"active", "terminated"}), describe(s.scim_events()));
}

// The reclaim lifecycle extension: a leave instead of a termination, a legal
// hold journalled with the [legal_hold] attribute the policy knows, and a
// contract end date as a contract_ended event at that date.
BOOST_AUTO_TEST_CASE(lifecycle_extension) {
  started s("", "[legal_hold]\nattribute = \"businessCategory\"\nvalue = \"legal-hold\"\n");
  const std::string lc = "urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User";
  auto r = s.request("POST", "/scim/v2/Users", new_user("life@example.com"));
  BOOST_TEST_REQUIRE(r.status == 201, describe(r));
  const std::string id = r.json()["id"];
  r = s.request("PATCH", "/scim/v2/Users/" + id,
                patch({{{"op", "replace"}, {"value", {{"active", false}, {lc + ":state", "leave"}}}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  r = s.request("PATCH", "/scim/v2/Users/" + id, patch({{{"op", "add"}, {"path", lc + ":legalHold"}, {"value", true}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  r = s.request("PATCH", "/scim/v2/Users/" + id,
                patch({{{"op", "replace"}, {"value", {{"active", true}, {lc + ":state", "active"}}}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  r = s.request("PATCH", "/scim/v2/Users/" + id,
                patch({{{"op", "add"}, {"path", lc + ":contractEndDate"}, {"value", "2027-03-31T17:00:00Z"}}}));
  BOOST_TEST_REQUIRE(r.status == 200, describe(r));
  const auto events = s.scim_events();
  BOOST_TEST(states_of(events, id) ==
                 (std::vector<std::string>{"active", "leave", "leave", "reactivated", "contract_ended"}),
             describe(events));
  BOOST_TEST_REQUIRE(events.size() == 5u);
  BOOST_TEST(events[2].attributes.dump().find("legal-hold") != std::string::npos, events[2].attributes.dump());
  BOOST_TEST(events[2].attributes.dump().find("businessCategory") != std::string::npos, events[2].attributes.dump());
  BOOST_TEST(events[4].time.find("2027-03-31T17:00:00") == 0u, events[4].raw.dump());
}
