// test_access_cli.cpp — reclaimctl run as other Unix identities (setpriv
// --reuid/--regid/--groups), so the operator really differs at the OS level:
// an unknown user is refused `hold add` (exit 77, an access_refused record in
// the signed log, no hold), the person who requested a held plan (through
// a mapped group) cannot approve it, a second person can. Needs root.
#include "config/config.hpp"
#include "policy/planner.hpp"
#include "policy_fixture.hpp"
#include "process.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using reclaim::unit::temp_dir;

namespace {

constexpr unsigned nobody = 65534; // Debian's nobody:nogroup
constexpr unsigned staff = 50, users = 100;

struct world {
  temp_dir dir;
  fs::path config_path = dir / "reclaim.toml";
  reclaim::config cfg;
  int64_t plan_id = 0;

  world() {
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    const auto pem = dir / "audit.pem";
    EVP_PKEY *k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    FILE *f = std::fopen(pem.c_str(), "w");
    PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    EVP_PKEY_free(k);
    fs::permissions(pem, fs::perms::owner_read | fs::perms::owner_write);
    reclaim::unit::write_file(dir / "pseudo.key", std::string(40, 'k'), 0600u);
    const auto text = fmt::format(
        "[engine]\nstate_dir = \"{}\"\nmode = \"enforce\"\n{}{}{}\n[guard]\nmax_events = 1\n"
        "[audit]\norigin = \"unit.example/audit\"\nkey_file = \"{}\"\npseudonym_key_file = \"{}\"\n"
        "[access.person.alice]\nunix_groups = [\"staff\"]\nldap_dns = [\"cn=admin,dc=example,dc=com\"]\n"
        "[access.person.bob]\nunix_groups = [\"users\"]\n"
        "[access.roles]\niam = [\"alice\", \"bob\"]\n",
        (dir / "state").string(), reclaim::unit::ldap_section, reclaim::unit::apps_text({}),
        reclaim::unit::leavers_rule, pem.string(), (dir / "pseudo.key").string());
    reclaim::unit::write_file(config_path, text, 0644u); // root's, readable by the operators
    cfg = reclaim::load_config(config_path);
    {
      reclaim::unit::log_capture logs;
      const auto log = logs.make();
      reclaim::journal j(cfg.journal_path(), reclaim::sqlite::durability::normal);
      reclaim::planner p(cfg, j, log);
      for (int i = 0; i < 2; ++i) {
        reclaim::event_record ev;
        ev.idempotency_key = fmt::format("u{}/1", i);
        ev.subject_id = fmt::format("u{}", i);
        ev.subject_name = fmt::format("uid=u{},ou=People,dc=example,dc=com", i);
        ev.source = "ldap";
        ev.previous = reclaim::state::active;
        ev.current = reclaim::state::terminated;
        ev.time = ev.recorded = reclaim::now();
        ev.actor = "CN=Admin, DC=example, DC=com"; // as slapd recorded alice's bind
        ev.attributes_json = "{}";
        BOOST_TEST_REQUIRE(j.append(ev));
      }
      p.plan_pending();
      const auto held = p.store().plans("held", "");
      BOOST_TEST_REQUIRE(held.size() == 1u);
      plan_id = held[0].id;
    }
    // The state, keys and log belong to the account the operators run as.
    for (const auto &e : fs::recursive_directory_iterator(dir.path()))
      if (e.path() != config_path) BOOST_TEST_REQUIRE(::lchown(e.path().c_str(), nobody, nobody) == 0);
  }

  reclaim::test::process_result ctl_as(const std::string &groups, std::vector<std::string> args) const {
    std::vector<std::string> argv = {"setpriv", fmt::format("--reuid={}", nobody), fmt::format("--regid={}", nobody)};
    argv.push_back(groups.empty() ? "--clear-groups" : "--groups=" + groups);
    argv.insert(argv.end(), {RECLAIMCTL_PATH, "--config", config_path.string()});
    argv.insert(argv.end(), args.begin(), args.end());
    return reclaim::test::run_process(argv, std::chrono::seconds(60));
  }

  std::vector<nlohmann::json> audit_records(const std::string &type) const {
    std::vector<nlohmann::json> out;
    std::ifstream in(cfg.audit.path);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("type", "") == type) out.push_back(j);
    }
    return out;
  }

  std::string plan_status() const {
    reclaim::journal j(cfg.journal_path(), reclaim::sqlite::durability::normal);
    reclaim::plan_store s(j.db());
    return s.plan(plan_id)->status + "/" + s.plan(plan_id)->approved_by;
  }
};

bool can_run() {
  if (::getuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: running reclaimctl as other uids needs root");
    return false;
  }
  if (reclaim::test::run_process({"setpriv", "--version"}).exit_code != 0) {
    BOOST_TEST_MESSAGE("skipped: no setpriv (util-linux)");
    return false;
  }
  return true;
}

} // namespace

BOOST_AUTO_TEST_SUITE(access_cli)

BOOST_AUTO_TEST_CASE(an_unknown_user_may_read_but_not_act) {
  if (!can_run()) return;
  world w;
  const auto read = w.ctl_as("", {"plans", "list", "--json"});
  BOOST_TEST(read.exit_code == 0, read.output());
  // The same command reads or acts by its flags: a preview is a read.
  const char *at = "2030-01-01T00:00:00Z";
  BOOST_TEST(w.ctl_as("", {"dispatch", "--at", at}).exit_code == 0);
  BOOST_TEST(w.ctl_as("", {"dispatch", "--at", at, "--execute"}).exit_code == 77);
  BOOST_TEST(w.ctl_as("", {"audit", "show"}).exit_code == 0);
  const auto resolve = w.ctl_as("", {"audit", "show", "--resolve"});
  BOOST_TEST(resolve.exit_code == 77, resolve.output());
  BOOST_TEST(resolve.err.find("needs role \"auditor\"") != std::string::npos, resolve.err);

  const auto r = w.ctl_as("", {"hold", "add", "--subject", "u0", "--reason", "case 1"});
  BOOST_TEST(r.exit_code == 77, r.output());
  BOOST_TEST(r.err.find("needs role \"iam\"") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("unix:nobody") != std::string::npos, r.err);
  const auto refused = w.audit_records("access_refused");
  BOOST_TEST_REQUIRE(refused.size() == 3u); // dispatch --execute, audit show --resolve, hold add
  BOOST_TEST(refused[2].value("actor", "") == "unix:nobody");
  BOOST_TEST(refused[2]["data"].value("verb", "") == "hold add");
  BOOST_TEST(refused[2]["data"].value("role", "") == "iam");
  BOOST_TEST(refused[1]["data"].value("verb", "") == "audit show --resolve");
  BOOST_TEST(w.audit_records("hold_added").empty());
  // Neither USER nor a flag changes who runs it.
  const auto spoof = reclaim::test::run_process(
      {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "USER=root", "SUDO_USER=root",
       RECLAIMCTL_PATH, "--config", w.config_path.string(), "approve", std::to_string(w.plan_id)});
  BOOST_TEST(spoof.exit_code == 77, spoof.output());
  const auto as = w.ctl_as(std::to_string(users), {"approve", std::to_string(w.plan_id), "--as", "bob"});
  BOOST_TEST(as.exit_code == 2, as.output()); // --as is gone: a usage error
  BOOST_TEST(w.plan_status() == "held/");
}

BOOST_AUTO_TEST_CASE(the_requester_cannot_approve_a_second_person_can) {
  if (!can_run()) return;
  world w;
  const auto id = std::to_string(w.plan_id);
  // alice: her bind DN requested the plan; here she is the staff group.
  const auto self = w.ctl_as(std::to_string(staff), {"approve", id});
  BOOST_TEST(self.exit_code == 2, self.output());
  BOOST_TEST(self.err.find("two-person rule") != std::string::npos, self.err);
  BOOST_TEST(w.plan_status() == "held/");

  const auto other = w.ctl_as(std::to_string(users), {"approve", id});
  BOOST_TEST(other.exit_code == 0, other.output());
  BOOST_TEST(other.out.find("approved by person:bob") != std::string::npos, other.out);
  BOOST_TEST(w.plan_status() == "active/person:bob");
  const auto approvals = w.audit_records("approval");
  BOOST_TEST_REQUIRE(approvals.size() == 1u);
  BOOST_TEST(approvals[0].value("actor", "") == "person:bob");
}

BOOST_AUTO_TEST_CASE(bad_access_config_is_refused_and_changes_nothing) {
  temp_dir dir;
  const auto path = dir / "reclaim.toml";
  const auto base = reclaim::unit::config_text(dir);
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {RECLAIMCTL_PATH, "--config", path.string()});
    return reclaim::test::run_process(args);
  };
  struct bad {
    const char *name, *text;
    unsigned mode;
    int exit_code;
    const char *message;
  };
  const bad cases[] = {
      {"unknown user", "[access.person.a]\nunix_users = [\"no-such-user-reclaim\"]\n[access.roles]\niam = [\"a\"]\n",
       0600, 2, "unknown Unix user \"no-such-user-reclaim\""},
      {"unknown role", "[access.person.a]\nunix_users = [\"root\"]\n[access.roles]\nsuperuser = [\"a\"]\n", 0600, 1,
       "unknown role \"superuser\""},
      {"world-writable", "[access.person.a]\nunix_users = [\"root\"]\n[access.roles]\niam = [\"a\"]\n", 0666, 1,
       "writable by group or other"},
  };
  for (const auto &c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      reclaim::unit::write_file(path, base + c.text, c.mode);
      for (const auto &args : {std::vector<std::string>{"config", "check"},
                               std::vector<std::string>{"hold", "add", "--subject", "u1", "--reason", "r"}}) {
        const auto r = ctl(args);
        BOOST_TEST(r.exit_code == c.exit_code, r.output());
        BOOST_TEST(r.err.find(c.message) != std::string::npos, r.err);
      }
      BOOST_TEST(!fs::exists(dir / "state" / "journal.sqlite3")); // nothing was written
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
