// plan_throughput.cpp — planning and scheduling cost, measured in one run:
// 100,000 journalled events over 50 applications go through the planner
// (journal → plans and actions with due times, in the SQLite store), then
// the scheduler runs the due actions against a connector that does nothing,
// which isolates the scheduler's own overhead per action.
// Usage: plan_throughput [events] [applications] [plan-only]
#include "config/config.hpp"
#include "store/journal.hpp"
#include "policy/planner.hpp"
#include "dispatch/scheduler.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <random>
#include <sys/stat.h>
#include <time.h>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

// CPU time of this process (user + system): less disturbed than wall time
// by other work on a shared machine.
double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// 50 applications in 10 departments of 5; leavers lose their department's
// applications, leave suspends them, transfers lose what the new role lacks.
std::string make_config(const std::filesystem::path &dir, int apps) {
  std::string t = fmt::format("[engine]\nstate_dir = \"{}\"\nmode = \"enforce\"\nlog_level = \"error\"\n"
                              "[ldap]\nbase = \"dc=example,dc=com\"\n",
                              dir.string());
  for (int a = 0; a < apps; ++a)
    t += fmt::format("[[application]]\nid = \"app{}\"\ntier = \"{}\"\nskus = [{{ id = \"S{}\", monthly_cost = 10.0 }}]\n",
                     a, a % 3 == 0 ? "critical" : a % 3 == 1 ? "standard" : "low", a);
  t += "[policy]\nrole_attribute = \"departmentNumber\"\n[policy.entitlements]\n";
  for (int d = 0; d < apps / 5; ++d) {
    t += fmt::format("\"{}\" = [", d);
    for (int a = 0; a < 5; ++a) t += fmt::format("{}\"app{}\"", a ? ", " : "", d * 5 + a);
    t += "]\n";
  }
  for (int d = 0; d < apps / 5; ++d) {
    std::string list;
    for (int a = 0; a < 5; ++a) list += fmt::format("{}\"app{}\"", a ? ", " : "", d * 5 + a);
    t += fmt::format("[[policy.rule]]\nname = \"leavers-{0}\"\nto = [\"terminated\", \"deleted\"]\n"
                     "where = {{ departmentNumber = [\"{0}\"] }}\napplications = [{1}]\n"
                     "actions = [{{ action = \"revoke_access\", delay = \"immediate\" }}, {{ action = \"reclaim_licence\" }}]\n"
                     "[[policy.rule]]\nname = \"leave-{0}\"\nto = [\"leave\"]\nwhere = {{ departmentNumber = [\"{0}\"] }}\n"
                     "applications = [{1}]\nactions = [{{ action = \"suspend_access\", delay = \"immediate\" }}]\n",
                     d, list);
  }
  t += "[[policy.rule]]\nname = \"transfer\"\nto = [\"transferred\"]\napplications = [\"*\"]\n"
       "actions = [{ action = \"revoke_access\", delay = \"P14D\" }]\n"
       "[guard]\nmax_events = 0\nmax_percent = 0.0\n[scheduler]\nin_process = false\nmax_attempts = 3\n";
  const auto path = dir / "reclaim.toml";
  std::ofstream(path) << t;
  ::chmod(path.c_str(), 0600);
  return path.string();
}

class null_connector : public reclaim::connector {
public:
  reclaim::connector_result execute(const reclaim::action_row &, const reclaim::application &) override {
    return {reclaim::connector_result::outcome::done, "ok", "{}"};
  }
};

} // namespace

int main(int argc, char **argv) {
  const int events = argc > 1 ? std::atoi(argv[1]) : 100000;
  const int apps = argc > 2 ? std::atoi(argv[2]) : 50;
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("reclaim-bench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto cfg = reclaim::load_config(make_config(dir, apps));
  reclaim::logger quiet;

  // Events: 10% terminations, 10% leave, 20% transfers, 60% other changes.
  reclaim::journal j(cfg.journal_path(), reclaim::sqlite::durability::normal);
  std::mt19937 rng(42);
  auto t0 = clock_type::now();
  {
    reclaim::sqlite::transaction tx(j.db());
    for (int i = 0; i < events; ++i) {
      const int dept = static_cast<int>(rng() % static_cast<unsigned>(apps / 5));
      const int kind = static_cast<int>(rng() % 10);
      reclaim::event_record ev;
      ev.idempotency_key = fmt::format("bench/{}", i);
      ev.subject_id = fmt::format("person-{}", i);
      ev.subject_name = fmt::format("uid=p{},ou=People,dc=example,dc=com", i);
      ev.source = "bench";
      ev.previous = reclaim::state::active;
      ev.current = kind == 0 ? reclaim::state::terminated
                   : kind == 1 ? reclaim::state::leave
                   : kind <= 3 ? reclaim::state::transferred
                               : reclaim::state::active;
      ev.time = reclaim::now();
      ev.recorded = ev.time;
      ev.attributes_json = fmt::format(R"({{"departmentNumber":["{}"],"before":{{"departmentNumber":["{}"]}}}})",
                                       dept, (dept + 1) % (apps / 5));
      j.append(ev);
    }
    tx.commit();
  }
  const double journal_s = seconds_since(t0);

  reclaim::planner p(cfg, j, quiet);
  t0 = clock_type::now();
  const double cpu0 = cpu_seconds();
  const size_t planned = p.plan_pending();
  const double plan_s = seconds_since(t0);
  const double plan_cpu_s = cpu_seconds() - cpu0;
  const auto actions = p.store().actions("", "", 0).size();

  if (argc > 3 && std::string(argv[3]) == "plan-only") {
    std::printf("{\"events_per_s\": %.0f, \"events_per_cpu_s\": %.0f, \"actions_planned\": %zu}\n",
                static_cast<double>(planned) / plan_s, static_cast<double>(planned) / plan_cpu_s, actions);
    std::filesystem::remove_all(dir);
    return 0;
  }
  reclaim::scheduler s(cfg, quiet);
  s.set_connector("local", std::make_shared<null_connector>());
  t0 = clock_type::now();
  const size_t ran = s.run_due(reclaim::now() + std::chrono::hours(24 * 400));
  const double run_s = seconds_since(t0);

  std::printf("{\"events\": %d, \"applications\": %d, \"journal_append_s\": %.3f, \"plan_s\": %.3f, "
              "\"planned_events\": %zu, \"events_per_s\": %.0f, \"actions_planned\": %zu, "
              "\"actions_run\": %zu, \"run_s\": %.3f, \"scheduler_us_per_action\": %.1f}\n",
              events, apps, journal_s, plan_s, planned, static_cast<double>(planned) / plan_s, actions, ran, run_s,
              ran ? 1e6 * run_s / static_cast<double>(ran) : 0.0);
  std::filesystem::remove_all(dir);
  return 0;
}
