// scenario.cpp — the directory fixture and journal assertions behind the
// LDAP integration suites. Assertions use BOOST_TEST so a failure prints
// the expected and the actual journal side by side.
#include "scenario.hpp"

#include "test_env.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <ldap.h>
#include <set>
#include <sstream>
#include <strings.h>

namespace reclaim::test {
namespace fs = std::filesystem;

std::string person_dn(const std::string &uid, const std::string &ou) {
  return "uid=" + uid + "," + ou;
}

std::vector<ldap_attribute> person_attributes(const std::string &uid,
                                              const std::vector<ldap_attribute> &extra) {
  std::vector<ldap_attribute> attrs = {
      {"objectClass", {"inetOrgPerson", "reclaimLifecycle"}},
      {"uid", {uid}},
      {"cn", {"Test " + uid}},
      {"sn", {uid}},
  };
  attrs.insert(attrs.end(), extra.begin(), extra.end());
  return attrs;
}

std::string seed_ldif(const std::string &extra_ldif) {
  std::string ldif = "dn: dc=example,dc=com\nobjectClass: dcObject\nobjectClass: organization\n"
                     "o: Example\ndc: example\n\n"
                     "dn: ou=People,dc=example,dc=com\nobjectClass: organizationalUnit\nou: People\n\n"
                     "dn: ou=Leavers,dc=example,dc=com\nobjectClass: organizationalUnit\nou: Leavers\n\n"
                     "dn: ou=Groups,dc=example,dc=com\nobjectClass: organizationalUnit\nou: Groups\n\n";
  return ldif + extra_ldif;
}

std::string person_ldif(const std::string &uid, const std::string &extra_lines,
                        const std::string &ou) {
  return "dn: " + person_dn(uid, ou) +
         "\nobjectClass: inetOrgPerson\nobjectClass: reclaimLifecycle\nuid: " +
         uid + "\ncn: Test " + uid + "\nsn: " + uid + "\n" + extra_lines + "\n";
}

// ------------------------------------------------------------------ directory

directory::directory(directory_options options, const std::string &name)
    : options_(std::move(options)), dir_("reclaim-" + name + "-") {
  state_dir_ = dir_ / "state";
  config_path_ = dir_ / "reclaim.toml";
  if (options_.with_plugin && plugin_path().empty()) {
    throw std::runtime_error("RECLAIM_TEST_PLUGIN does not name an existing libreclaim.so.1");
  }
  if (options_.with_plugin && reclaimctl_path().empty()) {
    throw std::runtime_error("RECLAIM_TEST_RECLAIMCTL does not name an existing reclaimctl");
  }
  write_plugin_config(config_path_,
                      options_.config_text.empty() ? example_config(state_dir_) : options_.config_text,
                      state_dir_);
  slapd_ = std::make_unique<slapd_instance>(dir_ / "slapd", slapd_options_for(options_.with_plugin));
  if (!options_.seed_ldif.empty()) {
    const auto ldif = dir_ / "seed.ldif";
    write_text_file(ldif, options_.seed_ldif);
    const auto r = slapd_->slapadd(ldif);
    if (r.exit_code != 0) {
      throw std::runtime_error("slapadd failed (" + std::to_string(r.exit_code) + "): " + r.output() +
                               slapd_->plugin_log());
    }
  }
  journal_ = std::make_unique<journal>(reclaimctl_path(), config_path_);
}

directory::~directory() {
  ldap_.reset();
  try {
    slapd_->stop();
  } catch (const std::exception &e) {
    BOOST_TEST_MESSAGE("stopping slapd: " << e.what());
  }
}

slapd_options directory::slapd_options_for(bool with_plugin) const {
  slapd_options o;
  if (with_plugin) {
    o.plugin = plugin_path();
    o.plugin_config = config_path_;
  }
  o.cn_config = options_.cn_config;
  o.scope = options_.scope;
  o.server_id = options_.server_id;
  o.syncprov = options_.syncprov;
  o.syncrepl_provider = options_.syncrepl_provider;
  o.syncrepl_extra = options_.syncrepl_extra;
  return o;
}

void directory::start() {
  slapd_->start();
  ldap_.reset();
}

void directory::stop() {
  ldap_.reset();
  slapd_->stop();
}

void directory::restart(bool with_plugin) {
  stop();
  slapd_->reconfigure(slapd_options_for(with_plugin));
  start();
}

ldap_connection &directory::ldap() {
  if (!ldap_) {
    ldap_ = std::make_unique<ldap_connection>(slapd_->uri(), slapd_instance::root_dn,
                                              slapd_instance::root_pw);
  }
  return *ldap_;
}

ldap_entry directory::read(const std::string &dn) {
  auto entry = ldap().read(dn);
  BOOST_REQUIRE_MESSAGE(entry.has_value(), "entry " << dn << " not found");
  return *entry;
}

ldap_entry directory::add_person(const std::string &uid, const std::vector<ldap_attribute> &extra,
                                 const std::string &ou) {
  const auto dn = person_dn(uid, ou);
  const int rc = ldap().add(dn, person_attributes(uid, extra));
  BOOST_REQUIRE_MESSAGE(rc == 0, "add " << dn << ": " << ldap_error_name(rc) << " "
                                        << ldap().last_message());
  return read(dn);
}

ldap_entry directory::modify(const std::string &dn, const std::vector<ldap_modification> &mods) {
  const int rc = ldap().modify(dn, mods);
  BOOST_REQUIRE_MESSAGE(rc == 0, "modify " << dn << ": " << ldap_error_name(rc) << " "
                                           << ldap().last_message());
  return read(dn);
}

directory::sentinel directory::make_sentinel(const std::string &uid) {
  return {add_person(uid), uid};
}

ldap_entry directory::trip_sentinel(const sentinel &s) {
  return modify(s.entry.dn, {{mod_op::replace, "employeeType", {"terminated"}}});
}

// ----------------------------------------------------------------- assertions

bool same_dn(const std::string &a, const std::string &b) {
  const auto canonical = [](const std::string &dn) {
    LDAPDN parsed = nullptr;
    if (ldap_str2dn(dn.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS) {
      return dn;
    }
    char *text = nullptr;
    std::string result = dn;
    if (ldap_dn2str(parsed, &text, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && text != nullptr) {
      result = text;
      ldap_memfree(text);
    }
    ldap_dnfree(parsed);
    return result;
  };
  return ::strcasecmp(canonical(a).c_str(), canonical(b).c_str()) == 0;
}

expected_event change_of(const ldap_entry &after, const std::string &previous_state,
                         const std::string &state, const std::string &source) {
  const auto uuid = after.first("entryUUID");
  const auto csn = after.first("entryCSN");
  BOOST_REQUIRE_MESSAGE(!uuid.empty() && !csn.empty(),
                        "entry " << after.dn << " lacks entryUUID/entryCSN");
  return {uuid, after.dn, previous_state, state, source, uuid + "/" + csn};
}

expected_event deletion_of(const ldap_entry &before, const std::string &previous_state) {
  return {before.first("entryUUID"), before.dn, previous_state, "deleted", "ldap", ""};
}

namespace {

std::string describe(const expected_event &e) {
  std::ostringstream s;
  s << e.source << " " << e.previous_state << " -> " << e.state << " id=" << e.subject_id
    << " name=\"" << e.subject_name << "\" key="
    << (e.idempotency_key.empty() ? e.subject_id + "/*" : e.idempotency_key);
  return s.str();
}

std::string describe(const std::vector<expected_event> &events) {
  if (events.empty()) {
    return "  (no events)\n";
  }
  std::string text;
  for (const auto &e : events) {
    text += "  " + describe(e) + "\n";
  }
  return text;
}

// Differences between one journal event and its expectation ("" if none).
std::string differences(const journal_event &a, const expected_event &e) {
  std::string diff;
  const auto field = [&diff](const char *name, const std::string &got, const std::string &want) {
    if (got != want) {
      diff += std::string(" ") + name + "=\"" + got + "\" (expected \"" + want + "\")";
    }
  };
  field("source", a.source, e.source);
  field("previous_state", a.previous_state, e.previous_state);
  field("state", a.state, e.state);
  if (!same_dn(a.subject_name, e.subject_name)) {
    field("subject_name", a.subject_name, e.subject_name);
  }
  if (e.idempotency_key.empty()) {
    if (a.idempotency_key.rfind(e.subject_id + "/", 0) != 0 ||
        a.idempotency_key.size() <= e.subject_id.size() + 1) {
      field("idempotency_key", a.idempotency_key, e.subject_id + "/<something>");
    }
  } else if (a.idempotency_key.rfind(e.subject_id + "/after/", 0) != 0) {
    // When the next change landed before this one's callback could read the
    // entry back, the plugin keys the event by the version it followed:
    // "<uuid>/after/<csn before>/<ms>" (docs/journal.md). Otherwise the key
    // is "<uuid>/<entryCSN>".
    field("idempotency_key", a.idempotency_key, e.idempotency_key);
  }
  if (a.time.empty()) {
    diff += " time is empty";
  }
  if (a.source == "ldap" && !a.actor.empty() && !same_dn(a.actor, slapd_instance::root_dn)) {
    field("actor", a.actor, slapd_instance::root_dn);
  }
  return diff;
}

} // namespace

void check_events(const std::vector<journal_event> &actual,
                  const std::vector<expected_event> &expected, const std::string &context) {
  std::string problems;
  if (actual.size() != expected.size()) {
    problems += "  " + std::to_string(actual.size()) + " events, expected " +
                std::to_string(expected.size()) + "\n";
  }
  std::vector<bool> used(actual.size(), false);
  for (const auto &e : expected) {
    // The next unused event of the same subject must be this one.
    std::size_t i = 0;
    while (i < actual.size() && (used[i] || actual[i].subject_id != e.subject_id)) {
      ++i;
    }
    if (i == actual.size()) {
      problems += "  missing: " + describe(e) + "\n";
      continue;
    }
    used[i] = true;
    const auto diff = differences(actual[i], e);
    if (!diff.empty()) {
      problems += "  wrong: " + actual[i].describe() + "\n        " + diff + "\n";
    }
  }
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (!used[i]) {
      problems += "  unexpected: " + actual[i].describe() + "\n";
    }
  }
  std::set<std::string> keys;
  for (const auto &a : actual) {
    if (!keys.insert(a.idempotency_key).second) {
      problems += "  idempotency key used twice: " + a.idempotency_key + "\n";
    }
  }
  BOOST_TEST(problems.empty(), context << ":\n"
                                       << problems << "expected:\n"
                                       << describe(expected) << "journal:\n"
                                       << reclaim::test::describe(actual));
}

void expect_events(const directory &d, std::int64_t after,
                   const std::vector<expected_event> &expected, const std::string &context) {
  check_events(d.events().wait_after(after, expected.size()), expected, context);
}

long days_since_epoch_today() {
  using namespace std::chrono;
  return static_cast<long>(
      duration_cast<days>(system_clock::now().time_since_epoch()).count());
}

} // namespace reclaim::test
