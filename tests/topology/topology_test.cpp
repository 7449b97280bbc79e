// topology_test.cpp — the engine's work outside the directory server (issue
// 16). "split": slapd's plugin with [engine] role = "intake" only journals;
// a second host (engine_host, reclaim.h only) opened with
// RECLAIM_OPEN_ROLE_ENGINE plans, dispatches and appends the audit log,
// including across a kill -9 and restart of that host. "shared": slapd and
// the host both run the whole engine (role all) on one state_dir under a
// burst from both: every action claimed and run once, one audit log that
// verifies, and the guard counting the events of both.
#define BOOST_TEST_MODULE topology
#include "policy_client.hpp"
#include "scenario.hpp"
#include "test_env.hpp"

#include <boost/test/unit_test.hpp>
#include <sqlite3.h>

#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

using namespace reclaim::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

fs::path engine_host_path() {
  const char *p = std::getenv("RECLAIM_TEST_ENGINE_HOST");
  return p ? fs::path(p) : fs::path();
}

std::string read_file(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The example config, enforcing, with extra lines after [engine]'s
// log_level and [guard] max_events replaced.
// A poll interval of 30 s: what another process journals must be noticed
// without it (PRAGMA data_version on the planner's tick).
std::string config_text(const fs::path &state_dir, const std::string &engine_lines, int max_events = 20) {
  std::istringstream in(example_config(state_dir));
  std::string out;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("mode = ", 0) == 0) l = "mode = \"enforce\"";
    else if (l.rfind("max_events = ", 0) == 0) l = "max_events = " + std::to_string(max_events);
    else if (l.rfind("poll_interval = ", 0) == 0) l = "poll_interval = \"PT30S\"";
    out += l + "\n";
    if (l.rfind("log_level = ", 0) == 0 && !engine_lines.empty()) out += engine_lines + "\n";
  }
  return out;
}

// A running engine_host: started, waited for, stopped by SIGTERM or -9.
class host {
public:
  host(const fs::path &dir, const fs::path &config, const std::string &role, const std::string &subjects = {})
      : ready_(dir / "host.ready"), log_(dir / "host.log") {
    fs::remove(ready_);
    std::vector<std::string> argv = {engine_host_path().string(), "--config", config.string(), "--role", role,
                                     "--ready", ready_.string()};
    if (!subjects.empty()) argv.insert(argv.end(), {"--subjects", subjects});
    pid_ = spawn_process(argv, log_.string());
    for (int i = 0; i < 300 && !fs::exists(ready_); ++i) {
      BOOST_REQUIRE_MESSAGE(process_alive(pid_), "engine_host exited:\n" << log());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    BOOST_REQUIRE_MESSAGE(fs::exists(ready_), "engine_host not ready in 15 s:\n" << log());
  }
  ~host() { stop(); }
  void submit() { ::kill(pid_, SIGUSR1); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const int rc = wait_process(pid_, std::chrono::seconds(30));
    BOOST_TEST(rc == 0, "engine_host stop: exit " << rc << "\n" << log());
    pid_ = -1;
  }
  void kill_hard() {
    ::kill(pid_, SIGKILL);
    wait_process(pid_, std::chrono::seconds(10));
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }
  std::string log() const { return read_file(log_); }

private:
  fs::path ready_, log_;
  pid_t pid_ = -1;
};

struct env {
  env(const std::string &name, const std::string &people, const std::string &engine_lines, int max_events = 20) {
    directory_options o;
    o.seed_ldif = seed_ldif(people);
    dir = std::make_unique<directory>(o, name);
    write_plugin_config(dir->config_path(), config_text(dir->state_dir(), engine_lines, max_events),
                        dir->state_dir());
    dir->start();
    dir->events().wait_readable();
    ctl = std::make_unique<policy_client>(reclaimctl_path(), dir->config_path(), dir->state_dir());
  }
  std::string uuid(const std::string &uid) {
    auto id = dir->read(person_dn(uid)).first("entryUUID");
    for (auto &c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return id;
  }
  void terminate(const std::string &uid) {
    dir->modify(person_dn(uid), {{mod_op::replace, "employeeType", {"terminated"}}});
  }
  // Status of the subject's m365 reclaim_licence action ("" when none).
  std::string reclaim_status(const std::string &subject) {
    for (const auto &a : ctl->actions(subject))
      if (a.value("app", "") == "m365" && a.value("action", "") == "reclaim_licence") return a.value("status", "");
    return "";
  }
  // Waits (15 s at most: half the poll interval) until every subject's
  // m365 licence reclaim is done.
  void wait_reclaimed(const std::vector<std::string> &subjects, const std::string &context) {
    for (int i = 0; i < 150; ++i) {
      bool all = true;
      for (const auto &s : subjects) all = all && reclaim_status(s) == "done";
      if (all) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::string state;
    for (const auto &s : subjects) state += s + ": \"" + reclaim_status(s) + "\"\n";
    BOOST_FAIL(context << ": licences not reclaimed in 15 s:\n" << state << "plugin log:\n" << dir->slapd().plugin_log());
  }
  json audit_records() {
    std::vector<json> out;
    std::istringstream in(read_file(dir->state_dir() / "audit" / "audit.jsonl"));
    json all = json::array();
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) all.push_back(json::parse(l));
    return all;
  }
  void verify_audit() {
    const auto pub = ctl->run({"audit", "public-key"});
    BOOST_TEST_REQUIRE(pub.exit_code == 0, pub.output());
    const auto v = ctl->run({"audit", "verify", "--key", pub.out.substr(0, pub.out.find('\n'))});
    BOOST_TEST(v.exit_code == 0, "reclaimctl audit verify: " << v.output());
    BOOST_TEST(v.out.find("; 0 error(s)") != std::string::npos, v.out);
  }
  std::unique_ptr<directory> dir;
  std::unique_ptr<policy_client> ctl;
};

std::string people(const std::string &prefix, int n) {
  std::string out;
  for (int i = 1; i <= n; ++i)
    out += person_ldif(prefix + std::to_string(i), "departmentNumber: 300\nemployeeType: employee\n");
  return out;
}

int count_type(const json &records, const std::string &type) {
  int n = 0;
  for (const auto &r : records) n += r.value("type", "") == type;
  return n;
}

int64_t number(const policy_client &ctl, const std::string &sql) {
  const auto rows = ctl.query(sql);
  return rows.empty() || rows[0].empty() ? -1 : std::stoll(rows[0][0]);
}

std::string rows(const policy_client &ctl, const std::string &sql) {
  std::string out;
  for (const auto &r : ctl.query(sql)) {
    for (const auto &c : r) out += c + " | ";
    out += "\n";
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(split_intake_plugin_and_engine_host) {
  BOOST_TEST_REQUIRE(!engine_host_path().empty(), "RECLAIM_TEST_ENGINE_HOST is not set");
  env e("topology-split", people("split.", 4), "role = \"intake\"");
  std::vector<std::string> ids;
  for (int i = 1; i <= 4; ++i) {
    ids.push_back(e.uuid("split." + std::to_string(i)));
    e.ctl->assign(ids.back(), "m365", "M365_E5");
  }
  const auto plugin_log = [&] { return e.dir->slapd().plugin_log(); };
  BOOST_TEST(plugin_log().find("role intake") != std::string::npos, plugin_log());

  auto h = std::make_unique<host>(e.dir->dir().path(), e.dir->config_path(), "engine");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000)); // past the host's first planning pass
  e.terminate("split.1");
  e.terminate("split.2");
  e.wait_reclaimed({ids[0], ids[1]}, "engine host running");
  BOOST_TEST(h->log().find("reclaim_licence on m365") != std::string::npos, h->log());
  BOOST_TEST(plugin_log().find("reclaim_licence on m365") == std::string::npos,
             "the intake plugin dispatched:\n" << plugin_log());

  // The engine host killed -9: slapd keeps journalling, nothing is planned
  // until the host is back; then both are done.
  const pid_t first = h->pid();
  h->kill_hard();
  e.terminate("split.3");
  e.terminate("split.4");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  BOOST_TEST(e.ctl->plans(ids[2]).empty(), "planned without an engine process: " << e.ctl->plans(ids[2]).dump());
  h = std::make_unique<host>(e.dir->dir().path(), e.dir->config_path(), "engine");
  e.wait_reclaimed({ids[2], ids[3]}, "engine host restarted");
  const pid_t second = h->pid();
  const int64_t slapd_pid = e.dir->slapd().pid();
  h->stop();
  e.dir->stop();

  e.verify_audit();
  const auto records = e.audit_records();
  std::set<int64_t> appenders;
  for (const auto &r : records)
    if (r.value("type", "") == "log_start") appenders.insert(r["data"].value("pid", int64_t{0}));
  // The hosts appended (reclaimctl may have, while no engine ran); the
  // intake plugin never did.
  BOOST_TEST(appenders.count(first) == 1u, "log_start records by " << json(appenders).dump());
  BOOST_TEST(appenders.count(second) == 1u, "log_start records by " << json(appenders).dump());
  BOOST_TEST(appenders.count(slapd_pid) == 0u, "the intake plugin appended: " << json(appenders).dump());
  // Every attempt has its record once: the host appended the outbox rows the
  // plugin queued (event_journalled) and its own.
  BOOST_TEST(count_type(records, "action_attempted") == number(*e.ctl, "SELECT sum(attempts) FROM actions"));
  BOOST_TEST(count_type(records, "event_journalled") >= 4);
}

BOOST_AUTO_TEST_CASE(two_full_engines_share_a_state_dir) {
  BOOST_TEST_REQUIRE(!engine_host_path().empty(), "RECLAIM_TEST_ENGINE_HOST is not set");
  env e("topology-shared", people("both.", 6), "", 8);
  std::vector<std::string> ldap_ids, host_ids;
  for (int i = 1; i <= 6; ++i) ldap_ids.push_back(e.uuid("both." + std::to_string(i)));
  for (int i = 1; i <= 3; ++i) host_ids.push_back("host-person-" + std::to_string(i));
  for (const auto &id : ldap_ids) e.ctl->assign(id, "m365", "M365_E5");
  for (const auto &id : host_ids) e.ctl->assign(id, "m365", "M365_E5");
  std::string subjects;
  for (const auto &id : host_ids) subjects += (subjects.empty() ? "" : ",") + id;

  // A burst from both at once: 3 from slapd, 3 from the host (6 <= 8).
  host h(e.dir->dir().path(), e.dir->config_path(), "config", subjects);
  h.submit();
  for (int i = 1; i <= 3; ++i) e.terminate("both." + std::to_string(i));
  std::vector<std::string> first_six = {ldap_ids[0], ldap_ids[1], ldap_ids[2]};
  first_six.insert(first_six.end(), host_ids.begin(), host_ids.end());
  e.wait_reclaimed(first_six, "both engines running");
  // Every immediate action was claimed once (a claim counts an attempt; the
  // local connector never fails, so a second attempt is a second claim),
  // none is left running, and each licence went once.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  BOOST_TEST(number(*e.ctl, "SELECT count(*) FROM actions WHERE status = 'done'") > 0);
  BOOST_TEST(number(*e.ctl, "SELECT count(*) FROM actions WHERE status = 'running' OR attempts > 1") == 0,
             "an action ran twice or is stuck:\n" << rows(*e.ctl, "SELECT id, subject_id, app, kind, status, attempts, outcome FROM actions WHERE status = 'running' OR attempts > 1"));
  BOOST_TEST(number(*e.ctl, "SELECT count(*) FROM inventory_licences WHERE app = 'm365'") == 3,
             "the 3 people not terminated keep their licence");
  BOOST_TEST(number(*e.ctl, "SELECT count(*) FROM inventory_effects WHERE idempotency_key LIKE '%/m365/reclaim_licence'") == 6,
             rows(*e.ctl, "SELECT * FROM inventory_effects"));

  // Three more from slapd: 6 from slapd and 3 from the host in the window,
  // neither alone above 8, together 9: the guard holds.
  for (int i = 4; i <= 6; ++i) e.terminate("both." + std::to_string(i));
  json held;
  for (int i = 0; i < 100; ++i) {
    held = e.ctl->plans({}, "held");
    if (!held.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_TEST(!held.empty(), "no plan held by the guard; plans:\n" << e.ctl->plans().dump(1) << "\nplugin log:\n"
                                                                  << e.dir->slapd().plugin_log() << "\nhost log:\n"
                                                                  << h.log());
  h.stop();
  e.dir->stop();
  e.verify_audit();
  const auto records = e.audit_records();
  BOOST_TEST(count_type(records, "action_attempted") == number(*e.ctl, "SELECT sum(attempts) FROM actions"));
  std::map<std::string, int> outcomes;
  for (const auto &r : records)
    if (r.value("type", "") == "action_attempted") ++outcomes[r.value("ids", json::object()).dump()];
  for (const auto &[ids, n] : outcomes) BOOST_TEST(n == 1, "attempt recorded " << n << " times: " << ids);
}

// An action another live engine runs ("running") is not requeued by an
// engine starting beside it; once every other engine died (kill -9), the
// survivor requeues it.
BOOST_AUTO_TEST_CASE(running_actions_of_a_live_engine_are_not_requeued) {
  BOOST_TEST_REQUIRE(!engine_host_path().empty(), "RECLAIM_TEST_ENGINE_HOST is not set");
  env e("topology-requeue", people("req.", 1), "");
  const auto id = e.uuid("req.1");
  e.ctl->assign(id, "m365", "M365_E5");
  e.terminate("req.1");
  e.wait_reclaimed({id}, "slapd alone");
  // A grace-period action, as if slapd's engine had claimed it just now.
  // A second one claimed an hour ago: no live engine acts that long on one
  // action, so it was left by one that died.
  const auto pending = number(*e.ctl, "SELECT min(id) FROM actions WHERE status = 'pending'");
  const auto stale = number(*e.ctl, "SELECT max(id) FROM actions WHERE status = 'pending'");
  BOOST_TEST_REQUIRE(pending > 0);
  BOOST_TEST_REQUIRE(stale > pending);
  {
    sqlite3 *db = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open((e.dir->state_dir() / "journal.sqlite3").c_str(), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    const auto sql = "UPDATE actions SET status = 'running', attempts = attempts + 1, updated_ms = "
                     "CAST(strftime('%s','now') AS INTEGER) * 1000 WHERE id = " + std::to_string(pending) +
                     "; UPDATE actions SET status = 'running', attempts = attempts + 1, updated_ms = "
                     "(CAST(strftime('%s','now') AS INTEGER) - 3600) * 1000 WHERE id = " + std::to_string(stale);
    BOOST_TEST_REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK, sqlite3_errmsg(db));
    sqlite3_close(db);
  }
  const auto status_of = [&](int64_t action) {
    return e.ctl->query("SELECT status FROM actions WHERE id = " + std::to_string(action)).at(0).at(0);
  };
  const auto status = [&] { return status_of(pending); };
  host h(e.dir->dir().path(), e.dir->config_path(), "engine");
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  BOOST_TEST(status() == "running", "an engine starting beside a live one requeued its running action\n" << h.log());
  BOOST_TEST(status_of(stale) == "pending", "an action running for an hour was not requeued\n" << h.log());
  e.dir->slapd().kill_hard();
  std::string now;
  for (int i = 0; i < 100 && (now = status()) == "running"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_TEST(now == "pending", "not requeued after the other engine died (status " << now << ")\n" << h.log());
  BOOST_TEST(h.log().find("of another engine process on the state_dir were requeued") != std::string::npos, h.log());
  h.stop();
  e.verify_audit();
}
