// test_audit_operation.cpp — the audit log in operation: heartbeat
// checkpoints when idle, a long gap between checkpoints reported as a
// warning, an unreadable outbox row recorded as a write failure instead of
// blocking the log, and [audit] config errors with file:line:col messages.
#include "audit_fixture.hpp"
#include "test_env.hpp"

#include "config/config.hpp"

#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <thread>

using namespace reclaim;
using namespace reclaim::test;
namespace fs = std::filesystem;

BOOST_FIXTURE_TEST_SUITE(audit_operation, audit_fixture)

BOOST_AUTO_TEST_CASE(heartbeat_checkpoint_when_idle) {
  cfg.checkpoint_interval = std::chrono::milliseconds(1000);
  audit::appender a(cfg, state_db, quiet);
  const auto before = checkpoints().size();
  a.tick();
  BOOST_TEST(checkpoints().size() == before); // not yet due
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  a.tick();
  BOOST_TEST(checkpoints().size() == before + 1);
  BOOST_TEST(std::stoull(checkpoints().back().filename().string()) == a.size());
}

BOOST_AUTO_TEST_CASE(checkpoints_are_copied_to_the_second_place) {
  cfg.copy_to = dir / "worm";
  session(12, 400);
  std::vector<fs::path> copies;
  for (const auto &e : fs::directory_iterator(cfg.copy_to)) copies.push_back(e.path());
  std::sort(copies.begin(), copies.end());
  BOOST_REQUIRE(!copies.empty());
  BOOST_TEST(read_text_file(copies.back()) == read_text_file(checkpoints().back()));
  // The copy is what catches "truncate the log and delete the newer checkpoints".
  auto l = lines();
  l.resize(l.size() - 5);
  write_lines(l);
  fs::remove(checkpoints().back());
  const auto r = verify({"--trusted-checkpoint", copies.back().string()});
  BOOST_TEST(r.exit_code == 1, r.output());
  BOOST_TEST(r.out.find("(truncation or rollback)") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(long_gap_between_checkpoints_is_a_warning) {
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  session(1, 700);
  const auto r = verify({"--max-gap", "PT1S"});
  BOOST_TEST(r.exit_code == 4, r.output());
  BOOST_TEST(r.out.find("s since the previous checkpoint record") != std::string::npos, r.out);
  BOOST_TEST(verify().exit_code == 0);
}

BOOST_AUTO_TEST_CASE(unreadable_outbox_row_is_recorded_not_blocking) {
  {
    sqlite::database db(state_db, sqlite::durability::normal);
    audit::create_outbox(db);
    db.exec("INSERT INTO audit_outbox (body) VALUES ('{\"type\": \"plan_made\"}')"); // not canonical
    audit::enqueue(db, {{"type", "plan_made"}, {"actor", "engine"}});
  }
  {
    audit::appender a(cfg, state_db, quiet);
    BOOST_TEST(a.drain() == 2u);
  }
  const auto text = read_text_file(log);
  BOOST_TEST(text.find("\"type\":\"write_failure\"") != std::string::npos);
  BOOST_TEST(text.find("\"type\":\"plan_made\"") != std::string::npos);
  BOOST_TEST(verify().exit_code == 0);
}

// A stop must not wait for a large backlog (issue 13: slapd ignored SIGTERM
// for more than 10 s after a burst): the appender drains for at most
// stop_drain (2 s; 0 here, so 64 records), says how many
// records wait, and the next start appends them.
BOOST_AUTO_TEST_CASE(stop_with_a_large_backlog_is_bounded) {
  constexpr int backlog = 30'000;
  cfg.stop_drain = std::chrono::milliseconds(0);
  {
    sqlite::database db(state_db, sqlite::durability::normal);
    audit::create_outbox(db);
    sqlite::transaction tx(db);
    for (int i = 0; i < backlog; ++i)
      audit::enqueue(db, {{"type", "action_outcome"}, {"actor", "engine"}, {"ids", {{"action", i}}},
                          {"outcome", "done"}, {"reason", "ok"}});
    tx.commit();
  }
  auto count = [&](const char *type) {
    size_t n = 0;
    for (const auto &x : lines()) n += x.find(fmt::format("\"type\":\"{}\"", type)) != std::string::npos;
    return n;
  };
  const auto t0 = std::chrono::steady_clock::now();
  { audit::appender a(cfg, state_db, quiet); } // a stop right after start
  const auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(took < std::chrono::seconds(5), std::chrono::duration<double>(took).count() << " s");
  int64_t waiting = -1;
  for (const auto &x : lines()) {
    const auto rec = nlohmann::json::parse(x);
    if (rec.value("type", "") == "log_stop") waiting = rec["data"].value("outbox_waiting", int64_t(-1));
  }
  BOOST_TEST(waiting == backlog - static_cast<int64_t>(count("action_outcome")));
  BOOST_TEST(waiting > 0);
  // The deadline is checked every 64 records, not once per chunk of 8,192
  // (a chunk takes seconds at idle priority on a busy host).
  BOOST_TEST(count("action_outcome") <= 64u);
  cfg.stop_drain = std::chrono::seconds(2);
  {
    audit::appender a(cfg, state_db, quiet);
    a.drain();
  }
  BOOST_TEST(count("action_outcome") == static_cast<size_t>(backlog)); // nothing lost
  BOOST_TEST(verify().exit_code == 0);
}

BOOST_AUTO_TEST_CASE(audit_config_errors_name_the_key) {
  auto load = [&](const std::string &audit_table) {
    const auto path = dir / "bad.toml";
    write_text_file(path, "[engine]\nstate_dir = \"" + dir.path().string() + "\"\n[ldap]\nbase = \"dc=x\"\n[audit]\n" +
                              audit_table);
    try {
      load_config(path);
    } catch (const config_error &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  BOOST_TEST(load("origin = \"x\"\nkey_fle = \"/k\"\n").find(":7:1: audit.key_fle: unknown key") != std::string::npos);
  BOOST_TEST(load("origin = \"x\"\npath = \"relative.jsonl\"\n").find("audit.path: must be an absolute path") !=
             std::string::npos);
  BOOST_TEST(load("key_file = \"/k\"\n").find("audit.origin: is required") != std::string::npos);
  BOOST_TEST(load("origin = \"a b\"\n").find("audit.origin: must not contain spaces") != std::string::npos);
  BOOST_TEST(load("origin = \"x\"\ncheckpoint_every = 0\n").find("audit.checkpoint_every: must be 1..1000000") !=
             std::string::npos);
  BOOST_TEST(load("origin = \"x\"\n").empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(audit_retention, audit_fixture)

BOOST_AUTO_TEST_CASE(prune_archives_and_the_rest_still_verifies) {
  const auto toml = dir / "reclaim.toml";
  write_text_file(toml, "[engine]\nstate_dir = \"" + dir.path().string() + "\"\n[ldap]\nbase = \"dc=example\"\n"
                        "[audit]\norigin = \"" + origin + "\"\nkey_file = \"" + pem.string() + "\"\npath = \"" +
                        log.string() + "\"\npseudonym_key_file = \"" + (dir / "pseudonym.key").string() +
                        "\"\nkey_store = \"" + cfg.key_store.string() + "\"\n" + operator_access());
  const auto old_cp = dir / "old-checkpoint";
  fs::copy_file(checkpoints().front(), old_cp);
  const auto point = std::stoull(checkpoints()[1].filename().string());
  const auto total = lines().size();
  const auto p = ctl({"-c", toml.string(), "audit", "prune", "--before", std::to_string(point), "--archive",
                      (dir / "archive").string()});
  BOOST_TEST_REQUIRE(p.exit_code == 0, p.output());
  BOOST_TEST(lines().size() == total - point);
  const auto r = verify();
  BOOST_TEST(r.exit_code == 0, r.output());
  BOOST_TEST(r.out.find(fmt::format("{} records ({} archived by prune)", total, point)) != std::string::npos, r.out);
  // The archive verifies on its own.
  const auto seg = dir / "archive" / fmt::format("{:020}-{:020}", 0, point) / "audit.jsonl";
  const auto a = ctl({"audit", "verify", "--log", seg.string(), "--origin", origin, "--key", vkey});
  BOOST_TEST(a.exit_code == 0, a.output());
  // Appending continues the tree; a trusted checkpoint older than the prune point is only a warning.
  session(3, 300);
  BOOST_TEST(verify().exit_code == 0);
  const auto t = verify({"--trusted-checkpoint", old_cp.string()});
  BOOST_TEST(t.exit_code == 4, t.output());
  BOOST_TEST(t.out.find("before the prune point") != std::string::npos);
  // A forged base is caught, whether its hash stays hex or not.
  const fs::path base = log.string() + ".base";
  const auto original = read_text_file(base);
  for (const char forged : {'0', '1', 'g'}) {
    auto text = original;
    const auto at = text.find("\"nodes\":[\"") + 10;
    text[at] = text[at] == forged ? '2' : forged;
    write_text_file(base, text);
    const auto f = verify();
    BOOST_TEST(f.exit_code == 1, f.output());
    BOOST_TEST(f.out.find("TAMPERED: pruned base") != std::string::npos, f.out);
  }
}

BOOST_AUTO_TEST_SUITE_END()
