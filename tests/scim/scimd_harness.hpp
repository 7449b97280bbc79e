// scimd_harness.hpp — a running reclaim-scimd for the HTTP tests: a temp
// state_dir, the example reclaim.toml plus a [scim_server] section on
// 127.0.0.1 (port chosen by the kernel), the daemon started with --library
// pointing at the build tree's libreclaim.so.1, and a libcurl client.
#pragma once

#include "journal.hpp"
#include "temp_dir.hpp"

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/types.h>
#include <vector>

namespace reclaim::test {

struct http_reply {
  long status = 0;
  std::map<std::string, std::string> headers; // names lower-case
  std::string body;
  std::string error; // curl's message when no reply came
  nlohmann::json json() const;
  std::string header(const std::string &name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// The tokens the harness configures.
inline const std::string provisioner_token = "prov-token-0123456789";
inline const std::string reader_token = "reader-token-0123456789";
inline const std::string hr_token = "hr-token-0123456789";

class scimd_instance {
public:
  // extra_scim: more lines inside [scim_server] (e.g. "[scim_server.limits]...").
  explicit scimd_instance(const std::string &extra_scim = "", const std::string &extra_toml = "");
  ~scimd_instance(); // SIGKILL if still running

  void start();               // waits until it listens
  int stop_term();            // SIGTERM, returns the exit code
  void kill9();
  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  std::string log() const;
  const std::filesystem::path &config() const { return config_; }
  const std::filesystem::path &state_dir() const { return state_dir_; }

  http_reply request(const std::string &method, const std::string &path, const std::string &body = "",
                     const std::string &token = provisioner_token,
                     const std::vector<std::string> &headers = {}) const;
  std::vector<journal_event> events() const;
  // Events of source "scim".
  std::vector<journal_event> scim_events() const;

private:
  temp_dir dir_{"reclaim-scimd-"};
  std::filesystem::path state_dir_, config_, port_file_, log_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

} // namespace reclaim::test
