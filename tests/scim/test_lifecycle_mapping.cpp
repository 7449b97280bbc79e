// test_lifecycle_mapping.cpp — the SCIM change → lifecycle event mapping as a
// table: each row a before/after pair and the event (or none) it must give.
#include "lifecycle_mapping.hpp"

#include <boost/test/unit_test.hpp>

using namespace reclaim::scimd;
using json = nlohmann::json;

namespace {

const std::string ent = enterprise_urn;
const std::string lc = lifecycle_urn;

json user(int version, json extra = json::object()) {
  json u = {{"schemas", {"urn:ietf:params:scim:schemas:core:2.0:User"}},
            {"id", "u-1"},
            {"userName", "ada@example.com"},
            {"externalId", "ext-1"},
            {"active", true},
            {"emails", {{{"value", "ada@example.com"}, {"type", "work"}}}},
            {ent, {{"employeeNumber", "E100"}, {"department", "Research"}}},
            {"meta", {{"version", "W/\"" + std::to_string(version) + "\""}}}};
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    if (it.value().is_object() && u.contains(it.key()) && u[it.key()].is_object()) u[it.key()].update(it.value());
    else u[it.key()] = it.value();
  }
  return u;
}

struct row {
  const char *name;
  std::optional<json> before, after;
  std::optional<std::string> state; // nullopt: no event
  std::string previous = "";
};

} // namespace

BOOST_AUTO_TEST_CASE(mapping_table) {
  mapping_config cfg;
  cfg.hold_attribute = "businessCategory";
  cfg.hold_value = "legal-hold";
  const std::vector<row> rows = {
      {"create active", std::nullopt, user(1), "active", "none"},
      {"create inactive", std::nullopt, user(1, {{"active", false}}), "terminated", "none"},
      {"deactivate", user(1), user(2, {{"active", false}}), "terminated", "active"},
      {"deactivate with string False", user(1), user(2, {{"active", "False"}}), "terminated", "active"},
      {"deactivate to leave", user(1), user(2, {{"active", false}, {lc, {{"state", "leave"}}}}), "leave", "active"},
      {"reactivate", user(2, {{"active", false}}), user(3), "reactivated", "terminated"},
      {"reactivate from leave", user(2, {{"active", false}, {lc, {{"state", "leave"}}}}), user(3), "reactivated", "leave"},
      {"delete", user(3), std::nullopt, "deleted", "active"},
      {"delete inactive", user(3, {{"active", false}}), std::nullopt, "deleted", "terminated"},
      {"department change", user(1), user(2, {{ent, {{"department", "Sales"}}}}), "transferred", "active"},
      {"manager change", user(1), user(2, {{ent, {{"manager", {{"value", "m-2"}}}}}}), "transferred", "active"},
      {"manager as bare string", user(1), user(2, {{"manager", "m-3"}}), "transferred", "active"},
      {"title change", user(1), user(2, {{"title", "CTO"}}), "transferred", "active"},
      {"department change while inactive", user(1, {{"active", false}}),
       user(2, {{"active", false}, {ent, {{"department", "Sales"}}}}), std::nullopt},
      {"display name only", user(1), user(2, {{"displayName", "Ada L."}}), std::nullopt},
      {"contract end date set", user(1), user(2, {{lc, {{"contractEndDate", "2027-03-31"}}}}), "contract_ended", "active"},
      {"legal hold set", user(1, {{"active", false}}), user(2, {{"active", false}, {lc, {{"legalHold", true}}}}), "terminated",
       "terminated"},
      {"legal hold lifted", user(2, {{lc, {{"legalHold", true}}}}), user(3, {{lc, {{"legalHold", false}}}}), "active", "active"},
      {"no change", user(1), user(1), std::nullopt},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      const auto ev = map_change(cfg, r.before, r.after);
      BOOST_TEST(ev.has_value() == r.state.has_value());
      if (ev && r.state) {
        BOOST_TEST(ev->state == *r.state);
        BOOST_TEST(ev->previous_state == r.previous);
        BOOST_TEST(ev->subject_id == "u-1");
        BOOST_TEST(ev->subject_name == "ada@example.com");
        BOOST_TEST(!ev->idempotency_key.empty());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(event_attributes_are_flattened_for_policy_rules) {
  mapping_config cfg;
  cfg.hold_attribute = "businessCategory";
  cfg.hold_value = "legal-hold";
  const auto ev = map_change(cfg, user(1), user(2, {{"active", false}, {lc, {{"legalHold", "True"}}}, {ent, {{"costCenter", "CC7"}}}}));
  BOOST_TEST_REQUIRE(ev.has_value());
  BOOST_TEST(ev->attributes.at("userName") == std::vector<std::string>{"ada@example.com"});
  BOOST_TEST(ev->attributes.at("emails") == std::vector<std::string>{"ada@example.com"});
  BOOST_TEST(ev->attributes.at("employeeNumber") == std::vector<std::string>{"E100"});
  BOOST_TEST(ev->attributes.at("department") == std::vector<std::string>{"Research"});
  BOOST_TEST(ev->attributes.at("costCenter") == std::vector<std::string>{"CC7"});
  BOOST_TEST(ev->attributes.at("businessCategory") == std::vector<std::string>{"legal-hold"});
  BOOST_TEST(ev->attributes.count("manager") == 0u);
}

BOOST_AUTO_TEST_CASE(subject_key_names_another_attribute) {
  mapping_config cfg;
  for (const auto &[key, want] : std::vector<std::pair<std::string, std::string>>{
           {"id", "u-1"}, {"externalId", "ext-1"}, {"userName", "ada@example.com"}, {"employeeNumber", "E100"}}) {
    cfg.subject_key = key;
    const auto ev = map_change(cfg, user(1), user(2, {{"active", false}}));
    BOOST_TEST_REQUIRE(ev.has_value());
    BOOST_TEST(ev->subject_id == want, key);
  }
  // A missing value falls back to the SCIM id.
  cfg.subject_key = "employeeNumber";
  json u = user(1);
  u[ent].erase("employeeNumber");
  const auto ev = map_change(cfg, std::nullopt, u);
  BOOST_TEST_REQUIRE(ev.has_value());
  BOOST_TEST(ev->subject_id == "u-1");
}

BOOST_AUTO_TEST_CASE(idempotency_key_follows_the_resulting_version) {
  mapping_config cfg;
  const auto a = map_change(cfg, user(1), user(2, {{"active", false}}));
  const auto b = map_change(cfg, user(1), user(2, {{"active", false}}));
  BOOST_TEST_REQUIRE((a && b));
  BOOST_TEST(a->idempotency_key == b->idempotency_key); // the same request replayed
  const auto c = map_change(cfg, user(3, {{"active", false}}), user(4));
  BOOST_TEST_REQUIRE(c.has_value());
  BOOST_TEST(c->idempotency_key != a->idempotency_key);
  // A different change that (after a lost commit) reuses a version number
  // is a different event.
  const auto d = map_change(cfg, user(1), user(2, {{"active", false}, {"title", "x"}}));
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST(d->idempotency_key != a->idempotency_key);
}

BOOST_AUTO_TEST_CASE(inactive_state_is_configurable) {
  mapping_config cfg;
  cfg.inactive_state = "leave";
  const auto ev = map_change(cfg, user(1), user(2, {{"active", false}}));
  BOOST_TEST_REQUIRE(ev.has_value());
  BOOST_TEST(ev->state == "leave");
}

BOOST_AUTO_TEST_CASE(contract_end_date_is_the_event_time) {
  mapping_config cfg;
  const auto ev = map_change(cfg, user(1), user(2, {{lc, {{"contractEndDate", "2027-03-31T17:00:00Z"}}}}));
  BOOST_TEST_REQUIRE(ev.has_value());
  BOOST_TEST(ev->time_unix_ms == 1806512400000LL);
  BOOST_TEST(parse_date_ms("2027-03-31").value() == 1806451200000LL);
  BOOST_TEST(parse_date_ms("2027-03-31T19:00:00+02:00").value() == 1806512400000LL);
  BOOST_TEST(!parse_date_ms("2027-02-30").has_value());
  BOOST_TEST(!parse_date_ms("31/03/2027").has_value());
  BOOST_TEST(!parse_date_ms("2027-03-31T17:00:00").has_value());
}
