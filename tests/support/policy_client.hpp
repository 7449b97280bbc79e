// policy_client.hpp — the policy side of reclaim as an operator sees it:
// `reclaimctl --config TOML plans|actions|inventory|approve|reject|hold|
// exceptions|plan|dispatch`, with JSON output parsed, plus a read-only look
// into the state store (SQLite) for what reclaimctl does not print (the
// local connector's outbox and effect log). No Boost here.
#pragma once

#include "process.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace reclaim::test {

// "YYYY-MM-DDTHH:MM:SSZ" for now + offset (UTC), as `dispatch --at` takes it.
std::string utc_from_now(std::chrono::seconds offset);
std::string utc_in_days(int days);

class policy_client {
public:
  policy_client(std::filesystem::path reclaimctl, std::filesystem::path config,
                std::filesystem::path state_dir);

  // reclaimctl --config TOML args… (exit code and output, never throws).
  process_result run(const std::vector<std::string> &args) const;
  // run(args + --json); throws std::runtime_error with the command and its
  // output when it fails or prints no JSON.
  nlohmann::json json(std::vector<std::string> args) const;

  nlohmann::json plans(const std::string &subject = {}, const std::string &status = {}) const;
  nlohmann::json actions(const std::string &subject = {}, const std::string &state = {},
                         std::int64_t plan = 0) const;
  nlohmann::json inventory(const std::string &subject = {}) const;

  // `dispatch [--at at --execute] [--max max]`; throws when it exits non-zero.
  // Returns how many actions it ran (parsed from "ran N actions").
  int dispatch(const std::string &at = {}, int max = 0) const;
  std::vector<std::string> dispatch_argv(const std::string &at = {}, int max = 0) const;

  // Throws unless exit code 0.
  void assign(const std::string &subject, const std::string &app, const std::string &sku) const;
  void grant(const std::string &subject, const std::string &app) const;

  // Polls plans(subject) until pred holds for the array (or timeout);
  // returns the last array read.
  nlohmann::json wait_plans(const std::string &subject,
                            const std::function<bool(const nlohmann::json &)> &pred,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  // Rows of a read-only query on <state_dir>/journal.sqlite3; NULL reads "".
  std::vector<std::vector<std::string>> query(const std::string &sql) const;

  const std::filesystem::path &config() const { return config_; }

private:
  std::filesystem::path reclaimctl_;
  std::filesystem::path config_;
  std::filesystem::path state_dir_;
};

} // namespace reclaim::test
