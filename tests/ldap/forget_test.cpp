// forget_test.cpp — `reclaimctl audit forget` through a real slapd with the
// plugin (issue 15, "Erasure that erases"). A person with a DN, entryUUID
// and mail is terminated so events, plans, actions, inventory rows, outbox
// rows, audit records and log lines exist; forget must leave none of their
// identifiers in any byte of any file under state_dir (SQLite files and
// their -wal included) or in the plugin log, the audit log must still
// verify with their records erased, and the random pseudonym may survive
// only inside the audit log, unreachable from anything reclaim keeps.
// Refusals (a legal hold from reclaimctl or from the directory) and an
// unknown subject must change nothing.
#define BOOST_TEST_MODULE ldap_forget
#include "policy_client.hpp"
#include "scenario.hpp"
#include "test_env.hpp"

#include <boost/test/unit_test.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <thread>

using namespace reclaim::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The example config: actions only by `reclaimctl dispatch`, enforce mode,
// and the [legal_hold] directory value on businessCategory.
std::string forget_config(const fs::path &state_dir) {
  std::string text = example_config(state_dir);
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"in_process = ", "in_process = false"},
      {"mode = ", "mode = \"enforce\""},
      // mail is journalled with each event and kept in the entry copy.
      {"transfer_attributes = ", "transfer_attributes = [\"departmentNumber\", \"title\", \"mail\"]"},
      {"# [legal_hold]", "[legal_hold]"},
      {"# attribute = \"businessCategory\"", "attribute = \"businessCategory\""},
      {"# value = \"legal-hold\"", "value = \"legal-hold\""}};
  for (const auto &[from, to] : edits) {
    std::istringstream in(text);
    std::string out;
    bool done = false;
    for (std::string l; std::getline(in, l);) {
      if (!done && l.rfind(from, 0) == 0) {
        l = to;
        done = true;
      }
      out += l + "\n";
    }
    if (!done) throw std::runtime_error("no line starting with \"" + from + "\" in the example config");
    text = out;
  }
  return text;
}

std::string person(const std::string &uid, const std::string &mail) {
  return person_ldif(uid, "departmentNumber: 100\nemployeeType: employee\nmail: " + mail + "\n");
}

struct forget_env {
  forget_env() {
    directory_options o;
    o.seed_ldif = seed_ldif(person("gone.alice", "alice.secret@example.com") +
                            person("held.bob", "bob.secret@example.com") +
                            person("dirheld.carol", "carol.secret@example.com") +
                            person("stays.dave", "dave.secret@example.com") +
                            person("noaudit.erin", "erin.secret@example.com"));
    dir = std::make_unique<directory>(o, "forget");
    write_plugin_config(dir->config_path(), forget_config(dir->state_dir()), dir->state_dir());
    dir->start();
    dir->events().wait_readable();
    ctl = std::make_unique<policy_client>(reclaimctl_path(), dir->config_path(), dir->state_dir());
  }
  ~forget_env() {
    ctl.reset();
    dir.reset();
  }
  static std::unique_ptr<directory> dir;
  static std::unique_ptr<policy_client> ctl;
};
std::unique_ptr<directory> forget_env::dir;
std::unique_ptr<policy_client> forget_env::ctl;

directory &d() { return *forget_env::dir; }
const policy_client &ctl() { return *forget_env::ctl; }

std::string uuid(const std::string &uid) {
  return lower(d().read(person_dn(uid)).first("entryUUID"));
}

void terminate(const std::string &uid, const std::vector<ldap_modification> &more = {}) {
  std::vector<ldap_modification> mods = {{mod_op::replace, "employeeType", {"terminated"}}};
  mods.insert(mods.end(), more.begin(), more.end());
  d().modify(person_dn(uid), mods);
}

json wait_plan(const std::string &id) {
  const auto plans = ctl().wait_plans(id, [](const json &all) { return !all.empty(); });
  BOOST_REQUIRE_MESSAGE(!plans.empty(), "no plan for " << id << "; plugin log:\n" << d().slapd().plugin_log());
  return plans;
}

// The engine writes queued audit records within a second or so.
void wait_outbox_empty() {
  for (int i = 0; i < 100; ++i) {
    if (ctl().query("SELECT count(*) FROM audit_outbox")[0][0] == "0") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_FAIL("the engine did not drain the audit outbox");
}

json audit_resolved() { return ctl().json({"audit", "show", "--resolve"}); }

// The pseudonyms of the records whose decrypted name is dn.
std::set<std::string> pseudonyms_of(const json &records, const std::string &dn) {
  std::set<std::string> out;
  for (const auto &r : records)
    if (r.contains("personal") && r["personal"].is_object() && same_dn(r["personal"].value("name", ""), dn))
      out.insert(r.value("subject", ""));
  return out;
}

struct finding {
  std::string file, needle;
};

// Every file under root (and extra files) whose bytes hold a needle, compared
// case-insensitively; skip: files whose name is one of these.
std::vector<finding> files_holding(const fs::path &root, const std::vector<fs::path> &extra,
                                   const std::vector<std::string> &needles, const std::set<std::string> &skip = {}) {
  std::vector<fs::path> files = extra;
  for (const auto &e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) files.push_back(e.path());
  std::vector<finding> out;
  for (const auto &f : files) {
    if (skip.count(f.filename().string())) continue;
    const auto bytes = lower(slurp(f));
    for (const auto &n : needles)
      if (!n.empty() && bytes.find(lower(n)) != std::string::npos) out.push_back({f.string(), n});
  }
  return out;
}

std::string show(const std::vector<finding> &fs) {
  std::string s;
  for (const auto &f : fs) s += "  \"" + f.needle + "\" in " + f.file + "\n";
  return s;
}

std::string hex(const unsigned char *b, size_t n) {
  static const char *digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[b[i] >> 4];
    out += digits[b[i] & 15];
  }
  return out;
}

std::string hmac_hex(const std::string &key, const std::string &msg) {
  unsigned char mac[32];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char *>(msg.data()),
       msg.size(), mac, &len);
  return hex(mac, len);
}

// The integer a read-only query on an SQLite file gives (-1: no row).
int sqlite_int(const fs::path &path, const std::string &sql, const std::string &arg = {}) {
  sqlite3 *db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path.string());
  }
  sqlite3_stmt *st = nullptr;
  int n = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    if (!arg.empty()) sqlite3_bind_text(st, 1, arg.c_str(), -1, SQLITE_TRANSIENT);
    n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

// Runs statements on an SQLite file (created when missing).
void sqlite_exec(const fs::path &path, const std::string &sql, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
  sqlite3 *db = nullptr;
  char *err = nullptr;
  const bool ok = sqlite3_open_v2(path.c_str(), &db, flags, nullptr) == SQLITE_OK &&
                  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK;
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  if (!ok) throw std::runtime_error(path.string() + ": " + sql + ": " + msg);
}

// What a refusal must leave as it was: the journal's rows of the person,
// the audit log's bytes, and their decryptable records.
struct snapshot {
  std::string rows, log;
  size_t resolved = 0;
};

snapshot take(const std::string &id, const std::string &dn) {
  snapshot s;
  for (const std::string &sql : std::vector<std::string>{"SELECT count(*) FROM events WHERE subject_id = '" + id + "'",
                                                 "SELECT count(*) FROM plans WHERE subject_id = '" + id + "'",
                                                 "SELECT count(*) FROM subjects_now WHERE subject_id = '" + id + "'",
                                                 "SELECT count(*) FROM audit_outbox"})
    s.rows += ctl().query(sql)[0][0] + " ";
  s.log = slurp(d().state_dir() / "audit" / "audit.jsonl");
  s.resolved = pseudonyms_of(audit_resolved(), dn).size();
  return s;
}

void expect_unchanged(const snapshot &before, const std::string &id, const std::string &dn,
                      const std::string &what) {
  const auto after = take(id, dn);
  BOOST_TEST(after.rows == before.rows, what << ": the journal changed: " << before.rows << "-> " << after.rows);
  BOOST_TEST(after.log.size() == before.log.size(), what << ": the audit log changed");
  BOOST_TEST(after.resolved == before.resolved, what << ": the person's audit records no longer resolve");
  BOOST_TEST(after.resolved > 0u, what << ": the person has no decryptable audit record");
}

} // namespace

BOOST_AUTO_TEST_SUITE(forget, *boost::unit_test::fixture<forget_env>())

BOOST_AUTO_TEST_CASE(forget_leaves_no_identifier_in_any_store_or_log) {
  const auto dn = person_dn("gone.alice");
  const auto id = uuid("gone.alice");
  const std::string mail = "alice.secret@example.com";
  BOOST_REQUIRE(!id.empty());
  ctl().assign(id, "m365", "M365_E5");
  ctl().assign(id, "figma", "FIGMA_PRO");
  ctl().grant(id, "m365");
  terminate("gone.alice");
  wait_plan(id);
  ctl().dispatch();
  // Actions still due (the grace periods) are not thrown away.
  const auto early = ctl().run({"audit", "forget", id});
  BOOST_TEST(early.exit_code == 2, early.output());
  BOOST_TEST(early.err.find("open action") != std::string::npos, early.err);
  ctl().dispatch(utc_in_days(31));
  wait_outbox_empty();

  const auto records = audit_resolved();
  const auto pseudonyms = pseudonyms_of(records, dn);
  BOOST_REQUIRE_MESSAGE(pseudonyms.size() == 1u, "the person's records carry " << pseudonyms.size()
                                                                               << " pseudonyms");
  const auto pseudonym = *pseudonyms.begin();
  const auto key = slurp(d().state_dir() / "audit" / "pseudonym.key");
  const auto legacy = hmac_hex(key, id); // what the pseudonym used to be
  // Before: the identifiers are where the test looks (or it could not fail).
  const std::vector<std::string> needles = {dn, id, mail, legacy};
  for (const auto &n : {dn, id, mail})
    BOOST_TEST(!files_holding(d().state_dir(), {}, {n}).empty(), n << " is nowhere before forget");
  const auto plugin_log = d().slapd().plugin_log();
  BOOST_TEST(plugin_log.find("(reclaim): ") != std::string::npos, "info lines are not logged:\n" << plugin_log);

  // Another SQLite file under state_dir (a host's own store, say) that
  // quotes the person among other rows.
  const auto other = d().state_dir() / "extra" / "host.sqlite3";
  fs::create_directories(other.parent_path());
  sqlite_exec(other, "PRAGMA journal_mode=WAL; CREATE TABLE notes(note TEXT, n INTEGER);"
                     "INSERT INTO notes VALUES ('owner " + dn + "', 1), ('mail " + mail + "', 2),"
                     " ('id " + id + "', 3), ('keep me', 4);");

  // A DN in another spelling names the same person.
  const auto r = ctl().run({"audit", "forget", "UID=Gone.Alice, ou=people,DC=example,dc=com."});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output());
  wait_outbox_empty();

  const std::vector<fs::path> logs = {d().slapd().plugin_log_path()};
  const auto found = files_holding(d().state_dir(), logs, needles);
  BOOST_TEST(found.empty(), "after forget, still found:\n" << show(found));
  // The other file's rows are there, only the person is gone from them.
  BOOST_TEST(sqlite_int(other, "SELECT count(*) FROM notes WHERE note = 'keep me' AND n = 4") == 1);
  BOOST_TEST(sqlite_int(other, "SELECT count(*) FROM notes WHERE note LIKE '%forgotten-%'") == 3);
  // The random pseudonym stays only inside the signed log's records.
  const auto elsewhere = files_holding(d().state_dir(), logs, {pseudonym, pseudonym.substr(pseudonym.find(':') + 1)},
                                {"audit.jsonl"});
  BOOST_TEST(elsewhere.empty(), "the pseudonym outside the audit log:\n" << show(elsewhere));
  // Nothing kept maps the person to it any more.
  const auto key_store = d().state_dir() / "audit" / "subject-keys.sqlite3";
  std::string msg = "reclaim person lookup v1";
  msg.push_back('\0');
  msg += id;
  BOOST_TEST(sqlite_int(key_store, "SELECT count(*) FROM persons WHERE lookup = ?", hmac_hex(key, msg)) == 0);
  BOOST_TEST(sqlite_int(key_store, "SELECT count(*) FROM persons WHERE pseudonym = ?", pseudonym) == 0);

  // The log verifies, the records read as erased, the forget record is there.
  // Stopped, the engine signs a last checkpoint over everything.
  d().stop();
  const auto pub = ctl().run({"audit", "public-key"});
  BOOST_TEST_REQUIRE(pub.exit_code == 0, pub.output());
  const auto v = ctl().run({"audit", "verify", "--key", pub.out.substr(0, pub.out.find('\n'))});
  BOOST_TEST(v.exit_code == 0, v.output());
  BOOST_TEST(v.out.find(" 0 erased record(s)") == std::string::npos, v.out);
  BOOST_TEST(v.out.find("erased record(s); 0 error(s)") != std::string::npos, v.out);
  int erased = 0, forgets = 0;
  for (const auto &rec : audit_resolved()) {
    if (rec.value("subject", "") != pseudonym) continue;
    if (rec.value("type", "") == "forget") ++forgets;
    else if (rec.contains("personal")) {
      BOOST_TEST(rec["personal"] == "erased", rec.dump());
      ++erased;
    }
  }
  BOOST_TEST(erased > 0);
  BOOST_TEST(forgets == 1);
  d().start();

  // Others are untouched; the plans and actions still count.
  BOOST_TEST(ctl().query("SELECT count(*) FROM plans WHERE subject_name <> '' AND subject_id LIKE 'forgotten-%'")[0][0] ==
             "0");
  BOOST_TEST(std::stoi(ctl().query("SELECT count(*) FROM actions WHERE subject_id LIKE 'forgotten-%'")[0][0]) > 0);
  // Forgotten means unknown afterwards.
  const auto again = ctl().run({"audit", "forget", id});
  BOOST_TEST(again.exit_code == 3, again.output());
}

BOOST_AUTO_TEST_CASE(refused_under_a_hold_from_reclaimctl) {
  const auto dn = person_dn("held.bob");
  const auto id = uuid("held.bob");
  const auto h = ctl().run({"hold", "add", "--subject", id, "--reason", "case 42"});
  BOOST_TEST_REQUIRE(h.exit_code == 0, h.output());
  terminate("held.bob");
  wait_plan(id);
  wait_outbox_empty();
  const auto before = take(id, dn);
  for (const auto &subject : {id, dn}) {
    const auto r = ctl().run({"audit", "forget", subject});
    BOOST_TEST(r.exit_code == 2, r.output());
    BOOST_TEST(r.err.find("legal hold") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("case 42") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("placed by") != std::string::npos, r.err);
    BOOST_TEST(r.err.find("nothing was erased") != std::string::npos, r.err);
    expect_unchanged(before, id, dn, "forget " + subject);
  }
}

BOOST_AUTO_TEST_CASE(refused_under_a_hold_placed_in_the_directory) {
  const auto dn = person_dn("dirheld.carol");
  const auto id = uuid("dirheld.carol");
  terminate("dirheld.carol", {{mod_op::replace, "businessCategory", {"legal-hold"}}});
  wait_plan(id);
  wait_outbox_empty();
  const auto before = take(id, dn);
  const auto r = ctl().run({"audit", "forget", id});
  BOOST_TEST(r.exit_code == 2, r.output());
  BOOST_TEST(r.err.find("legal hold") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("businessCategory = legal-hold") != std::string::npos, r.err);
  BOOST_TEST(lower(r.err).find(lower(slapd_instance::root_dn)) != std::string::npos, "who placed it: " << r.err);
  expect_unchanged(before, id, dn, "forget under a directory hold");
  // The holds table's row lifted by hand: the directory still says hold.
  const auto lifted = ctl().run({"hold", "remove", "--subject", id});
  BOOST_TEST_REQUIRE(lifted.exit_code == 0, lifted.output());
  wait_outbox_empty();
  const auto before_entry = take(id, dn);
  const auto e = ctl().run({"audit", "forget", dn});
  BOOST_TEST(e.exit_code == 2, e.output());
  BOOST_TEST(e.err.find("legal hold placed in the directory (businessCategory = legal-hold)") != std::string::npos, e.err);
  BOOST_TEST(lower(e.err).find(lower(slapd_instance::root_dn)) != std::string::npos, "who placed it: " << e.err);
  expect_unchanged(before_entry, id, dn, "forget under the directory's value alone");
}

BOOST_AUTO_TEST_CASE(unknown_subject_is_an_error_and_changes_nothing) {
  const auto dn = person_dn("stays.dave");
  const auto id = uuid("stays.dave");
  terminate("stays.dave");
  wait_plan(id);
  wait_outbox_empty();
  const auto before = take(id, dn);
  for (const std::string subject : {"00000000-0000-4000-8000-000000000000", "uid=nobody,ou=People,dc=example,dc=com",
                                    "not a dn"}) {
    const auto r = ctl().run({"audit", "forget", subject});
    BOOST_TEST(r.exit_code == 3, subject << ": " << r.output());
    BOOST_TEST(r.err.find("no person") != std::string::npos, r.err);
    expect_unchanged(before, id, dn, "forget " + subject);
  }
}

// A site without an audit log still keeps the person in its stores.
BOOST_AUTO_TEST_CASE(forget_without_an_audit_log_scrubs_the_stores) {
  const auto dn = person_dn("noaudit.erin");
  const auto id = uuid("noaudit.erin");
  terminate("noaudit.erin");
  wait_plan(id);
  ctl().dispatch();
  ctl().dispatch(utc_in_days(31));
  wait_outbox_empty();
  auto text = slurp(ctl().config());
  text = text.substr(0, text.find("\n[audit]")) + "\n" + operator_access();
  const auto no_audit = d().dir().path() / "no-audit.toml";
  write_plugin_config(no_audit, text, d().state_dir());
  const auto log_before = slurp(d().state_dir() / "audit" / "audit.jsonl");
  const std::vector<std::string> needles = {dn, id, "erin.secret@example.com"};
  BOOST_TEST(!files_holding(d().state_dir(), {}, needles, {"audit.jsonl"}).empty());
  const auto r = run_process({reclaimctl_path().string(), "--config", no_audit.string(), "audit", "forget", dn});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.output());
  const auto found = files_holding(d().state_dir(), {d().slapd().plugin_log_path()}, needles, {"audit.jsonl"});
  BOOST_TEST(found.empty(), "after forget, still found:\n" << show(found));
  BOOST_TEST(slurp(d().state_dir() / "audit" / "audit.jsonl") == log_before, "the audit log was written");
}

BOOST_AUTO_TEST_SUITE_END()
