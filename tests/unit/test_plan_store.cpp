// test_plan_store.cpp — plugin/store/plan_store's schema as the planner relies on
// it: a person's actions are found through their plans (no subject index on
// actions), the due queue is a partial index on pending and running actions,
// and a store made by an older version is migrated when opened.
#include "store/journal.hpp"
#include "store/plan_store.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using reclaim::action_kind;
using reclaim::action_row;
using reclaim::plan_row;
using reclaim::plan_store;
using reclaim::unit::temp_dir;

namespace {

plan_row plan_for(const std::string &subject, const std::string &key) {
  plan_row p;
  p.plan_key = key;
  p.subject_id = subject;
  p.status = "active";
  p.created = reclaim::now();
  return p;
}

action_row action_for(const std::string &subject, const std::string &app, const std::string &status = "pending") {
  action_row a;
  a.subject_id = subject;
  a.app = app;
  a.kind = action_kind::revoke_access;
  a.due = reclaim::now();
  a.status = status;
  return a;
}

std::set<std::string> index_names(reclaim::sqlite::database &db) {
  auto st = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'actions'");
  std::set<std::string> out;
  while (st.step()) out.insert(st.text(0));
  return out;
}

std::string query_plan(reclaim::sqlite::database &db, const std::string &sql) {
  auto st = db.prepare("EXPLAIN QUERY PLAN " + sql);
  std::string out;
  while (st.step()) out += st.text(3) + "\n";
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(plan_store_schema)

BOOST_AUTO_TEST_CASE(a_persons_actions_are_found_through_their_plans) {
  temp_dir dir;
  reclaim::journal j(dir / "journal.sqlite3", reclaim::sqlite::durability::normal);
  plan_store store(j.db());
  // Two people, several plans each, interleaved, actions in every status.
  for (int i = 0; i < 3; ++i)
    for (const std::string who : {"alice", "bob"}) {
      auto p = plan_for(who, fmt::format("event:{}:{}", who, i));
      std::vector<action_row> rows{action_for(who, fmt::format("app{}", i)),
                                   action_for(who, fmt::format("hold{}", i), "on_hold")};
      BOOST_REQUIRE(store.insert_plan(p, rows));
      BOOST_TEST(rows[1].id == rows[0].id + 1);
      BOOST_TEST(rows[0].plan_id == p.id);
    }
  BOOST_TEST(store.live_actions("alice").size() == 6u);
  BOOST_TEST(store.has_live_action("bob", "app2", action_kind::revoke_access, ""));
  BOOST_TEST(!store.has_live_action("bob", "app3", action_kind::revoke_access, ""));

  // Lifting alice's hold releases only her actions.
  store.add_hold({"alice", "case 1", "legal", reclaim::now()});
  BOOST_TEST(store.remove_hold("alice"));
  for (const auto &a : store.actions("on_hold", "", 0)) BOOST_TEST(a.subject_id == "bob");
  BOOST_TEST(store.actions("pending", "alice", 0).size() == 6u);

  const auto cancelled = store.cancel_open_actions("bob", "reactivated");
  BOOST_TEST(cancelled.size() == 6u);
  for (const auto &a : cancelled) BOOST_TEST(a.subject_id == "bob");
  BOOST_TEST(store.actions("pending", "alice", 0).size() == 6u);
  BOOST_TEST(store.actions("cancelled", "", 0).size() == 6u);
}

BOOST_AUTO_TEST_CASE(an_action_for_another_person_is_refused_before_anything_is_written) {
  temp_dir dir;
  reclaim::journal j(dir / "journal.sqlite3", reclaim::sqlite::durability::normal);
  plan_store store(j.db());
  auto p = plan_for("alice", "event:1");
  std::vector<action_row> rows{action_for("alice", "m365"), action_for("bob", "m365")};
  BOOST_CHECK_THROW(store.insert_plan(p, rows), std::logic_error);
  BOOST_TEST(store.plans("", "").empty());
  BOOST_TEST(store.actions("", "", 0).empty());
}

BOOST_AUTO_TEST_CASE(the_due_queue_holds_only_pending_and_running_actions_and_is_used) {
  temp_dir dir;
  reclaim::journal j(dir / "journal.sqlite3", reclaim::sqlite::durability::normal);
  plan_store store(j.db());
  const std::string claim = "SELECT id FROM actions WHERE status = 'pending' AND due_ms <= 1 AND next_ms <= 1"
                            " ORDER BY due_ms, id LIMIT 1";
  BOOST_TEST(query_plan(j.db(), claim).find("INDEX actions_queue") != std::string::npos,
             query_plan(j.db(), claim));
  const std::string requeue = "SELECT id FROM actions WHERE status = 'running'";
  BOOST_TEST(query_plan(j.db(), requeue).find("INDEX actions_queue") != std::string::npos,
             query_plan(j.db(), requeue));
  const std::string live = "SELECT a.id FROM plans p JOIN actions a ON a.plan_id = p.id WHERE p.subject_id = 'x'"
                           " AND a.status IN ('pending','done')";
  BOOST_TEST(query_plan(j.db(), live).find("actions_plan") != std::string::npos, query_plan(j.db(), live));

  auto p = plan_for("alice", "event:1");
  std::vector<action_row> rows{action_for("alice", "a"), action_for("alice", "b"), action_for("alice", "c", "held")};
  BOOST_REQUIRE(store.insert_plan(p, rows));
  auto count = [&] {
    auto st = j.db().prepare("SELECT count(*) FROM actions INDEXED BY actions_queue WHERE status = 'pending' OR status = 'running'");
    return st.step() ? st.integer(0) : -1;
  };
  BOOST_TEST(count() == 2);
  const auto claimed = store.claim_due(reclaim::now() + std::chrono::seconds(1));
  BOOST_REQUIRE(claimed);
  BOOST_TEST(count() == 2); // running stays in the queue (requeued after a crash)
  store.finish(claimed->id, "done", "ok", "");
  BOOST_TEST(count() == 1);
}

BOOST_AUTO_TEST_CASE(an_older_store_loses_its_subject_and_full_due_indexes) {
  temp_dir dir;
  const auto path = dir / "journal.sqlite3";
  {
    reclaim::journal j(path, reclaim::sqlite::durability::normal);
    plan_store store(j.db());
    // What earlier versions created.
    j.db().exec("DROP INDEX actions_queue");
    j.db().exec("CREATE INDEX actions_due ON actions(status, due_ms)");
    j.db().exec("CREATE INDEX actions_subject ON actions(subject_id, app)");
    auto p = plan_for("alice", "event:1");
    std::vector<action_row> rows{action_for("alice", "m365")};
    BOOST_REQUIRE(store.insert_plan(p, rows));
  }
  reclaim::journal j(path, reclaim::sqlite::durability::normal);
  plan_store store(j.db());
  BOOST_TEST(index_names(j.db()) == (std::set<std::string>{"actions_plan", "actions_queue"}));
  BOOST_TEST(store.live_actions("alice").size() == 1u);
  BOOST_TEST(store.claim_due(reclaim::now() + std::chrono::seconds(1)).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
