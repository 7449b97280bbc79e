// scenario.hpp — what the LDAP integration suites share: a directory (slapd
// with the reclaim plugin in a temp dir, its journal, an admin connection),
// the seed LDIF, person builders, and an exact comparison of journal events
// with expectations that prints both lists on mismatch.
#pragma once

#include "journal.hpp"
#include "ldap_client.hpp"
#include "slapd_instance.hpp"
#include "temp_dir.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reclaim::test {

inline const std::string people_ou = "ou=People,dc=example,dc=com";
inline const std::string leavers_ou = "ou=Leavers,dc=example,dc=com";

std::string person_dn(const std::string &uid, const std::string &ou = people_ou);

// objectClass inetOrgPerson + reclaimLifecycle (the shipped auxiliary class,
// so every watched attribute may be set later), uid, cn, sn, plus extra.
std::vector<ldap_attribute> person_attributes(const std::string &uid,
                                              const std::vector<ldap_attribute> &extra = {});

// The LDIF of the base tree (dc=example,dc=com, ou=People, ou=Leavers,
// ou=Groups) followed by extra_ldif.
std::string seed_ldif(const std::string &extra_ldif = {});

// One person entry as LDIF (for seeding before the plugin's first start).
std::string person_ldif(const std::string &uid, const std::string &extra_lines = {},
                        const std::string &ou = people_ou);

struct directory_options {
  bool with_plugin = true;
  bool cn_config = false;
  plugin_scope scope = plugin_scope::database;
  int server_id = 0;
  bool syncprov = false;
  std::string syncrepl_provider;
  std::string syncrepl_extra;
  std::string seed_ldif = reclaim::test::seed_ldif(); // empty: none (a consumer)
  std::string config_text; // empty: packaging/config/reclaim.toml with state_dir
};

// A slapd with the plugin in its own temp dir. Journal and connection are
// usable once start() has returned.
class directory {
public:
  explicit directory(directory_options options = {}, const std::string &name = "ldap");
  ~directory();

  void start();
  void stop();
  // Restart with or without the plugin (same database, same state_dir).
  void restart(bool with_plugin);

  slapd_instance &slapd() { return *slapd_; }
  ldap_connection &ldap();          // connected as the rootdn (reconnects after restart)
  const journal &events() const { return *journal_; }
  const std::filesystem::path &config_path() const { return config_path_; }
  const std::filesystem::path &state_dir() const { return state_dir_; }
  const temp_dir &dir() const { return dir_; }

  // Adds a person (asserting success) and returns the entry as stored.
  ldap_entry add_person(const std::string &uid, const std::vector<ldap_attribute> &extra = {},
                        const std::string &ou = people_ou);
  // Modifies (asserting success) and returns the entry afterwards.
  ldap_entry modify(const std::string &dn, const std::vector<ldap_modification> &mods);
  // Reads an entry that must exist.
  ldap_entry read(const std::string &dn);

  // A person whose termination proves that the plugin has processed what
  // came before it: tests of "no event" make their changes, then call this
  // and expect exactly the sentinel's event.
  struct sentinel {
    ldap_entry entry;
    std::string uid;
  };
  sentinel make_sentinel(const std::string &uid);
  ldap_entry trip_sentinel(const sentinel &s);

  slapd_options slapd_options_for(bool with_plugin) const;

private:
  directory_options options_;
  temp_dir dir_;
  std::filesystem::path state_dir_;
  std::filesystem::path config_path_;
  std::unique_ptr<slapd_instance> slapd_;
  std::unique_ptr<journal> journal_;
  std::unique_ptr<ldap_connection> ldap_;
};

// What a test expects to find in the journal for one change.
struct expected_event {
  std::string subject_id;
  std::string subject_name;
  std::string previous_state;
  std::string state;
  std::string source = "ldap";
  std::string idempotency_key; // empty: any "<subject_id>/…" key
};

// The event a change of `after` (read back after the operation) must give:
// subject entryUUID, name its DN, key "<entryUUID>/<entryCSN>".
expected_event change_of(const ldap_entry &after, const std::string &previous_state,
                         const std::string &state, const std::string &source = "ldap");
// A delete: the entry is gone, so the key is only checked for its prefix.
expected_event deletion_of(const ldap_entry &before, const std::string &previous_state);

// Asserts (Boost.Test) that actual holds exactly the expected events: the
// same count, each field equal, events of one subject in the expected order
// (events of different subjects may interleave), all keys distinct.
void check_events(const std::vector<journal_event> &actual,
                  const std::vector<expected_event> &expected, const std::string &context);

// Waits for count events after seq and checks them against expected.
void expect_events(const directory &d, std::int64_t after,
                   const std::vector<expected_event> &expected, const std::string &context);

// True when two DNs name the same entry (RFC 4514 form, case-insensitive).
bool same_dn(const std::string &a, const std::string &b);

// Today, as days since 1970-01-01 (shadowExpire's unit).
long days_since_epoch_today();

} // namespace reclaim::test
