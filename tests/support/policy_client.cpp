// policy_client.cpp — runs reclaimctl's policy commands and parses their
// JSON; reads the state store with SQLite in read-only mode (WAL, so it
// never blocks the plugin or a dispatcher).
#include "policy_client.hpp"

#include <sqlite3.h>

#include <ctime>
#include <regex>
#include <stdexcept>
#include <thread>

namespace reclaim::test {
namespace fs = std::filesystem;

std::string utc_from_now(std::chrono::seconds offset) {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + offset);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string utc_in_days(int days) { return utc_from_now(std::chrono::hours(24) * days); }

policy_client::policy_client(fs::path reclaimctl, fs::path config, fs::path state_dir)
    : reclaimctl_(std::move(reclaimctl)), config_(std::move(config)),
      state_dir_(std::move(state_dir)) {}

process_result policy_client::run(const std::vector<std::string> &args) const {
  std::vector<std::string> argv = {reclaimctl_.string(), "--config", config_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  // A fixed $USER, so the default actor of hold/approve is predictable.
  return run_process(argv, std::chrono::seconds(60), {"USER=policy-test", "SUDO_USER="});
}

nlohmann::json policy_client::json(std::vector<std::string> args) const {
  args.push_back("--json");
  const auto r = run(args);
  std::vector<std::string> argv = {"reclaimctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  if (r.exit_code != 0) {
    throw std::runtime_error(describe_command(argv) + " exited " + std::to_string(r.exit_code) +
                             ": " + r.output());
  }
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception &e) {
    throw std::runtime_error(describe_command(argv) + " printed no JSON (" + e.what() + "): " +
                             r.output());
  }
}

nlohmann::json policy_client::plans(const std::string &subject, const std::string &status) const {
  std::vector<std::string> args = {"plans", "list"};
  if (!subject.empty()) args.insert(args.end(), {"--subject", subject});
  if (!status.empty()) args.insert(args.end(), {"--status", status});
  return json(args);
}

nlohmann::json policy_client::actions(const std::string &subject, const std::string &state,
                                      std::int64_t plan) const {
  std::vector<std::string> args = {"actions", "list"};
  if (!subject.empty()) args.insert(args.end(), {"--subject", subject});
  if (!state.empty()) args.insert(args.end(), {"--state", state});
  if (plan != 0) args.insert(args.end(), {"--plan", std::to_string(plan)});
  return json(args);
}

nlohmann::json policy_client::inventory(const std::string &subject) const {
  std::vector<std::string> args = {"inventory", "list"};
  if (!subject.empty()) args.insert(args.end(), {"--subject", subject});
  return json(args);
}

std::vector<std::string> policy_client::dispatch_argv(const std::string &at, int max) const {
  std::vector<std::string> argv = {reclaimctl_.string(), "--config", config_.string(), "dispatch"};
  // --at alone is a preview; these tests act at that time (in_process = false).
  if (!at.empty()) argv.insert(argv.end(), {"--at", at, "--execute"});
  if (max > 0) argv.insert(argv.end(), {"--max", std::to_string(max)});
  return argv;
}

int policy_client::dispatch(const std::string &at, int max) const {
  const auto argv = dispatch_argv(at, max);
  const auto r = run(std::vector<std::string>(argv.begin() + 3, argv.end()));
  if (r.exit_code != 0) {
    throw std::runtime_error(describe_command(argv) + " exited " + std::to_string(r.exit_code) +
                             ": " + r.output());
  }
  static const std::regex ran(R"(ran (\d+) actions)");
  std::smatch m;
  if (!std::regex_search(r.out, m, ran)) {
    throw std::runtime_error(describe_command(argv) + " did not say how many actions ran: " +
                             r.output());
  }
  return std::stoi(m[1].str());
}

void policy_client::assign(const std::string &subject, const std::string &app,
                           const std::string &sku) const {
  const auto r = run({"inventory", "assign", "--subject", subject, "--app", app, "--sku", sku});
  if (r.exit_code != 0) {
    throw std::runtime_error("inventory assign " + app + "/" + sku + " exited " +
                             std::to_string(r.exit_code) + ": " + r.output());
  }
}

void policy_client::grant(const std::string &subject, const std::string &app) const {
  const auto r = run({"inventory", "grant", "--subject", subject, "--app", app});
  if (r.exit_code != 0) {
    throw std::runtime_error("inventory grant " + app + " exited " + std::to_string(r.exit_code) +
                             ": " + r.output());
  }
}

nlohmann::json policy_client::wait_plans(const std::string &subject,
                                         const std::function<bool(const nlohmann::json &)> &pred,
                                         std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto p = plans(subject);
    if (pred(p) || std::chrono::steady_clock::now() >= deadline) return p;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::vector<std::string>> policy_client::query(const std::string &sql) const {
  const auto path = (state_dir_ / "journal.sqlite3").string();
  sqlite3 *db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string error = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path + ": " + error);
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    const std::string error = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error("query \"" + sql + "\": " + error);
  }
  std::vector<std::vector<std::string>> rows;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const auto *text = sqlite3_column_text(st, i);
      row.emplace_back(text ? reinterpret_cast<const char *>(text) : "");
    }
    rows.push_back(std::move(row));
  }
  const std::string error = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db);
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (!error.empty()) throw std::runtime_error("query \"" + sql + "\": " + error);
  return rows;
}

} // namespace reclaim::test
