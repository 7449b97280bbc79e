// test_intake.cpp — plugin/intake/ldap_intake: directory changes become lifecycle
// events in a real journal (SQLite in a temp dir), and start-up catch-up
// through a fake host search.
#include "ldap/csn.hpp"
#include "store/journal.hpp"
#include "intake/ldap_intake.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

using reclaim::state;
using reclaim::ldap::change;
using reclaim::ldap::entry;
using reclaim::ldap::operation;
using reclaim::ldap::phase;
using reclaim::unit::make_entry;

namespace {

const std::string people = "ou=People,dc=example,dc=com";
const std::string leavers = "ou=Leavers,dc=example,dc=com";

std::string csn(int n) { return fmt::format("20261127230108.{:06d}Z#000000#000#000000", n); }

entry person(const std::string &uuid, int csn_n, reclaim::unit::attr_list extra = {},
             const std::string &dn = "cn=Ann," + people) {
  entry e = make_entry(dn, {{"objectClass", {"top", "inetOrgPerson"}},
                            {"cn", {"Ann"}},
                            {"entryUUID", {uuid}},
                            {"entryCSN", {csn(csn_n)}}});
  for (const auto &[name, values] : extra)
    for (const auto &v : values) e.add(name, v);
  return e;
}

// The host side of catch-up: a list of entries and a crude filter
// evaluation (entryUUID equality, entryCSN>=, else everything).
struct fake_directory {
  std::vector<entry> entries;
  struct call {
    std::string base, filter;
    std::vector<std::string> attributes;
  };
  std::vector<call> calls;
  bool fail = false;

  void put(entry e) {
    for (auto &have : entries)
      if (have.first("entryUUID") == e.first("entryUUID")) {
        have = std::move(e);
        return;
      }
    entries.push_back(std::move(e));
  }
  void remove(const std::string &uuid) {
    std::erase_if(entries, [&](const entry &e) { return e.first("entryUUID") == uuid; });
  }

  reclaim::ldap::search_fn fn() {
    return [this](const std::string &base, const std::string &filter,
                  const std::vector<std::string> &attributes,
                  const std::function<void(entry &&)> &on_entry) {
      calls.push_back({base, filter, attributes});
      if (fail) return false;
      auto value_of = [&](const std::string &prefix) -> std::optional<std::string> {
        const auto at = filter.find(prefix);
        if (at == std::string::npos) return std::nullopt;
        const auto start = at + prefix.size();
        return filter.substr(start, filter.find(')', start) - start);
      };
      const auto uuid = value_of("(entryUUID=");
      const auto from = value_of("(entryCSN>=");
      for (const auto &e : entries) {
        if (uuid && e.first("entryUUID") != *uuid) continue;
        if (from && e.first("entryCSN") < *from) continue;
        entry copy = e;
        on_entry(std::move(copy));
      }
      return true;
    };
  }
};

struct intake_fixture {
  reclaim::unit::temp_dir dir;
  reclaim::config cfg = reclaim::unit::load_toml(dir, reclaim::unit::config_text(dir));
  reclaim::journal j{cfg.journal_path(), reclaim::sqlite::durability::normal};
  reclaim::unit::log_capture logs;
  reclaim::logger log = logs.make();
  reclaim::time_point at = reclaim::from_unix_ms(1'795'820'468'669);

  intake_fixture() { reclaim::set_fixed_now(at); }
  ~intake_fixture() { reclaim::set_fixed_now(std::nullopt); }

  bool apply(operation op, std::optional<entry> before, std::optional<entry> after,
             phase when = phase::commit) {
    change c;
    c.op = op;
    c.when = when;
    c.before = std::move(before);
    c.after = std::move(after);
    c.actor = "cn=admin,dc=example,dc=com";
    c.time = at;
    return reclaim::ldap::apply_change(j, cfg.ldap, c, log);
  }

  // Adds u1 (active, csn 1) as a baseline for the change under test.
  entry add_ann() {
    auto e = person("u1", 1, {{"departmentNumber", {"100"}}});
    BOOST_TEST_REQUIRE(apply(operation::add, std::nullopt, e));
    return e;
  }

  std::vector<reclaim::event_record> events() { return j.events({}); }

  reclaim::event_record last_event() {
    auto all = events();
    BOOST_TEST_REQUIRE(!all.empty());
    return all.back();
  }

  size_t catch_up(fake_directory &d) { return reclaim::ldap::catch_up(j, cfg.ldap, d.fn(), log); }

  // A modify as a host without the entry sends it: DN and modifications.
  bool modify(const std::string &dn, std::vector<reclaim::ldap::modification> mods, int csn_n,
              std::vector<change> *unread = nullptr, bool replicated = false) {
    change c;
    c.op = operation::modify;
    c.dn = dn;
    c.mods = std::move(mods);
    if (csn_n > 0) c.mods.push_back({2, "entryCSN", {csn(csn_n)}});
    c.replicated = replicated;
    c.actor = "cn=admin,dc=example,dc=com";
    c.time = at;
    return reclaim::ldap::apply_change(j, cfg.ldap, c, log, unread);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(intake, intake_fixture)

BOOST_AUTO_TEST_CASE(add_is_none_to_active) {
  const auto e = person("U1-UPPER", 1, {{"departmentNumber", {"100"}}});
  BOOST_TEST(apply(operation::add, std::nullopt, e));
  const auto ev = last_event();
  BOOST_TEST(ev.subject_id == "u1-upper"); // entryUUID lower-cased
  BOOST_TEST(ev.subject_name == e.dn);
  BOOST_TEST(ev.previous == state::none);
  BOOST_TEST(ev.current == state::active);
  BOOST_TEST(ev.source == "ldap");
  BOOST_TEST(ev.actor == "cn=admin,dc=example,dc=com");
  BOOST_TEST(ev.idempotency_key == "u1-upper/" + csn(1));
  // The event's time is the directory's commit time, from the entryCSN.
  BOOST_TEST(reclaim::to_unix_ms(ev.time) == reclaim::to_unix_ms(reclaim::ldap::parse_csn(csn(1))->time));
  BOOST_TEST(ev.position == csn(1));
  const auto attrs = nlohmann::json::parse(ev.attributes_json);
  BOOST_TEST(attrs.at("dn").get<std::string>() == e.dn);
  BOOST_TEST(attrs.at("operation").get<std::string>() == "add");
  BOOST_TEST(attrs.at("departmentNumber").at(0).get<std::string>() == "100");
  BOOST_TEST(!attrs.contains("objectClass"));
  const auto s = j.subject("u1-upper");
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->current == state::active);
  BOOST_TEST(s->csn == csn(1));
  BOOST_TEST(j.resume_csn() == csn(1));
}

BOOST_AUTO_TEST_CASE(add_in_a_resting_state_is_that_state) {
  BOOST_TEST(apply(operation::add, std::nullopt, person("u1", 1, {{"employeeType", {"leave"}}})));
  BOOST_TEST(last_event().previous == state::none);
  BOOST_TEST(last_event().current == state::leave);
}

BOOST_AUTO_TEST_CASE(modify_to_terminated) {
  const auto before = add_ann();
  BOOST_TEST(apply(operation::modify, before,
                   person("u1", 2, {{"departmentNumber", {"100"}}, {"employeeType", {"terminated"}}})));
  const auto ev = last_event();
  BOOST_TEST(ev.previous == state::active);
  BOOST_TEST(ev.current == state::terminated);
  BOOST_TEST(ev.idempotency_key == "u1/" + csn(2));
  BOOST_TEST(nlohmann::json::parse(ev.attributes_json).at("operation").get<std::string>() == "modify");
  BOOST_TEST(j.subject("u1")->current == state::terminated);
  BOOST_TEST(j.resume_csn() == csn(2));
}

BOOST_AUTO_TEST_CASE(modifications_apply_to_the_recorded_copy) {
  add_ann();
  // Replace, add and delete of values, case-insensitively; the DN as the
  // client wrote it.
  BOOST_TEST(modify("CN=Ann,OU=people,dc=example,dc=com", {{2, "employeeType", {"Terminated"}}}, 2));
  auto ev = last_event();
  BOOST_TEST(ev.previous == state::active);
  BOOST_TEST(ev.current == state::terminated);
  BOOST_TEST(ev.idempotency_key == "u1/" + csn(2));
  const auto attrs = nlohmann::json::parse(ev.attributes_json);
  BOOST_TEST(attrs.at("before").at("departmentNumber").at(0).get<std::string>() == "100");
  BOOST_TEST(!attrs.at("before").contains("employeeType"));
  BOOST_TEST(modify("cn=Ann," + people, {{1, "employeeType", {"TERMINATED"}}, {0, "employeeType", {"employee"}}}, 3));
  BOOST_TEST(last_event().previous == state::terminated);
  BOOST_TEST(last_event().current == state::reactivated);
  BOOST_TEST(modify("cn=Ann," + people, {{0, "departmentNumber", {"200"}}, {1, "departmentNumber", {"100"}}}, 4));
  BOOST_TEST(last_event().current == state::transferred);
  BOOST_TEST(j.subject("u1")->csn == csn(4));
  BOOST_TEST(j.resume_csn() == csn(4));
}

BOOST_AUTO_TEST_CASE(packed_modify_round_trips) {
  change c;
  c.dn = "cn=Ann\\2C Jr.," + people;
  c.actor = "cn=admin,dc=example,dc=com";
  c.time = at;
  c.replicated = true;
  c.mods = {{2, "employeeType", {"terminated"}}, {1, "title", {}}, {0, "description;lang-de", {"", "Ä\xff", std::string(70000, 'x')}}};
  const auto packed = reclaim::ldap::pack_modify(c);
  const auto back = reclaim::ldap::unpack_modify(packed);
  BOOST_TEST(back.dn == c.dn);
  BOOST_TEST(back.actor == c.actor);
  BOOST_TEST(back.source == "ldap");
  BOOST_TEST(back.replicated);
  BOOST_TEST(reclaim::to_unix_ms(back.time) == reclaim::to_unix_ms(at));
  BOOST_TEST_REQUIRE(back.mods.size() == 3u);
  BOOST_TEST(back.mods[1].op == 1);
  BOOST_TEST(back.mods[1].values.empty());
  BOOST_TEST(back.mods[2].type == "description;lang-de");
  BOOST_TEST(back.mods[2].values == c.mods[2].values);
  BOOST_CHECK_THROW(reclaim::ldap::unpack_modify(std::string_view(packed).substr(0, packed.size() - 1)),
                    std::runtime_error);
  // Only a modify given as modifications is packed.
  BOOST_TEST(reclaim::ldap::pack_modify(change{}).empty());
}

BOOST_AUTO_TEST_CASE(modifications_already_in_the_copy_are_no_event) {
  add_ann();
  // The copy was read after this change (catch-up, refresh): csn 1 <= 1.
  BOOST_TEST(!modify("cn=Ann," + people, {{2, "employeeType", {"terminated"}}}, 1));
  BOOST_TEST(events().size() == 1u);
  BOOST_TEST(j.subject("u1")->current == state::active);
}

BOOST_AUTO_TEST_CASE(modifications_of_an_unknown_entry_are_handed_back) {
  std::vector<change> unread;
  // Not a recorded person, and a modify without its entryCSN: both need a read.
  BOOST_TEST(!modify("cn=Bob," + people, {{2, "employeeType", {"terminated"}}}, 2, &unread));
  add_ann();
  BOOST_TEST(!modify("cn=Ann," + people, {{2, "employeeType", {"terminated"}}}, 0, &unread));
  // Out of base and unparsable DNs are not read again.
  BOOST_TEST(!modify("cn=Eve,dc=other", {{2, "employeeType", {"terminated"}}}, 2, &unread));
  BOOST_TEST(!modify("not a dn", {{2, "employeeType", {"terminated"}}}, 2, &unread));
  BOOST_TEST_REQUIRE(unread.size() == 2u);
  BOOST_TEST(unread[0].dn == "cn=Bob," + people);
  BOOST_TEST(unread[1].dn == "cn=Ann," + people);
  BOOST_TEST(logs.contains("does not parse"));

  // The host reads them again: Ann is terminated now, Bob is new.
  fake_directory d;
  d.put(person("u1", 3, {{"departmentNumber", {"100"}}, {"employeeType", {"terminated"}}}));
  d.put(person("u2", 4, {}, "cn=Bob," + people));
  BOOST_TEST(reclaim::ldap::refresh(j, cfg.ldap, unread, d.fn(), log) == 2u);
  const auto all = events();
  BOOST_TEST_REQUIRE(all.size() == 3u);
  BOOST_TEST(all[1].subject_id == "u2");
  BOOST_TEST(all[1].previous == state::none);
  BOOST_TEST(all[2].subject_id == "u1");
  BOOST_TEST(all[2].previous == state::active);
  BOOST_TEST(all[2].current == state::terminated);
  BOOST_TEST(all[2].actor == "cn=admin,dc=example,dc=com");
  // Now both have copies: the next modify applies directly.
  BOOST_TEST(modify("cn=Bob," + people, {{2, "employeeType", {"leave"}}}, 5));
  BOOST_TEST(last_event().current == state::leave);
}

BOOST_AUTO_TEST_CASE(replicated_changes_update_the_copy_only) {
  add_ann();
  BOOST_TEST(!modify("cn=Ann," + people, {{2, "employeeType", {"terminated"}}}, 2, nullptr, true));
  BOOST_TEST(events().size() == 1u);
  BOOST_TEST(j.subject("u1")->current == state::terminated);
  BOOST_TEST(j.resume_csn() == csn(1)); // the other server's change is not ours to resume from
  // The local rehire that follows is a reactivation, not active -> active.
  BOOST_TEST(modify("cn=Ann," + people, {{2, "employeeType", {"employee"}}}, 3));
  BOOST_TEST(last_event().previous == state::terminated);
  BOOST_TEST(last_event().current == state::reactivated);
  // A replicated rename or delete: the copy no longer answers to the DN.
  change moved;
  moved.op = operation::modrdn;
  moved.dn = "cn=Ann," + people;
  moved.replicated = true;
  BOOST_TEST(!reclaim::ldap::apply_change(j, cfg.ldap, moved, log));
  std::vector<change> unread;
  BOOST_TEST(!modify("cn=Ann," + people, {{2, "employeeType", {"leave"}}}, 4, &unread));
  BOOST_TEST(unread.size() == 1u);
  BOOST_TEST(j.subject("u1")->current == state::active);
}

BOOST_AUTO_TEST_CASE(modify_to_each_resting_state) {
  struct row {
    const char *name;
    std::pair<std::string, std::vector<std::string>> attr;
    state expected;
  };
  const row rows[] = {
      {"employeeType leave", {"employeeType", {"leave"}}, state::leave},
      {"account disabled", {"userAccountControl", {"514"}}, state::leave},
      {"ppolicy lock", {"pwdAccountLockedTime", {"000001010000Z"}}, state::leave},
      {"shadowExpire yesterday", {"shadowExpire", {"20783"}}, state::contract_ended},
  };
  int n = 10;
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      const std::string uuid = fmt::format("u{}", n);
      const auto before = person(uuid, n);
      BOOST_TEST(apply(operation::add, std::nullopt, before));
      entry after = person(uuid, n + 1);
      for (const auto &v : r.attr.second) after.add(r.attr.first, v);
      BOOST_TEST(apply(operation::modify, before, after));
      BOOST_TEST(last_event().previous == state::active);
      BOOST_TEST(last_event().current == r.expected);
      n += 2;
    }
  }
}

BOOST_AUTO_TEST_CASE(modify_that_keeps_the_state_is_no_event) {
  const auto before = add_ann();
  const auto count = j.event_count();
  BOOST_TEST(!apply(operation::modify, before,
                    person("u1", 2, {{"departmentNumber", {"100"}}, {"telephoneNumber", {"+1 555"}}})));
  BOOST_TEST(j.event_count() == count);
  // Still remembered: resume point and subject CSN move on.
  BOOST_TEST(j.subject("u1")->csn == csn(2));
  BOOST_TEST(j.resume_csn() == csn(2));
  // A second rule matching the same state is no event either.
  const auto leave1 = person("u1", 3, {{"departmentNumber", {"100"}}, {"employeeType", {"leave"}}});
  BOOST_TEST(apply(operation::modify, person("u1", 2, {{"departmentNumber", {"100"}}}), leave1));
  const auto leave2 = person("u1", 4, {{"departmentNumber", {"100"}}, {"employeeType", {"leave"}},
                                       {"userAccountControl", {"514"}}});
  BOOST_TEST(!apply(operation::modify, leave1, leave2));
}

BOOST_AUTO_TEST_CASE(transfer_while_active) {
  const auto before = add_ann();
  BOOST_TEST(apply(operation::modify, before, person("u1", 2, {{"departmentNumber", {"200"}}})));
  const auto ev = last_event();
  BOOST_TEST(ev.previous == state::active);
  BOOST_TEST(ev.current == state::transferred);
  // The resting state stays active; the new department is remembered.
  const auto s = j.subject("u1");
  BOOST_TEST(s->current == state::active);
  BOOST_TEST(s->transfer_key == reclaim::ldap::transfer_key(cfg.ldap, person("u1", 2, {{"departmentNumber", {"200"}}})));
  // Same department again (values reordered): no event.
  BOOST_TEST(!apply(operation::modify, person("u1", 2, {{"departmentNumber", {"200"}}}),
                    person("u1", 3, {{"departmentNumber", {"200"}}, {"telephoneNumber", {"1"}}})));
  // A new title is a transfer too.
  BOOST_TEST(apply(operation::modify, person("u1", 3, {{"departmentNumber", {"200"}}}),
                   person("u1", 4, {{"departmentNumber", {"200"}}, {"title", {"Lead"}}})));
  BOOST_TEST(last_event().current == state::transferred);
}

BOOST_AUTO_TEST_CASE(department_change_while_away_is_no_transfer) {
  const auto before = person("u1", 1, {{"departmentNumber", {"100"}}, {"employeeType", {"leave"}}});
  BOOST_TEST(apply(operation::add, std::nullopt, before));
  BOOST_TEST(!apply(operation::modify, before,
                    person("u1", 2, {{"departmentNumber", {"200"}}, {"employeeType", {"leave"}}})));
}

BOOST_AUTO_TEST_CASE(reactivation_from_each_away_state) {
  struct row {
    const char *name;
    std::pair<std::string, std::vector<std::string>> attr;
    state away;
  };
  const row rows[] = {
      {"terminated", {"employeeType", {"terminated"}}, state::terminated},
      {"leave", {"employeeType", {"leave"}}, state::leave},
      {"contract_ended", {"shadowExpire", {"0"}}, state::contract_ended},
  };
  int n = 10;
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("from " << r.name) {
      const std::string uuid = fmt::format("u{}", n);
      entry away = person(uuid, n);
      for (const auto &v : r.attr.second) away.add(r.attr.first, v);
      BOOST_TEST(apply(operation::add, std::nullopt, away));
      BOOST_TEST(last_event().current == r.away);
      BOOST_TEST(apply(operation::modify, away, person(uuid, n + 1)));
      const auto ev = last_event();
      BOOST_TEST(ev.subject_id == uuid);
      BOOST_TEST(ev.previous == r.away);
      BOOST_TEST(ev.current == state::reactivated);
      // The resting state is active again.
      BOOST_TEST(j.subject(uuid)->current == state::active);
      n += 2;
    }
  }
}

BOOST_AUTO_TEST_CASE(leave_to_terminated_is_not_a_reactivation) {
  const auto on_leave = person("u1", 1, {{"employeeType", {"leave"}}});
  BOOST_TEST(apply(operation::add, std::nullopt, on_leave));
  BOOST_TEST(apply(operation::modify, on_leave, person("u1", 2, {{"employeeType", {"terminated"}}})));
  BOOST_TEST(last_event().previous == state::leave);
  BOOST_TEST(last_event().current == state::terminated);
}

BOOST_AUTO_TEST_CASE(modrdn_into_leavers_and_back) {
  const auto before = add_ann();
  const auto moved = person("u1", 2, {{"departmentNumber", {"100"}}}, "cn=Ann," + leavers);
  BOOST_TEST(apply(operation::modrdn, before, moved));
  auto ev = last_event();
  BOOST_TEST(ev.previous == state::active);
  BOOST_TEST(ev.current == state::terminated);
  BOOST_TEST(ev.subject_id == "u1");
  BOOST_TEST(ev.subject_name == moved.dn);
  auto attrs = nlohmann::json::parse(ev.attributes_json);
  BOOST_TEST(attrs.at("operation").get<std::string>() == "modrdn");
  BOOST_TEST(attrs.at("previous_dn").get<std::string>() == before.dn);
  BOOST_TEST(j.subject("u1")->name == moved.dn);

  // Moved back: a rehire.
  BOOST_TEST(apply(operation::modrdn, moved, person("u1", 3, {{"departmentNumber", {"100"}}})));
  ev = last_event();
  BOOST_TEST(ev.previous == state::terminated);
  BOOST_TEST(ev.current == state::reactivated);
}

BOOST_AUTO_TEST_CASE(rename_in_place_is_no_event) {
  const auto before = add_ann();
  BOOST_TEST(!apply(operation::modrdn, before,
                    person("u1", 2, {{"departmentNumber", {"100"}}}, "cn=Ann Smith," + people)));
  BOOST_TEST(j.subject("u1")->name == "cn=Ann Smith," + people);
}

BOOST_AUTO_TEST_CASE(delete_after_prepare) {
  const auto before = add_ann();
  BOOST_TEST(reclaim::ldap::prepare_delete(j, cfg.ldap, before));
  BOOST_TEST(j.pending_deletes().size() == 1u);
  BOOST_TEST(apply(operation::remove, before, std::nullopt));
  const auto ev = last_event();
  BOOST_TEST(ev.previous == state::active);
  BOOST_TEST(ev.current == state::deleted);
  BOOST_TEST(ev.idempotency_key == "u1/deleted/" + csn(1));
  BOOST_TEST(ev.subject_name == before.dn);
  BOOST_TEST(nlohmann::json::parse(ev.attributes_json).at("operation").get<std::string>() == "delete");
  BOOST_TEST(j.pending_deletes().empty());
  BOOST_TEST(j.subject("u1")->current == state::deleted);
  // A second report of the same delete is no new event.
  const auto count = j.event_count();
  BOOST_TEST(!apply(operation::remove, before, std::nullopt));
  BOOST_TEST(j.event_count() == count);
}

BOOST_AUTO_TEST_CASE(delete_of_a_person_never_seen_uses_the_pre_image_state) {
  const auto leaver = person("u7", 7, {}, "cn=Old," + leavers);
  BOOST_TEST(apply(operation::remove, leaver, std::nullopt));
  BOOST_TEST(last_event().previous == state::terminated);
  BOOST_TEST(last_event().current == state::deleted);
}

BOOST_AUTO_TEST_CASE(aborted_delete_forgets_the_prepared_pre_image) {
  const auto before = add_ann();
  BOOST_TEST(reclaim::ldap::prepare_delete(j, cfg.ldap, before));
  const auto count = j.event_count();
  BOOST_TEST(!apply(operation::remove, before, std::nullopt, phase::abort));
  BOOST_TEST(j.pending_deletes().empty());
  BOOST_TEST(j.event_count() == count);
  BOOST_TEST(j.subject("u1")->current == state::active);
}

BOOST_AUTO_TEST_CASE(aborted_or_prepared_modify_is_no_event) {
  const auto before = add_ann();
  const auto after = person("u1", 2, {{"employeeType", {"terminated"}}});
  BOOST_TEST(!apply(operation::modify, before, after, phase::abort));
  BOOST_TEST(!apply(operation::modify, before, after, phase::prepare));
  BOOST_TEST(j.event_count() == 1);
  BOOST_TEST(j.subject("u1")->current == state::active);
}

BOOST_AUTO_TEST_CASE(change_without_an_image_is_ignored_with_a_log_line) {
  BOOST_TEST(!apply(operation::modify, person("u1", 1), std::nullopt));
  BOOST_TEST(!apply(operation::remove, std::nullopt, std::nullopt));
  BOOST_TEST(j.event_count() == 0);
  BOOST_TEST(logs.contains("without a post-image"));
  BOOST_TEST(logs.contains("without a pre-image"));
}

BOOST_AUTO_TEST_CASE(non_person_is_ignored) {
  const auto ou = make_entry("ou=Sales," + people, {{"objectClass", {"organizationalUnit"}},
                                                    {"entryUUID", {"g1"}},
                                                    {"entryCSN", {csn(1)}},
                                                    {"employeeType", {"terminated"}}});
  BOOST_TEST(!apply(operation::add, std::nullopt, ou));
  BOOST_TEST(!reclaim::ldap::prepare_delete(j, cfg.ldap, ou));
  BOOST_TEST(!apply(operation::remove, ou, std::nullopt));
  BOOST_TEST(j.event_count() == 0);
  BOOST_TEST(!j.subject("g1").has_value());
  BOOST_TEST(j.pending_deletes().empty());
}

BOOST_AUTO_TEST_CASE(out_of_base_is_ignored) {
  const auto outside = person("u1", 1, {}, "cn=Ann,ou=People,dc=example,dc=org");
  BOOST_TEST(!apply(operation::add, std::nullopt, outside));
  BOOST_TEST(!reclaim::ldap::prepare_delete(j, cfg.ldap, outside));
  BOOST_TEST(!apply(operation::remove, outside, std::nullopt));
  const auto lookalike = person("u2", 2, {}, "cn=Bob,dc=notexample,dc=com");
  BOOST_TEST(!apply(operation::add, std::nullopt, lookalike));
  BOOST_TEST(j.event_count() == 0);
  BOOST_TEST(!j.subject("u1").has_value());
}

BOOST_AUTO_TEST_CASE(entry_without_entry_uuid_uses_its_dn) {
  const auto e = make_entry("CN=Smith\\, John, OU=People,dc=example,dc=com",
                            {{"objectClass", {"person"}}, {"entryCSN", {csn(1)}}});
  BOOST_TEST(apply(operation::add, std::nullopt, e));
  const auto ev = last_event();
  BOOST_TEST(ev.subject_id == "dn:cn=smith\\2c john,ou=people,dc=example,dc=com");
  BOOST_TEST(ev.idempotency_key == ev.subject_id + "/" + csn(1));
  BOOST_TEST(logs.contains("no entryUUID"));
  // The same person written differently is the same subject.
  const auto again = make_entry("cn=smith\\2c john,ou=people,dc=example,dc=com",
                                {{"objectClass", {"person"}}, {"entryCSN", {csn(2)}},
                                 {"employeeType", {"leaver"}}});
  BOOST_TEST(apply(operation::modify, e, again));
  BOOST_TEST(last_event().subject_id == ev.subject_id);
  BOOST_TEST(last_event().current == state::terminated);
}

BOOST_AUTO_TEST_CASE(entry_without_entry_csn_keys_by_time) {
  auto e = make_entry("cn=Ann," + people, {{"objectClass", {"person"}}, {"entryUUID", {"u1"}}});
  BOOST_TEST(apply(operation::add, std::nullopt, e));
  BOOST_TEST(last_event().idempotency_key == fmt::format("u1/t{}", reclaim::to_unix_ms(at)));
  BOOST_TEST(j.resume_csn().empty());
}

BOOST_AUTO_TEST_CASE(invalid_utf8_and_huge_values_do_not_stop_the_event) {
  const auto before = add_ann();
  auto after = person("u1", 2, {{"employeeType", {"terminated"}}, {"title", {"bad \xC3\x28 utf8 \xFF"}}});
  for (int i = 0; i < 5000; ++i) after.add("departmentNumber", std::to_string(i));
  BOOST_TEST(apply(operation::modify, before, after));
  const auto ev = last_event();
  BOOST_TEST(ev.current == state::terminated);
  const auto attrs = nlohmann::json::parse(ev.attributes_json); // still valid JSON
  BOOST_TEST(attrs.at("departmentNumber").size() == 5000u);
  BOOST_TEST(attrs.at("title").at(0).get<std::string>().find("\xEF\xBF\xBD") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(same_change_seen_twice_is_one_event) {
  const auto before = add_ann();
  const auto after = person("u1", 2, {{"departmentNumber", {"100"}}, {"employeeType", {"leave"}}});
  BOOST_TEST(apply(operation::modify, before, after));
  const auto count = j.event_count();
  BOOST_TEST(!apply(operation::modify, before, after));
  BOOST_TEST(j.event_count() == count);
}

BOOST_AUTO_TEST_CASE(older_csn_after_newer_does_not_overwrite_the_subject) {
  const auto v1 = add_ann();
  const auto v2 = person("u1", 2, {{"departmentNumber", {"100"}}, {"employeeType", {"leave"}}});
  const auto v3 = person("u1", 3, {{"departmentNumber", {"100"}}, {"employeeType", {"terminated"}}});
  // The callback of the newer change (v2 -> v3) arrives first.
  BOOST_TEST(apply(operation::modify, v2, v3));
  BOOST_TEST(apply(operation::modify, v1, v2)); // a real, older event
  const auto s = j.subject("u1");
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s->current == state::terminated);
  BOOST_TEST(s->csn == csn(3));
  BOOST_TEST(j.resume_csn() == csn(3));
  // Reading the entry as it now is (catch-up: no pre-image) is no event.
  const auto count = j.event_count();
  BOOST_TEST(!apply(operation::modify, std::nullopt, v3));
  BOOST_TEST(j.event_count() == count);
}

// A modify's callback that is late past the delete of the same entry. The
// delete's pre-image carries the modify's entryCSN (a delete writes no new
// CSN), so the two compare equal; the deleted subject must stay deleted.
BOOST_AUTO_TEST_CASE(late_modify_does_not_resurrect_a_deleted_subject) {
  const auto v1 = add_ann();
  const auto v2 = person("u1", 2, {{"departmentNumber", {"200"}}});
  BOOST_TEST(reclaim::ldap::prepare_delete(j, cfg.ldap, v2));
  BOOST_TEST(apply(operation::remove, v2, std::nullopt));
  BOOST_TEST(j.subject("u1")->current == state::deleted);
  apply(operation::modify, v1, v2); // the late callback (a transfer)
  BOOST_TEST(j.subject("u1")->current == state::deleted);
}

// base = ou=People and leavers = ou=Leavers beside it is a natural config.
// Either the config is refused (naming ldap.leavers) or a move into the
// leavers subtree is still a termination; silently ignoring the move (the
// moved entry is out of base) would disable the leavers signal.
BOOST_AUTO_TEST_CASE(leavers_outside_base_are_refused_or_watched) {
  reclaim::unit::temp_dir other;
  std::optional<reclaim::config> narrow;
  std::string error;
  try {
    narrow = reclaim::unit::load_toml(other, "[ldap]\nbase = \"ou=People,dc=example,dc=com\"\n"
                                             "leavers = [\"ou=Leavers,dc=example,dc=com\"]\n");
  } catch (const reclaim::config_error &e) {
    error = e.what();
  }
  if (!narrow) {
    BOOST_TEST(error.find("ldap.leavers") != std::string::npos, error);
    return;
  }
  const auto before = person("u1", 1);
  change add;
  add.op = operation::add;
  add.after = before;
  add.time = at;
  BOOST_TEST(reclaim::ldap::apply_change(j, narrow->ldap, add, log));
  change move;
  move.op = operation::modrdn;
  move.before = before;
  move.after = person("u1", 2, {}, "cn=Ann," + leavers);
  move.time = at;
  BOOST_TEST(reclaim::ldap::apply_change(j, narrow->ldap, move, log),
             "the move into the leavers subtree was not journalled");
  BOOST_TEST(last_event().current == state::terminated);
}

BOOST_AUTO_TEST_CASE(catch_up_first_run_is_a_baseline) {
  fake_directory d;
  d.put(person("u1", 1));
  d.put(person("u2", 5, {{"employeeType", {"terminated"}}}));
  d.put(person("u3", 3, {}, "cn=Carl," + leavers));
  d.put(make_entry("ou=Sales," + people, {{"objectClass", {"organizationalUnit"}}, {"entryUUID", {"g1"}},
                                          {"entryCSN", {csn(9)}}}));
  d.put(person("u4", 8, {}, "cn=Out,dc=example,dc=org")); // a search may return it; ignored
  BOOST_TEST(catch_up(d) == 0u);
  BOOST_TEST(j.event_count() == 0);
  BOOST_TEST(j.has_baseline());
  BOOST_TEST(j.subject("u1")->current == state::active);
  BOOST_TEST(j.subject("u2")->current == state::terminated);
  BOOST_TEST(j.subject("u3")->current == state::terminated);
  BOOST_TEST(!j.subject("g1").has_value());
  BOOST_TEST(!j.subject("u4").has_value());
  BOOST_TEST(j.resume_csn() == csn(5));
  BOOST_TEST_REQUIRE(d.calls.size() == 1u);
  BOOST_TEST(d.calls[0].base == "dc=example,dc=com");
  BOOST_TEST(d.calls[0].filter == reclaim::ldap::person_filter(cfg.ldap));
  BOOST_TEST(d.calls[0].attributes == reclaim::ldap::needed_attributes(cfg.ldap),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(catch_up_finds_a_change_exactly_once) {
  fake_directory d;
  d.put(person("u1", 1, {{"departmentNumber", {"100"}}}));
  d.put(person("u2", 2));
  BOOST_TEST(catch_up(d) == 0u);

  // While reclaim was down: u1 terminated.
  d.put(person("u1", 3, {{"departmentNumber", {"100"}}, {"employeeType", {"terminated"}}}));
  d.calls.clear();
  BOOST_TEST(catch_up(d) == 1u);
  // The first search reads olcServerID from cn=config (replicated changes
  // are skipped); the second is the catch-up itself.
  BOOST_TEST_REQUIRE(d.calls.size() >= 2u);
  BOOST_TEST(d.calls[0].base == "cn=config");
  BOOST_TEST(d.calls[1].filter == fmt::format("(&{}(entryCSN>={}))", reclaim::ldap::person_filter(cfg.ldap),
                                              reclaim::ldap::csn_minus(csn(2), cfg.ldap.catch_up_margin)));
  const auto all = events();
  BOOST_TEST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0].subject_id == "u1");
  BOOST_TEST(all[0].source == "ldap-catchup");
  BOOST_TEST(all[0].actor == "catch-up");
  BOOST_TEST(all[0].previous == state::active);
  BOOST_TEST(all[0].current == state::terminated);
  BOOST_TEST(all[0].idempotency_key == "u1/" + csn(3));
  BOOST_TEST(j.resume_csn() == csn(3));

  // The margin re-reads it: still one event.
  BOOST_TEST(catch_up(d) == 0u);
  BOOST_TEST(j.event_count() == 1);
}

BOOST_AUTO_TEST_CASE(catch_up_after_the_live_callback_adds_nothing) {
  fake_directory d;
  const auto v1 = person("u1", 1);
  d.put(v1);
  BOOST_TEST(catch_up(d) == 0u);
  const auto v2 = person("u1", 2, {{"employeeType", {"leave"}}});
  BOOST_TEST(apply(operation::modify, v1, v2));
  d.put(v2);
  BOOST_TEST(catch_up(d) == 0u);
  BOOST_TEST(j.event_count() == 1);
}

BOOST_AUTO_TEST_CASE(catch_up_sees_adds_moves_and_transfers_made_while_down) {
  fake_directory d;
  d.put(person("u1", 1, {{"departmentNumber", {"100"}}}));
  d.put(person("u2", 2));
  BOOST_TEST(catch_up(d) == 0u);
  d.put(person("u1", 3, {{"departmentNumber", {"200"}}}));  // transfer
  d.put(person("u2", 4, {}, "cn=Bob," + leavers));           // moved to leavers
  d.put(person("u5", 5, {}, "cn=Eve," + people));            // new hire
  BOOST_TEST(catch_up(d) == 3u);
  std::map<std::string, std::pair<state, state>> got;
  for (const auto &e : events()) got[e.subject_id] = {e.previous, e.current};
  BOOST_TEST((got["u1"] == std::pair{state::active, state::transferred}));
  BOOST_TEST((got["u2"] == std::pair{state::active, state::terminated}));
  BOOST_TEST((got["u5"] == std::pair{state::none, state::active}));
}

BOOST_AUTO_TEST_CASE(catch_up_turns_an_unfinished_delete_into_a_deleted_event) {
  fake_directory d;
  const auto ann = person("u1", 1);
  d.put(ann);
  d.put(person("u2", 2));
  BOOST_TEST(catch_up(d) == 0u);
  // The delete was prepared, slapd deleted the entry, then crashed before
  // the commit reached the journal.
  reclaim::set_fixed_now(at + std::chrono::seconds{10});
  BOOST_TEST(reclaim::ldap::prepare_delete(j, cfg.ldap, ann));
  d.remove("u1");
  BOOST_TEST(catch_up(d) == 1u);
  const auto ev = last_event();
  BOOST_TEST(ev.subject_id == "u1");
  BOOST_TEST(ev.previous == state::active);
  BOOST_TEST(ev.current == state::deleted);
  BOOST_TEST(ev.source == "ldap-catchup");
  BOOST_TEST(ev.idempotency_key == "u1/deleted/" + csn(1));
  BOOST_TEST(reclaim::to_unix_ms(ev.time) == reclaim::to_unix_ms(at) + 10'000); // when prepared
  BOOST_TEST(j.pending_deletes().empty());
  BOOST_TEST(catch_up(d) == 0u);
  BOOST_TEST(j.event_count() == 1);
}

BOOST_AUTO_TEST_CASE(catch_up_drops_a_prepared_delete_whose_entry_still_exists) {
  fake_directory d;
  const auto ann = person("u1", 1);
  d.put(ann);
  BOOST_TEST(catch_up(d) == 0u);
  BOOST_TEST(reclaim::ldap::prepare_delete(j, cfg.ldap, ann));
  d.calls.clear();
  BOOST_TEST(catch_up(d) == 0u);
  BOOST_TEST(j.pending_deletes().empty());
  BOOST_TEST(j.event_count() == 0);
  BOOST_TEST(j.subject("u1")->current == state::active);
  bool asked_by_uuid = false;
  for (const auto &c : d.calls) asked_by_uuid = asked_by_uuid || c.filter == "(entryUUID=u1)";
  BOOST_TEST(asked_by_uuid);
}

BOOST_AUTO_TEST_CASE(catch_up_with_a_failing_search_throws_and_changes_nothing) {
  fake_directory d;
  d.put(person("u1", 1));
  d.fail = true;
  BOOST_CHECK_THROW(catch_up(d), std::runtime_error);
  BOOST_TEST(!j.has_baseline());
  BOOST_TEST(!j.subject("u1").has_value());

  d.fail = false;
  BOOST_TEST(catch_up(d) == 0u);
  d.put(person("u1", 2, {{"employeeType", {"leave"}}}));
  d.fail = true;
  BOOST_CHECK_THROW(catch_up(d), std::runtime_error);
  BOOST_TEST(j.event_count() == 0);
  BOOST_TEST(j.subject("u1")->current == state::active);

  // A failing search for a prepared delete keeps it for the next start.
  d.fail = false;
  BOOST_TEST(catch_up(d) == 1u);
  BOOST_TEST(reclaim::ldap::prepare_delete(j, cfg.ldap, person("u1", 2, {{"employeeType", {"leave"}}})));
  d.fail = true;
  BOOST_CHECK_THROW(catch_up(d), std::runtime_error);
  BOOST_TEST(j.pending_deletes().size() == 1u);
}

BOOST_AUTO_TEST_CASE(entry_json_round_trips_with_utf8_and_escapes) {
  const auto e = make_entry("cn=J\xC3\xBCrgen\\, M.,ou=People,dc=example,dc=com",
                            {{"objectClass", {"inetOrgPerson"}},
                             {"description", {"line1\nline2", "quote\" backslash\\"}},
                             {"entryUUID", {"u1"}}});
  const auto back = reclaim::ldap::entry_from_json(reclaim::ldap::entry_json(e));
  BOOST_TEST(back.dn == e.dn);
  BOOST_TEST((back.attrs == e.attrs));
}

BOOST_AUTO_TEST_CASE(person_filter_lists_the_classes) {
  BOOST_TEST(reclaim::ldap::person_filter(cfg.ldap) ==
             "(|(objectClass=inetorgperson)(objectClass=organizationalperson)"
             "(objectClass=person)(objectClass=posixaccount))");
}

BOOST_AUTO_TEST_SUITE_END()
