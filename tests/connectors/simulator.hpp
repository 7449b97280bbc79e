// simulator.hpp — a vendor simulator (tests/sim/*.py) started on a free
// loopback port and stopped by pid, its control API, plain-libcurl requests
// for tests that speak to a simulator directly, and 0600 secret files.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
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

// Writes a 0600 file.
void write_secret(const std::filesystem::path &p, const std::string &text);

} // namespace reclaim::ctest
