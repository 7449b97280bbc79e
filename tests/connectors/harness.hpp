// harness.hpp — what the connector contract tests share: a vendor simulator
// (tests/sim/*.py) started on a free loopback port and stopped by pid, its
// control API, and a state store with config, plans and a scheduler, so a
// test drives real actions through the real scheduler and connector.
#pragma once

#include "config.hpp"
#include "plan_store.hpp"
#include "scheduler.hpp"
#include "temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <vector>

namespace reclaim::ctest {

using json = nlohmann::json;

// Plain libcurl, not the client under test.
struct raw_response {
  long status = 0;
  std::string body;
};
raw_response raw_http(const std::string &method, const std::string &url, const std::string &body = "",
                      const std::vector<std::string> &headers = {});

class simulator {
public:
  // script: graph_sim.py, google_sim.py, scim_sim.py or webhook_sim.py.
  simulator(const std::string &script, const std::filesystem::path &dir, const std::vector<std::string> &args = {});
  ~simulator();
  simulator(const simulator &) = delete;
  simulator &operator=(const simulator &) = delete;

  std::string url() const { return fmt_url_; }
  json control(const std::string &method, const std::string &path, const json &body = json::object());
  void seed(const json &state) { control("POST", "/_control/state", state); }
  json state() { return control("GET", "/_control/state"); }
  json stats() { return control("GET", "/_control/stats"); }
  void fault(const json &f) { control("POST", "/_control/faults", f); }
  void clear_faults() { control("DELETE", "/_control/faults"); }

private:
  pid_t pid_ = -1;
  std::string fmt_url_;
  std::string control_url_;
};

std::filesystem::path sim_script(const std::string &name);

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

// Writes a 0600 file.
void write_secret(const std::filesystem::path &p, const std::string &text);

} // namespace reclaim::ctest
