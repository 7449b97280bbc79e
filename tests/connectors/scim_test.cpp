// scim_test.cpp — the scim connector against tests/sim/scim_sim.py:
// deactivate by userName with If-Match, already-inactive and unknown users
// without a write, DELETE per config, reactivation for restores, a 412
// (someone changed the user) read again once, a lost answer confirmed by
// reading again, SCIM error bodies as failure reasons, a bad token; users
// found by externalId or by emails[value eq …] (match_by).
#include "harness.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

using namespace reclaim;
using namespace reclaim::ctest;

namespace {

std::string scim_toml(const std::string &url, const std::filesystem::path &dir, const std::string &token = "scim-token") {
  write_secret(dir / "scim.token", token);
  return fmt::format(R"toml(
[connector.slack]
type = "scim"
base_url = "{0}/scim/v2"
token_file = "{1}/scim.token"
user_attribute = "mail"

[connector.slack_delete]
type = "scim"
base_url = "{0}/scim/v2"
token_file = "{1}/scim.token"
user_attribute = "mail"
revoke = "delete"

[[application]]
id = "slack"
connector = "slack"
skus = [ {{ id = "SLACK_PRO", monthly_cost = 8.0 }} ]

[[application]]
id = "slackd"
connector = "slack_delete"
)toml", url, dir.string());
}

json users(int n, bool active = true) {
  json u = json::array();
  for (int i = 0; i < n; ++i)
    u.push_back({{"id", fmt::format("s-{}", i)}, {"userName", fmt::format("U{}@Example.com", i)}, {"active", active}});
  return u;
}

json mail(int i) { return {{"mail", fmt::format("u{}@example.com", i)}}; }

int writes(simulator &sim, const std::string &id) {
  const auto w = sim.state()["writes"];
  return w.contains(id) ? w[id].get<int>() : 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(scim)

BOOST_AUTO_TEST_CASE(deactivate_check_before_act_delete_and_restore) {
  reclaim::test::temp_dir tmp{"reclaim-scim-"};
  simulator sim{"scim_sim.py", tmp.path()};
  sim.seed({{"users", users(3)}});
  store_harness h(scim_toml(sim.url(), tmp.path()));
  const auto off = h.add_action("p0", "slack", action_kind::reclaim_licence, mail(0));
  const auto again = h.add_action("p0", "slack", action_kind::suspend_access, mail(0));
  const auto ghost = h.add_action("px", "slack", action_kind::revoke_access, {{"mail", "nobody@example.com"}});
  const auto del = h.add_action("p1", "slackd", action_kind::revoke_access, mail(1));
  h.run();
  BOOST_TEST(h.action(off).status == "done", h.action(off).outcome);
  BOOST_TEST(h.action(again).status == "already_done", h.action(again).outcome);
  BOOST_TEST(h.action(ghost).status == "already_done", h.action(ghost).outcome);
  BOOST_TEST(h.action(del).status == "done", h.action(del).outcome);
  auto st = sim.state();
  BOOST_TEST(st["users"]["s-0"]["active"] == false);
  BOOST_TEST(!st["users"].contains("s-1"));
  BOOST_TEST(writes(sim, "s-0") == 1);
  const auto back = h.add_action("p0", "slack", action_kind::resume_access, mail(0), "", "", h.action(off).before_image);
  const auto gone = h.add_action("p1", "slack", action_kind::resume_access, mail(1));
  h.run();
  BOOST_TEST(h.action(back).status == "done", h.action(back).outcome);
  BOOST_TEST(sim.state()["users"]["s-0"]["active"] == true);
  BOOST_TEST(h.action(gone).status == "failed");
  BOOST_TEST(h.action(gone).outcome.find("to reactivate") != std::string::npos, h.action(gone).outcome);
}

BOOST_AUTO_TEST_CASE(etag_mismatch_lost_answer_and_errors) {
  reclaim::test::temp_dir tmp{"reclaim-scim-"};
  simulator sim{"scim_sim.py", tmp.path()};
  sim.seed({{"users", users(4)}});
  store_harness h(scim_toml(sim.url(), tmp.path()));
  // Someone changes s-0 between our read and our write: the PATCH meets 412,
  // we read again and write with the new ETag.
  sim.fault({{"kind", "status"}, {"status", 412}, {"method", "PATCH"}, {"count", 1},
             {"body", {{"schemas", {"urn:ietf:params:scim:api:messages:2.0:Error"}}, {"status", "412"},
                       {"detail", "Failed to update. Resource changed on the server."}}}});
  const auto a = h.add_action("p0", "slack", action_kind::suspend_access, mail(0));
  h.run();
  BOOST_TEST(h.action(a).status == "done", h.action(a).outcome);
  BOOST_TEST(h.action(a).attempts == 1);
  // The answer to the PATCH is lost after it was applied.
  sim.fault({{"kind", "lost"}, {"method", "PATCH"}, {"count", 1}});
  const auto b = h.add_action("p1", "slack", action_kind::suspend_access, mail(1));
  h.run();
  BOOST_TEST(h.action(b).status == "done", h.action(b).outcome);
  BOOST_TEST(h.action(b).outcome.find("confirmed by reading again") != std::string::npos, h.action(b).outcome);
  BOOST_TEST(writes(sim, "s-1") == 1);
  // A SCIM error body becomes the failure reason.
  sim.fault({{"kind", "status"}, {"status", 400}, {"method", "PATCH"}, {"count", 1},
             {"body", {{"schemas", {"urn:ietf:params:scim:api:messages:2.0:Error"}}, {"status", 400},
                       {"scimType", "mutability"}, {"detail", "active is read-only for this plan"}}}});
  const auto c = h.add_action("p2", "slack", action_kind::suspend_access, mail(2));
  h.run();
  BOOST_TEST(h.action(c).status == "failed");
  BOOST_TEST(h.action(c).outcome.find("mutability: active is read-only for this plan (status 400)") != std::string::npos,
             h.action(c).outcome);
  // A ListResponse with wrong types is a clear (retried) failure.
  sim.fault({{"kind", "types"}, {"method", "GET"}, {"count", 1},
             {"body", {{"schemas", {"urn:ietf:params:scim:api:messages:2.0:ListResponse"}}, {"totalResults", "1"}}}});
  const auto d = h.add_action("p3", "slack", action_kind::suspend_access, mail(3));
  h.sched().run_due(now());
  BOOST_TEST(h.action(d).outcome.find("totalResults is not an integer") != std::string::npos, h.action(d).outcome);
  h.run();
  BOOST_TEST(h.action(d).status == "done", h.action(d).outcome);
}

BOOST_AUTO_TEST_CASE(a_bad_token_is_a_permanent_failure) {
  reclaim::test::temp_dir tmp{"reclaim-scim-"};
  simulator sim{"scim_sim.py", tmp.path()};
  sim.seed({{"users", users(1)}});
  store_harness h(scim_toml(sim.url(), tmp.path(), "stale-token"));
  const auto a = h.add_action("p0", "slack", action_kind::suspend_access, mail(0));
  h.run();
  BOOST_TEST(h.action(a).status == "failed");
  BOOST_TEST(h.action(a).outcome.find("HTTP 401") != std::string::npos, h.action(a).outcome);
  BOOST_TEST(h.action(a).outcome.find("Authorization failure") != std::string::npos, h.action(a).outcome);
  BOOST_TEST(sim.state()["users"]["s-0"]["active"] == true);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scim_match_by)

namespace {

// Users whose userName is neither their mail nor their employee number:
// only the configured filter finds them; s-decoy's userName is s-1's email.
json matching_users() {
  return json::array(
      {{{"id", "s-0"}, {"userName", "jdoe"}, {"externalId", "E-100"}, {"active", true},
        {"emails", {{{"value", "Jane.Doe@Example.com"}, {"type", "work"}, {"primary", true}}}}},
       {{"id", "s-1"}, {"userName", "rroe"}, {"externalId", "E-101"}, {"active", true},
        {"emails", {{{"value", "home@example.org"}, {"type", "home"}}, {{"value", "r.roe@example.com"}, {"type", "work"}}}}},
       {{"id", "s-decoy"}, {"userName", "r.roe@example.com"}, {"externalId", "e-100"}, {"active", true}}});
}

std::string match_toml(const std::string &url, const std::filesystem::path &dir, const std::string &extra = "") {
  write_secret(dir / "scim.token", "scim-token");
  return fmt::format(R"toml(
[connector.by_external]
type = "scim"
base_url = "{0}/scim/v2"
token_file = "{1}/scim.token"
user_attribute = "employeeNumber"
match_by = "externalId"

[connector.by_email]
type = "scim"
base_url = "{0}/scim/v2"
token_file = "{1}/scim.token"
user_attribute = "mail"
match_by = "email"
{2}

[[application]]
id = "ext"
connector = "by_external"

[[application]]
id = "mail"
connector = "by_email"
)toml", url, dir.string(), extra);
}

} // namespace

BOOST_AUTO_TEST_CASE(users_are_found_by_external_id_or_email_as_configured) {
  reclaim::test::temp_dir tmp{"reclaim-scim-match-"};
  simulator sim{"scim_sim.py", tmp.path()};
  sim.seed({{"users", matching_users()}});
  store_harness h(match_toml(sim.url(), tmp.path()));
  // externalId is caseExact (RFC 7643 §3.1): "E-100" is s-0, not s-decoy's "e-100".
  const auto by_ext = h.add_action("p0", "ext", action_kind::suspend_access, {{"employeenumber", "E-100"}});
  // emails[value eq …] matches any of the user's emails, case-insensitively;
  // s-decoy's userName is this address and must not be chosen.
  const auto by_mail = h.add_action("p1", "mail", action_kind::suspend_access, {{"mail", "R.Roe@example.com"}});
  const auto nobody = h.add_action("p2", "mail", action_kind::suspend_access, {{"mail", "jdoe"}});
  h.run();
  BOOST_TEST(h.action(by_ext).status == "done", h.action(by_ext).outcome);
  BOOST_TEST(h.action(by_mail).status == "done", h.action(by_mail).outcome);
  BOOST_TEST(h.action(nobody).status == "already_done", h.action(nobody).outcome); // a userName is not an email
  const auto st = sim.state();
  BOOST_TEST(st["users"]["s-0"]["active"] == false);
  BOOST_TEST(st["users"]["s-1"]["active"] == false);
  BOOST_TEST(st["users"]["s-decoy"]["active"] == true);
  BOOST_TEST(writes(sim, "s-decoy") == 0);
}

BOOST_AUTO_TEST_CASE(a_value_with_quotes_is_a_json_string_in_the_filter) {
  reclaim::test::temp_dir tmp{"reclaim-scim-match-"};
  simulator sim{"scim_sim.py", tmp.path()};
  sim.seed({{"users", json::array({{{"id", "q"}, {"userName", "q"}, {"externalId", "a\"b\\c"}, {"active", true}}})}});
  store_harness h(match_toml(sim.url(), tmp.path()));
  const auto id = h.add_action("p0", "ext", action_kind::suspend_access, {{"employeenumber", "a\"b\\c"}});
  h.run();
  BOOST_TEST(h.action(id).status == "done", h.action(id).outcome);
  BOOST_TEST(sim.state()["users"]["q"]["active"] == false);
}

BOOST_AUTO_TEST_CASE(an_unknown_match_by_is_refused_with_its_position) {
  reclaim::test::temp_dir tmp{"reclaim-scim-match-"};
  try {
    store_harness h(match_toml("http://127.0.0.1:9", tmp.path(), "[connector.bad]\ntype = \"scim\"\nbase_url = "
                                                                  "\"http://127.0.0.1:9/scim/v2\"\ntoken_file = \"" +
                                                                      (tmp / "scim.token").string() +
                                                                      "\"\nmatch_by = \"mail\""));
    BOOST_ERROR("match_by = \"mail\" accepted");
  } catch (const config_error &e) {
    const std::string what = e.what();
    BOOST_TEST(what.find("connector.bad.match_by") != std::string::npos, what);
    BOOST_TEST(what.find("\"mail\" is not \"userName\", \"externalId\" or \"email\"") != std::string::npos, what);
    BOOST_TEST(what.find("reclaim.toml:") != std::string::npos, what);
  }
}

BOOST_AUTO_TEST_SUITE_END()
