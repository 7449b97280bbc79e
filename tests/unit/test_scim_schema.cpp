// test_scim_schema.cpp — normalise() on real IdP bodies and on bad input,
// parse_body() limits, attributes=/excludedAttributes= projection, sortBy
// ordering, dates, and the discovery documents built from the schema tables.
#include "scim/scim_filter.hpp"
#include "scim/scim_path.hpp"
#include "scim/scim_schema.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <string>

using namespace reclaim::scim;
using nlohmann::json;

namespace {

constexpr const char *ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
constexpr const char *life = "urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User";

void expect_error(const std::function<void()> &f, int status, const std::string &scim_type, const std::string &what) {
  try {
    f();
    BOOST_ERROR("no error: " << what);
  } catch (const scim_error &e) {
    BOOST_TEST(e.status == status, what);
    BOOST_TEST(e.scim_type == scim_type, what << ": " << e.scim_type << " " << e.what());
  }
}

void expect_normalise_error(const std::string &body, const std::string &scim_type,
                            resource_kind kind = resource_kind::user) {
  expect_error([&] { normalise(json::parse(body), kind); }, 400, scim_type, body.substr(0, 120));
}

double best_of_3(const std::function<void()> &f) {
  double best = 1e300;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return std::max(best, 1e-6);
}

json user() {
  json u = normalise(json::parse(R"({"userName":"bjensen","password":"s3cret","title":"Guide",
      "name":{"givenName":"Barbara","familyName":"Jensen"},
      "emails":[{"value":"b@example.com","type":"work","primary":true},{"value":"b@home.org","type":"home"}],
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Tours","manager":"m1"}})"),
                     resource_kind::user);
  u["id"] = "u1";
  u["meta"] = {{"resourceType", "User"}, {"lastModified", "2026-02-01T00:00:00Z"}};
  return u;
}

} // namespace

BOOST_AUTO_TEST_SUITE(scim_schema)

BOOST_AUTO_TEST_CASE(entra_create_user_body) {
  // From the Entra SCIM doc, with its explicit nulls, "roles":[], meta, and the
  // malformed enterprise URN of one doc example listed in schemas.
  const json u = normalise(json::parse(R"({
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "userName": "Test_User_ab6490ee@testuser.com",
    "active": true,
    "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
    "meta": {"resourceType": "User"},
    "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
    "roles": [], "title": null, "manager": null})"),
                           resource_kind::user);
  BOOST_TEST(u["userName"] == "Test_User_ab6490ee@testuser.com");
  BOOST_TEST(!u.contains("meta"));
  BOOST_TEST(!u.contains("roles"));
  BOOST_TEST(!u.contains("title"));
  BOOST_TEST(u["schemas"] == json::array({"urn:ietf:params:scim:schemas:core:2.0:User"}));
}

BOOST_AUTO_TEST_CASE(okta_create_user_body) {
  const json u = normalise(json::parse(R"({
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "test.user@okta.local",
    "name": {"givenName": "Test", "familyName": "User"},
    "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
    "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
    "groups": [], "password": "1mz050nq", "active": true})"),
                           resource_kind::user);
  BOOST_TEST(!u.contains("password")); // never stored
  BOOST_TEST(!u.contains("groups"));   // read-only
  BOOST_TEST(u["externalId"] == "00ujl29u0le5T6Aj10h7");
  BOOST_TEST(u["active"] == true);
}

BOOST_AUTO_TEST_CASE(names_canonical_and_dialect_values) {
  const json u = normalise(json::parse(R"({"USERNAME":"a","Active":"False","NAME":{"GIVENNAME":"A"},
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":{"Manager":{"Value":"m"},"EMPLOYEENUMBER":"7"},
      "urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User":{"state":"Terminated",
         "contractEndDate":"2026-09-30","legalHold":"true","effectiveDate":"2026-09-01T12:00:00+02:00"}})"),
                           resource_kind::user);
  BOOST_TEST(u["userName"] == "a");
  BOOST_TEST(u["active"] == false);
  BOOST_TEST(u["name"]["givenName"] == "A");
  BOOST_TEST(u[ent]["manager"]["value"] == "m");
  BOOST_TEST(u[ent]["employeeNumber"] == "7");
  BOOST_TEST(u[life]["state"] == "terminated");
  BOOST_TEST(u[life]["legalHold"] == true);
  BOOST_TEST(u[life]["contractEndDate"] == "2026-09-30"); // stored as sent
  BOOST_TEST(u["schemas"] == json::array({"urn:ietf:params:scim:schemas:core:2.0:User", ent, life}));
  // Normalising the stored form again changes nothing.
  BOOST_TEST(normalise(u, resource_kind::user) == u);
  // manager as a bare string and as Entra's one-element array
  BOOST_TEST(normalise(json::parse(R"({"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
      {"manager":[{"value":"m2","$ref":"../Users/m2"}]}})"),
                       resource_kind::user)[ent]["manager"] == json::parse(R"({"value":"m2","$ref":"../Users/m2"})"));
}

BOOST_AUTO_TEST_CASE(group_bodies) {
  const json g = normalise(json::parse(R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group",
      "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
      "displayName":"Group1DisplayName","externalId":"60f6a3c5","members":[]})"),
                           resource_kind::group);
  BOOST_TEST(g["displayName"] == "Group1DisplayName");
  BOOST_TEST(!g.contains("members"));
  expect_normalise_error(R"({"members":[]})", "invalidValue", resource_kind::group);
  expect_normalise_error(R"({"displayName":"g","userName":"x"})", "invalidSyntax", resource_kind::group);
  expect_normalise_error(R"({"displayName":"g","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"x"}})",
                         "invalidSyntax", resource_kind::group);
}

BOOST_AUTO_TEST_CASE(bad_bodies) {
  for (const char *b : {"[]", "null", "\"x\"", "42"})
    expect_normalise_error(b, "invalidSyntax");
  expect_normalise_error(R"({"userName":"a","nosuch":1})", "invalidSyntax");
  expect_normalise_error(R"({"userName":"a","name":{"nosuch":"x"}})", "invalidSyntax");
  expect_normalise_error(R"({"userName":"a","userNAME":"b"})", "invalidSyntax");
  expect_normalise_error(R"({"userName":"a","urn:example:custom:2.0:User":{"x":1}})", "invalidSyntax");
  expect_normalise_error(R"({"userName":"a","schemas":"urn:ietf:params:scim:schemas:core:2.0:User"})",
                         "invalidSyntax");
  expect_normalise_error(R"({"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"})",
                         "invalidSyntax");
  expect_normalise_error(R"({"userName":5})", "invalidValue");
  expect_normalise_error(R"({"userName":""})", "invalidValue");
  expect_normalise_error(R"({"title":"no userName"})", "invalidValue");
  expect_normalise_error(R"({"userName":"a","active":"yes"})", "invalidValue");
  expect_normalise_error(R"({"userName":"a","active":1})", "invalidValue");
  expect_normalise_error(R"({"userName":"a","name":"Babs"})", "invalidValue");
  expect_normalise_error(R"({"userName":"a","title":["x","y"]})", "invalidValue");
  expect_normalise_error(R"({"userName":"a","emails":[{"value":1}]})", "invalidValue");
  expect_normalise_error(R"({"userName":"a","emails":[{"value":"a","primary":true},{"value":"b","primary":true}]})",
                         "invalidValue");
  expect_normalise_error(R"({"userName":"a","urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User":{"state":"gone"}})",
                         "invalidValue");
  expect_normalise_error(R"({"userName":"a","urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User":{"effectiveDate":"tomorrow"}})",
                         "invalidValue");
  expect_normalise_error(R"({"userName":"a","urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User":{"effectiveDate":"2026-02-30T00:00:00Z"}})",
                         "invalidValue");
}

BOOST_AUTO_TEST_CASE(huge_arrays_are_linear) {
  // normalise() of 40,000 emails against serialising the same body (linear
  // work on the same data, so machine load and sanitizers cancel out):
  // quadratic duplicate detection would cost hundreds of times more.
  json body = {{"userName", "a"}, {"emails", json::array()}};
  for (int i = 0; i < 40000; ++i)
    body["emails"].push_back({{"value", "e" + std::to_string(i) + "@x.org"}, {"type", "work"}});
  std::size_t kept = 0, bytes = 0;
  const double normalise_time = best_of_3([&] { kept = normalise(body, resource_kind::user)["emails"].size(); });
  const double dump_time = best_of_3([&] { bytes = body.dump().size(); });
  BOOST_TEST(kept == 40000u);
  BOOST_TEST(bytes > 0u);
  BOOST_TEST_MESSAGE("normalise of 40,000 emails took " << normalise_time / dump_time << "x serialising them");
  BOOST_TEST(normalise_time / dump_time < 60.0);
}

BOOST_AUTO_TEST_CASE(error_bodies_of_non_utf8_input_serialise) {
  // The detail quotes the input; the host must be able to send it as JSON.
  const auto check = [](const std::function<void()> &f, const char *what) {
    try {
      f();
      BOOST_ERROR("no error: " << what);
    } catch (const scim_error &e) {
      std::string text;
      BOOST_CHECK_NO_THROW(text = error_body(e).dump());
      BOOST_TEST(json::parse(text)["status"] == "400", what);
      BOOST_CHECK_NO_THROW(json(std::string(e.what())).dump());
    }
  };
  check([] { parse_body("{\"userName\":\"\xff\xfe\"}"); }, "body with 0xff");
  check([] { parse_body("\xc3\x28"); }, "bad continuation");
  check([] { filter::parse("\xff\xfe eq \"x\"", resource_kind::user); }, "filter");
  check([] { parse_path("emails[type eq \"\xff\"", resource_kind::user); }, "path");
  BOOST_TEST(error_body(400, "invalidValue", "caf\xc3\xa9")["detail"] == "caf\xc3\xa9"); // valid UTF-8 kept
}

BOOST_AUTO_TEST_CASE(projection) {
  const json u = user();
  BOOST_TEST(!u.contains("password"));
  json p = project(u, resource_kind::user, "userName", "");
  BOOST_TEST(p == json::parse(R"({"id":"u1","userName":"bjensen","schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]})"));
  p = project(u, resource_kind::user, " NAME.givenName , emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "");
  BOOST_TEST(p["name"] == json::parse(R"({"givenName":"Barbara"})"));
  BOOST_TEST(p["emails"] == json::parse(R"([{"value":"b@example.com"},{"value":"b@home.org"}])"));
  BOOST_TEST(p[ent] == json::parse(R"({"manager":{"value":"m1"}})"));
  BOOST_TEST(!p.contains("title"));
  p = project(u, resource_kind::user, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,nosuch,meta", "");
  BOOST_TEST(p[ent] == u[ent]);
  BOOST_TEST(p["meta"] == u["meta"]);
  p = project(u, resource_kind::user, "", "emails, id, schemas, name.familyName, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
  BOOST_TEST(!p.contains("emails"));
  BOOST_TEST(p["id"] == "u1"); // returned: always
  BOOST_TEST(p["name"] == json::parse(R"({"givenName":"Barbara"})"));
  BOOST_TEST(p[ent] == json::parse(R"({"manager":{"value":"m1"}})"));
  p = project(u, resource_kind::user, "", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
  BOOST_TEST(!p.contains(ent));
  BOOST_TEST(project(u, resource_kind::user, "", "") == u);
  // a password that somehow got stored is never returned
  json leaked = u;
  leaked["password"] = "x";
  BOOST_TEST(!project(leaked, resource_kind::user, "", "").contains("password"));
  BOOST_TEST(!project(leaked, resource_kind::user, "password", "").contains("password"));
  // Entra reads groups with excludedAttributes=members
  json g = normalise(json::parse(R"({"displayName":"G","members":[{"value":"u1"}]})"), resource_kind::group);
  g["id"] = "g1";
  BOOST_TEST(project(g, resource_kind::group, "", "members") ==
             json::parse(R"({"id":"g1","displayName":"G","schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]})"));
}

BOOST_AUTO_TEST_CASE(sort_order) {
  json a = user(), b = user(), c = user();
  a["userName"] = "alice";
  b["userName"] = "Bob";
  c.erase("title");
  c["meta"]["lastModified"] = "2026-01-31T23:00:00-02:00"; // 2026-02-01T01:00Z, after a and b
  BOOST_TEST(compare_by(a, b, "userName", resource_kind::user) < 0);
  BOOST_TEST(compare_by(b, a, "USERNAME", resource_kind::user) > 0);
  BOOST_TEST(compare_by(a, a, "userName", resource_kind::user) == 0);
  BOOST_TEST(compare_by(a, c, "title", resource_kind::user) < 0); // unassigned last
  BOOST_TEST(compare_by(c, a, "title", resource_kind::user) > 0);
  BOOST_TEST(compare_by(a, c, "meta.lastModified", resource_kind::user) < 0);
  BOOST_TEST(compare_by(a, b, "emails", resource_kind::user) == 0); // primary value compared
  BOOST_TEST(compare_by(a, b, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                        resource_kind::user) == 0);
  expect_error([&] { compare_by(a, b, "nosuch", resource_kind::user); }, 400, "invalidPath", "unknown sortBy");
  expect_error([&] { compare_by(a, b, "emails[type eq \"work\"]", resource_kind::user); }, 400, "invalidPath",
               "filtered sortBy");
}

BOOST_AUTO_TEST_CASE(date_times) {
  BOOST_TEST(*parse_date_time("1970-01-01T00:00:00Z") == 0);
  BOOST_TEST(*parse_date_time("1970-01-01T01:00:00+01:00") == 0);
  BOOST_TEST(*parse_date_time("1970-01-01T00:00:01.5Z") == 1500);
  BOOST_TEST(*parse_date_time("1970-01-02") == 86400000);
  for (const char *bad : {"", "1970-01-01T00:00:00", "1970-13-01", "1970-02-30", "1970-01-01T24:00:00Z",
                          "1970-01-01 00:00:00Z", "1970-01-01T00:00:00+0100", "1970-01-01T00:00:00.Z", "19700101",
                          "1970-01-01T00:00:00Zjunk"})
    BOOST_TEST(!parse_date_time(bad), bad);
}

BOOST_AUTO_TEST_CASE(paths) {
  attribute_path p = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                                resource_kind::user);
  BOOST_TEST(p.urn == ent);
  BOOST_TEST(!p.in_core);
  BOOST_TEST(p.attribute == "manager");
  BOOST_TEST(p.sub_attribute == "value");
  p = parse_path("EMAILS[type eq \"a]b\"].VALUE", resource_kind::user);
  BOOST_TEST(p.attribute == "emails");
  BOOST_TEST(p.sub_attribute == "value");
  BOOST_TEST(p.value_filter->matches_element(json::parse(R"({"type":"a]b"})")));
  p = parse_path("members[value eq \"x\"]", resource_kind::group);
  BOOST_TEST(p.value_filter->simple_element_equality()->first == "value");
  for (const char *bad : {"", "nosuch", "name.", ".name", "name.givenName.x", "name..x", "emails[", "emails]",
                          "emails[type eq \"w\"]x", "emails[type eq \"w\"].nosuch", "urn:unknown:User:x",
                          "urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "title[value eq \"x\"]",
                          "name.givenName[value eq \"x\"]", "user name"})
    expect_error([&] { parse_path(bad, resource_kind::user); }, 400, "invalidPath", bad);
}

BOOST_AUTO_TEST_CASE(discovery_documents) {
  const json spc = service_provider_config(false, true, 200);
  BOOST_TEST(spc["patch"]["supported"] == true);
  BOOST_TEST(spc["bulk"]["supported"] == false);
  BOOST_TEST(spc["sort"]["supported"] == true);
  BOOST_TEST(spc["filter"]["maxResults"] == 200);
  BOOST_TEST(spc["etag"]["supported"] == true);
  const json all = schemas_document();
  BOOST_TEST(all["totalResults"] == 4);
  BOOST_TEST(all["Resources"].size() == 4u);
  const json lifecycle = schema(life);
  BOOST_TEST(lifecycle["id"] == life);
  std::vector<std::string> names;
  for (const auto &a : lifecycle["attributes"])
    names.push_back(a["name"]);
  BOOST_TEST(names == (std::vector<std::string>{"state", "effectiveDate", "contractEndDate", "legalHold"}));
  const json enterprise = schema("URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER");
  BOOST_TEST(enterprise["attributes"].size() == 6u);
  BOOST_TEST(enterprise["attributes"][5]["subAttributes"].size() == 3u);
  const json core = schema("urn:ietf:params:scim:schemas:core:2.0:User");
  BOOST_TEST(core["attributes"][0]["name"] == "userName");
  BOOST_TEST(core["attributes"][0]["uniqueness"] == "server");
  for (const auto &a : core["attributes"])
    if (a["name"] == "password")
      BOOST_TEST(a["returned"] == "never");
  expect_error([] { schema("urn:nosuch"); }, 404, "", "unknown schema");
  const json rt = resource_types("https://scim.example.com/scim/v2/");
  BOOST_TEST(rt["totalResults"] == 2);
  BOOST_TEST(rt["Resources"][0]["endpoint"] == "/Users");
  BOOST_TEST(rt["Resources"][0]["meta"]["location"] == "https://scim.example.com/scim/v2/ResourceTypes/User");
  BOOST_TEST(rt["Resources"][0]["schemaExtensions"].size() == 2u);
  BOOST_TEST(rt["Resources"][1]["schema"] == "urn:ietf:params:scim:schemas:core:2.0:Group");
  const json err = error_body(400, "invalidFilter", "bad");
  BOOST_TEST(err == json::parse(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400",
      "scimType":"invalidFilter","detail":"bad"})"));
  BOOST_TEST(!error_body(404, "", "gone").contains("scimType"));
}

BOOST_AUTO_TEST_SUITE_END()
