// harness.hpp — what the connector contract tests share: a vendor simulator
// (tests/sim/*.py) started on a free loopback port and stopped by pid, its
// control API, and a state store with config, plans and a scheduler, so a
// test drives real actions through the real scheduler and connector.
#pragma once

#include "config/config.hpp"
#include "store/plan_store.hpp"
#include "dispatch/scheduler.hpp"
#include "simulator.hpp"
#include "temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <vector>

namespace reclaim::ctest {

using json = nlohmann::json;

// A state store, a config (the given TOML after a generated [engine] and
// [ldap]), and a scheduler over both.
class store_harness {
public:
  explicit store_harness(const std::string &toml_body);
  ~store_harness();

  const std::filesystem::path &dir() const { return dir_.path(); }
  config &cfg() { return *cfg_; }
  scheduler &sched();
  // A plan with one pending action due now; attrs are the event's
  // journalled attributes (for user_attribute).
  int64_t add_action(const std::string &subject, const std::string &app, action_kind kind, const json &attrs,
                     const std::string &sku = "", const std::string &to_sku = "", const std::string &before = "",
                     const std::string &target = "");
  action_row action(int64_t id);
  std::vector<action_row> all_actions();
  // Runs everything due now; then, up to `rounds` times, everything due
  // within `ahead` (retries), until nothing is pending.
  void run(int rounds = 8, std::chrono::milliseconds ahead = std::chrono::hours(2));
  std::vector<std::string> logs();

  static void sink(int level, const char *message, void *payload);

private:
  reclaim::test::temp_dir dir_{"reclaim-conn-"};
  std::unique_ptr<config> cfg_;
  std::unique_ptr<sqlite::database> db_;
  std::unique_ptr<plan_store> store_;
  std::unique_ptr<scheduler> sched_;
  logger log_;
  std::mutex mu_;
  std::vector<std::string> logs_;
  int64_t seq_ = 0;
};

} // namespace reclaim::ctest
