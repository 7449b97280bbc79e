// test_audit_flow.cpp — the audit integration points end to end in one
// process: an event, its plan and the action's attempt and outcome become
// records linked by ids; the attempt is committed before the connector is
// called (no unaudited external effect), and an action whose record cannot
// be written does not run; names never appear in clear in the log.
#include "audit/audit_log.hpp"
#include "audit/audit_verify.hpp"
#include "config/config.hpp"
#include "engine/engine.hpp"
#include "store/journal.hpp"
#include "policy/planner.hpp"
#include "policy_fixture.hpp"
#include "dispatch/scheduler.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <fcntl.h>
#include <sys/file.h>
#include <thread>
#include <unistd.h>
#include <fstream>

using json = nlohmann::json;
using reclaim::unit::temp_dir;

namespace {

struct audited_connector : reclaim::connector {
  std::filesystem::path db_path;
  std::vector<int64_t> audited_before_call; // outbox had the attempt when called
  reclaim::connector_result execute(const reclaim::action_row &a, const reclaim::application &) override {
    reclaim::sqlite::database db(db_path, reclaim::sqlite::durability::normal, true);
    auto st = db.prepare("SELECT body FROM audit_outbox ORDER BY id");
    while (st.step()) {
      const auto b = json::parse(st.text(0));
      if (b["type"] == "action_attempted" && b["ids"]["action"] == a.id) audited_before_call.push_back(a.id);
    }
    return {reclaim::connector_result::outcome::done, "revoked", "{}"};
  }
};

struct audited_world {
  temp_dir dir;
  reclaim::unit::log_capture logs;
  reclaim::logger log = logs.make();
  reclaim::config cfg;
  std::unique_ptr<reclaim::journal> j;
  std::unique_ptr<reclaim::planner> p;
  std::unique_ptr<reclaim::scheduler> s;
  std::shared_ptr<audited_connector> conn = std::make_shared<audited_connector>();

  audited_world() {
    const auto pem = dir / "audit.pem";
    EVP_PKEY *k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    FILE *f = std::fopen(pem.c_str(), "w");
    PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    EVP_PKEY_free(k);
    std::filesystem::permissions(pem, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    reclaim::unit::write_file(dir / "pseudo.key", std::string(40, 'k'), 0600u);
    const auto rule = R"toml(
[[policy.rule]]
name = "leavers"
to = ["terminated"]
applications = ["m365"]
actions = [ { action = "revoke_access", delay = "immediate" } ]
)toml";
    const auto text = fmt::format(
        "[engine]\nstate_dir = \"{}\"\nmode = \"enforce\"\n{}{}{}\n[audit]\norigin = \"unit.example/audit\"\nkey_file = \"{}\"\n"
        "pseudonym_key_file = \"{}\"\n",
        (dir / "state").string(), reclaim::unit::ldap_section, reclaim::unit::apps_text({}), rule, pem.string(),
        (dir / "pseudo.key").string());
    cfg = reclaim::unit::load_toml(dir, text);
    j = std::make_unique<reclaim::journal>(cfg.journal_path(), reclaim::sqlite::durability::normal);
    p = std::make_unique<reclaim::planner>(cfg, *j, log);
    s = std::make_unique<reclaim::scheduler>(cfg, log);
    conn->db_path = cfg.journal_path();
    s->set_connector("local", conn);
  }

  void terminate(const std::string &subject) {
    reclaim::event_record ev;
    ev.idempotency_key = subject + "/1";
    ev.subject_id = subject;
    ev.subject_name = "uid=" + subject + ",ou=People,dc=example,dc=com";
    ev.source = "ldap";
    ev.previous = reclaim::state::active;
    ev.current = reclaim::state::terminated;
    ev.time = ev.recorded = reclaim::now();
    ev.actor = "cn=hr";
    BOOST_TEST_REQUIRE(j->append(ev));
    p->plan_pending();
  }

  std::vector<json> records() {
    reclaim::audit::appender a(cfg.audit, cfg.journal_path(), log);
    a.drain();
    std::vector<json> out;
    std::ifstream in(cfg.audit.path);
    for (std::string l; std::getline(in, l);) out.push_back(json::parse(l));
    return out;
  }
};

const json *find(const std::vector<json> &recs, const std::string &type) {
  for (const auto &r : recs)
    if (r["type"] == type) return &r;
  return nullptr;
}

} // namespace

BOOST_AUTO_TEST_SUITE(audit_flow)

BOOST_AUTO_TEST_CASE(event_plan_attempt_outcome_are_linked_and_audited_first) {
  audited_world w;
  w.terminate("alice");
  BOOST_TEST_REQUIRE(w.s->run_one(reclaim::now()));
  BOOST_TEST(w.conn->audited_before_call.size() == 1u);
  const auto recs = w.records();
  const auto *ev = find(recs, "event_journalled"), *plan = find(recs, "plan_made"),
             *att = find(recs, "action_attempted"), *out = find(recs, "action_outcome");
  BOOST_TEST_REQUIRE((ev && plan && att && out));
  BOOST_TEST((*plan)["ids"]["event"] == (*ev)["ids"]["event"]);
  BOOST_TEST((*att)["ids"]["plan"] == (*plan)["ids"]["plan"]);
  BOOST_TEST((*out)["ids"]["action"] == (*att)["ids"]["action"]);
  BOOST_TEST((*out)["outcome"] == "done");
  BOOST_TEST((*att)["seq"].get<int>() < (*out)["seq"].get<int>());
  BOOST_TEST((*ev)["subject"].get<std::string>().rfind("rnd:", 0) == 0u); // random, not HMAC(key, id)
  BOOST_TEST((*ev)["subject"] == (*out)["subject"]);
  BOOST_TEST((*plan)["assets"][0]["app"] == "m365");
  std::ifstream in(w.cfg.audit.path);
  const std::string all((std::istreambuf_iterator<char>(in)), {});
  BOOST_TEST(all.find("alice") == std::string::npos); // pseudonymised and encrypted
  reclaim::audit::verify_options o;
  o.log = w.cfg.audit.path;
  o.checkpoint_dir = w.cfg.audit.checkpoint_dir;
  o.origin = w.cfg.audit.origin;
  o.keys.push_back(reclaim::audit::parse_verifier_key(
      reclaim::audit::signer::from_pem_file(w.cfg.audit.key_file, o.origin).verifier_key()));
  const auto r = reclaim::audit::verify_log(o);
  BOOST_TEST(r.errors() == 0u);
}

BOOST_AUTO_TEST_CASE(no_audit_record_no_action) {
  audited_world w;
  w.terminate("bob");
  // The outbox cannot take the record: the action must not run.
  w.j->db().exec("CREATE TRIGGER refuse BEFORE INSERT ON audit_outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  BOOST_TEST(w.s->run_one(reclaim::now()));
  BOOST_TEST(w.conn->audited_before_call.empty());
  const auto acts = w.p->store().actions("", "", 0);
  BOOST_REQUIRE(acts.size() == 1u);
  BOOST_TEST(acts[0].status == "pending");
  BOOST_TEST(acts[0].outcome.find("audit record failed") != std::string::npos);
}

// The engine may open on a directory operation thread: it must not wait
// for the audit log while reclaimctl holds its lock, and must take the log
// over once it is free.
BOOST_AUTO_TEST_CASE(engine_opens_at_once_while_another_process_holds_the_audit_log) {
  audited_world w;
  std::filesystem::create_directories(w.cfg.audit.path.parent_path());
  const int fd = ::open(w.cfg.audit.path.c_str(), O_RDWR | O_CREAT, 0640);
  BOOST_TEST_REQUIRE(fd >= 0);
  BOOST_TEST_REQUIRE(::flock(fd, LOCK_EX) == 0);
  reclaim::open_options o;
  o.config_path = w.dir / "reclaim.toml";
  const auto t0 = std::chrono::steady_clock::now();
  reclaim::engine e(o);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2)), "engine open waited for the lock");
  ::close(fd); // the other process lets go
  bool taken_over = false;
  for (int i = 0; i < 100 && !taken_over; ++i) {
    std::ifstream in(w.cfg.audit.path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    taken_over = text.find("\"config_loaded\"") != std::string::npos;
    if (!taken_over) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  BOOST_TEST(taken_over, "the engine's audit thread never took the log over");
}

BOOST_AUTO_TEST_SUITE_END()
