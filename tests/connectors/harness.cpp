// harness.cpp — the store harness: config, state store, plans, scheduler.
#include "harness.hpp"

#include "store/journal.hpp"
#include "process.hpp"
#include "test_env.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace reclaim::ctest {

store_harness::store_harness(const std::string &toml_body) {
  log_ = logger(&store_harness::sink, this, log_level::debug);
  const auto state = dir_.path() / "state";
  std::filesystem::create_directories(state);
  std::filesystem::permissions(state, std::filesystem::perms::owner_all);
  const auto text = fmt::format("[engine]\nstate_dir = \"{}\"\nmode = \"enforce\"\n\n[ldap]\nbase = \"dc=example,dc=com\"\n\n"
                                "[scheduler]\nmax_attempts = 4\nretry_initial = \"PT1S\"\nretry_max = \"PT10S\"\n\n{}",
                                state.string(), toml_body) +
                    reclaim::test::operator_access();
  reclaim::test::write_text_file(dir_.path() / "reclaim.toml", text);
  cfg_ = std::make_unique<config>(load_config(dir_.path() / "reclaim.toml"));
  journal j(cfg_->journal_path(), sqlite::durability::normal); // creates the schema
  db_ = std::make_unique<sqlite::database>(cfg_->journal_path(), sqlite::durability::normal);
  store_ = std::make_unique<plan_store>(*db_);
}

store_harness::~store_harness() = default;

scheduler &store_harness::sched() {
  if (!sched_) sched_ = std::make_unique<scheduler>(*cfg_, log_);
  return *sched_;
}

void store_harness::sink(int level, const char *message, void *payload) {
  auto *self = static_cast<store_harness *>(payload);
  std::lock_guard lock(self->mu_);
  self->logs_.push_back(fmt::format("{} {}", level, message));
}

std::vector<std::string> store_harness::logs() {
  std::lock_guard lock(mu_);
  return logs_;
}

int64_t store_harness::add_action(const std::string &subject, const std::string &app, action_kind kind,
                                  const json &attrs, const std::string &sku, const std::string &to_sku,
                                  const std::string &before, const std::string &target) {
  journal j(cfg_->journal_path(), sqlite::durability::normal);
  event_record ev;
  ev.idempotency_key = fmt::format("test/{}/{}", subject, ++seq_);
  ev.subject_id = subject;
  ev.subject_name = "uid=" + subject + ",dc=example,dc=com";
  ev.source = "test";
  ev.current = state::terminated;
  ev.previous = state::active;
  ev.time = now();
  ev.attributes_json = attrs.dump();
  j.append(ev);
  plan_row p;
  p.plan_key = ev.idempotency_key;
  p.event_seq = ev.seq;
  p.subject_id = subject;
  p.subject_name = ev.subject_name;
  p.status = "active";
  p.created = now();
  action_row a;
  a.subject_id = subject;
  a.app = app;
  a.kind = kind;
  a.sku = sku;
  a.to_sku = to_sku;
  a.target = target;
  a.before_image = before;
  a.due = now();
  a.status = "pending";
  std::vector<action_row> rows{a};
  store_->insert_plan(p, rows);
  return rows.front().id;
}

action_row store_harness::action(int64_t id) {
  for (const auto &a : store_->actions("", "", 0))
    if (a.id == id) return a;
  throw std::runtime_error(fmt::format("no action {}", id));
}

std::vector<action_row> store_harness::all_actions() { return store_->actions("", "", 0); }

void store_harness::run(int rounds, std::chrono::milliseconds ahead) {
  sched().run_due(now());
  for (int i = 0; i < rounds; ++i) {
    bool pending = false;
    for (const auto &a : all_actions()) pending = pending || a.status == "pending";
    if (!pending) return;
    sched().run_due(now() + ahead * (i + 1));
  }
}

} // namespace reclaim::ctest
