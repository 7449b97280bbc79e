// test_scim_filter.cpp — RFC 7644 §3.4.2.2 filters on a fixed User and
// Group: every operator, precedence, not/( ), value filters, URN paths,
// case rules, dates as instants; every kind of invalid filter is 400
// invalidFilter (including 10,000 nested parentheses, which must not crash).
#include "scim/scim_filter.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace reclaim::scim;
using nlohmann::json;

namespace {

json sample_user() {
  json u = normalise(json::parse(R"({
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "userName": "Barbara.Jensen@example.com", "externalId": "Ext-42", "title": "Tour Guide",
    "name": {"givenName": "Barbara", "familyName": "Jensen"}, "displayName": "", "active": true,
    "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
               {"value": "babs@jensen.org", "type": "home"}],
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
      {"employeeNumber": "701984", "department": "Tour Operations", "manager": {"value": "mgr-1"}},
    "urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User":
      {"state": "active", "contractEndDate": "2026-12-31T00:00:00Z"}})"),
                     resource_kind::user);
  u["id"] = "2819c223-7f76-453a-919d-413861904646";
  u["meta"] = {{"resourceType", "User"},
               {"created", "2026-01-23T04:56:22Z"},
               {"lastModified", "2026-05-13T04:42:34.500+02:00"}};
  return u;
}

bool user_matches(const std::string &text) { return filter::parse(text, resource_kind::user)->matches(sample_user()); }

void expect_invalid(const std::string &text, resource_kind kind = resource_kind::user) {
  try {
    filter::parse(text, kind);
    BOOST_ERROR("no error for filter: " << text.substr(0, 80));
  } catch (const scim_error &e) {
    BOOST_TEST(e.status == 400, text.substr(0, 80));
    BOOST_TEST(e.scim_type == "invalidFilter", text.substr(0, 80) << ": " << e.scim_type);
  }
}

struct filter_case {
  const char *text;
  bool expected;
};

} // namespace

BOOST_AUTO_TEST_SUITE(scim_filter)

BOOST_AUTO_TEST_CASE(every_operator_on_a_user) {
  const std::vector<filter_case> cases = {
      // eq: userName is caseExact=false; externalId and id are caseExact=true
      {R"(userName eq "barbara.jensen@example.com")", true},
      {R"(userName eq "bjensen")", false},
      {R"(externalId eq "Ext-42")", true},
      {R"(externalId eq "ext-42")", false},
      {R"(id eq "2819c223-7f76-453a-919d-413861904646")", true},
      // ne: an absent attribute matches ne
      {R"(title ne "Tour Guide")", false},
      {R"(title ne "Manager")", true},
      {R"(nickName ne "x")", true},
      // co sw ew
      {R"(userName co "JENSEN@")", true},
      {R"(userName co "smith")", false},
      {R"(userName sw "barbara")", true},
      {R"(userName sw "jensen")", false},
      {R"(userName ew "EXAMPLE.COM")", true},
      {R"(userName ew "example.org")", false},
      {R"(externalId sw "ext")", false}, // caseExact
      // pr: missing, empty string and present
      {"title pr", true},
      {"nickName pr", false},
      {"displayName pr", false},
      {"emails pr", true},
      {"name.middleName pr", false},
      // gt ge lt le on strings
      {R"(title gt "Tour")", true},
      {R"(title gt "tour guide")", false},
      {R"(title ge "tour guide")", true},
      {R"(title lt "U")", true},
      {R"(title le "Tour Guide")", true},
      {R"(title lt "Tour Guide")", false},
      // dates compare as instants: 04:42:34.5+02:00 is 02:42:34.5Z
      {R"(meta.lastModified gt "2026-05-13T02:42:34Z")", true},
      {R"(meta.lastModified gt "2026-05-13T03:00:00Z")", false},
      {R"(meta.lastModified eq "2026-05-13T02:42:34.500Z")", true},
      {R"(meta.lastModified lt "2026-05-13T04:42:34+02:00")", false},
      {R"(meta.lastModified le "2026-05-13T04:42:34.5+02:00")", true},
      {R"(meta.created ge "2026-01-01")", true},
      // booleans, null
      {"active eq true", true},
      {"active eq false", false},
      {"active ne false", true},
      {"title eq null", false},
      {"nickName eq null", true},
      {"nickName ne null", false},
      // sub-attributes, multi-valued, value filters
      {R"(name.givenName eq "barbara")", true},
      {R"(emails.value eq "babs@jensen.org")", true},
      {R"(emails eq "babs@jensen.org")", true},
      {R"(emails.type eq "other")", false},
      {R"(emails[type eq "work" and value co "@example.com"])", true},
      {R"(emails[type eq "home" and value co "@example.com"])", false},
      {R"(emails[type eq "work"].value eq "bjensen@example.com")", true},
      {R"(emails[type eq "work"].value eq "babs@jensen.org")", false},
      {R"(emails[primary eq true].value ew ".com")", true},
      // URN-qualified paths and the extensions
      {R"(urn:ietf:params:scim:schemas:core:2.0:User:userName sw "Barbara")", true},
      {R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984")", true},
      {R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "mgr-1")", true},
      {R"(URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:DEPARTMENT eq "tour operations")", true},
      {R"(manager.value eq "mgr-1")", true}, // Entra: the extension attribute without its URN
      {R"(urn:reclaim:params:scim:schemas:extension:lifecycle:2.0:User:contractEndDate lt "2027-01-01T00:00:00Z")",
       true},
      // case-insensitive names, operators and keywords
      {R"(USERNAME EQ "BARBARA.JENSEN@EXAMPLE.COM")", true},
      {R"(Name.GivenName Sw "BAR" AND Active Eq TRUE)", true},
  };
  for (const auto &c : cases)
    BOOST_TEST(user_matches(c.text) == c.expected, c.text);
}

BOOST_AUTO_TEST_CASE(logic_precedence_and_grouping) {
  const std::vector<filter_case> cases = {
      // and binds tighter than or: true or (false and false) = true
      {R"(title eq "Tour Guide" or userName eq "x" and active eq false)", true},
      // (true or false) and false = false
      {R"((title eq "Tour Guide" or userName eq "x") and active eq false)", false},
      // false or (true and true)
      {R"(title eq "x" or userName pr and active eq true)", true},
      {R"(not (title eq "x"))", true},
      {R"(not (title pr))", false},
      {R"(not(title pr) or not (nickName pr))", true},
      {R"(((((title pr)))))", true},
      {R"(title pr and (nickName pr or emails[type eq "home"]) and not (active eq false))", true},
      {R"(userName eq "a" or userName eq "b" or userName eq "c" or externalId eq "Ext-42")", true},
  };
  for (const auto &c : cases)
    BOOST_TEST(user_matches(c.text) == c.expected, c.text);
}

BOOST_AUTO_TEST_CASE(group_members_and_display_name) {
  json g = normalise(json::parse(R"({"displayName": "Sales Reps",
      "members": [{"value": "u1", "display": "Ann"}, {"value": "u2"}]})"),
                     resource_kind::group);
  g["id"] = "g1";
  const auto m = [&](const char *text) { return filter::parse(text, resource_kind::group)->matches(g); };
  BOOST_TEST(m(R"(displayName eq "sales reps")"));
  BOOST_TEST(m(R"(members[value eq "u2"])"));
  BOOST_TEST(!m(R"(members[value eq "U2"])")); // member ids are caseExact
  BOOST_TEST(m(R"(members.value eq "u1")"));
  BOOST_TEST(m(R"(urn:ietf:params:scim:schemas:core:2.0:Group:displayName sw "Sales")"));
  expect_invalid(R"(userName eq "x")", resource_kind::group);
  expect_invalid(R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x")",
                 resource_kind::group);
}

BOOST_AUTO_TEST_CASE(simple_equality_for_index_lookups) {
  auto se = filter::parse(R"(userName eq "Test.User@okta.local")", resource_kind::user)->simple_equality();
  BOOST_REQUIRE(se);
  BOOST_TEST(se->first == "userName");
  BOOST_TEST(se->second == "Test.User@okta.local"); // as written, not folded
  se = filter::parse(R"(EXTERNALID eq "abc")", resource_kind::user)->simple_equality();
  BOOST_REQUIRE(se);
  BOOST_TEST(se->first == "externalId");
  se = filter::parse(R"(displayName eq "Group A")", resource_kind::group)->simple_equality();
  BOOST_REQUIRE(se);
  BOOST_TEST(se->first == "displayName");
  se = filter::parse(R"(urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7")",
                     resource_kind::user)
           ->simple_equality();
  BOOST_REQUIRE(se);
  BOOST_TEST(se->first == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber");
  for (const char *not_simple : {R"(userName ne "x")", R"(userName eq "x" and active eq true)", "userName pr",
                                 R"(emails.value eq "x")", R"(name.givenName eq "x")", "userName eq null",
                                 R"(not (userName eq "x"))"})
    BOOST_TEST(!filter::parse(not_simple, resource_kind::user)->simple_equality(), not_simple);
}

BOOST_AUTO_TEST_CASE(escaped_string_literals) {
  json u = sample_user();
  u["title"] = "say \"hi\" \\ bye";
  BOOST_TEST(filter::parse(R"(title eq "say \"hi\" \\ bye")", resource_kind::user)->matches(u));
  BOOST_TEST(filter::parse(R"(title co "\u0022hi")", resource_kind::user)->matches(u));
}

BOOST_AUTO_TEST_CASE(invalid_filters_are_invalidFilter) {
  for (const char *bad : {
           "",
           "   ",
           R"(userName eq "unterminated)",
           R"(userName eq "bad escape \q")",
           R"(userName xx "a")",
           R"(userName eq)",
           "userName",
           R"(userName eq "a" extra)",
           R"(userName eq "a" and)",
           R"(userName eq "a" or or userName eq "b")",
           R"((userName eq "a")",
           R"(userName eq "a"))",
           R"(not userName eq "a")",
           R"(userName eq bareword)",
           R"(nosuchattr eq "a")",
           R"(name.nosuch eq "a")",
           R"(urn:example:unknown:2.0:User:userName eq "a")",
           R"(emails[type eq "work")",
           R"(emails[nosuch eq "x"])",
           R"(emails[type eq "work"][value eq "x"])",
           R"(userName[value eq "x"])",
           R"(active gt true)",
           R"(active eq "maybe")",
           R"(active co "t")",
           R"(meta.lastModified gt "yesterday")",
           R"(meta.lastModified gt 5)",
           R"(userName gt null)",
           R"(userName eq 12)",
           R"(name eq "x")",
           "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User eq \"x\"",
           "( )",
           "[ ]",
       })
    expect_invalid(bad);
}

BOOST_AUTO_TEST_CASE(deep_nesting_and_length_are_bounded) {
  // 10,000 nested parentheses: an error, not a stack overflow.
  expect_invalid(std::string(10000, '(') + "title pr" + std::string(10000, ')'));
  expect_invalid(std::string(4000, '(') + "title pr" + std::string(4000, ')'));
  std::string nots;
  for (int i = 0; i < 2000; ++i)
    nots += "not (";
  expect_invalid(nots + "title pr" + std::string(2000, ')'));
  // Within the limits: 30 levels parse and evaluate.
  BOOST_TEST(user_matches(std::string(30, '(') + "title pr" + std::string(30, ')')));
  // A long flat chain is not deep: 700 terms joined by or.
  std::string chain = "title pr";
  for (int i = 0; i < 700; ++i)
    chain += " or id pr";
  BOOST_TEST(chain.size() < max_filter_length);
  BOOST_TEST(user_matches(chain));
  expect_invalid(std::string(max_filter_length + 1, ' '));
}

BOOST_AUTO_TEST_CASE(matching_odd_stored_data_never_throws) {
  const auto f = filter::parse(R"(emails[type eq "work"].value eq "x" or title gt "a" or meta.created lt "2026-01-01")",
                               resource_kind::user);
  for (const char *odd : {R"({})", R"([])", R"(null)", R"({"emails": 5, "title": 7, "meta": "x"})",
                          R"({"emails": [1, null, {"type": 3}], "meta": {"created": "not a date"}})"})
    BOOST_TEST(!f->matches(json::parse(odd)), odd);
}

BOOST_AUTO_TEST_SUITE_END()
