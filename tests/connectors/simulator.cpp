// simulator.cpp — simulator processes: spawned with the test support's
// launcher, port read from the file the simulator writes, killed by pid.
#include "simulator.hpp"

#include "process.hpp"
#include "temp_dir.hpp"
#include "test_env.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace reclaim::ctest {
namespace {

size_t collect(char *d, size_t s, size_t n, void *p) {
  static_cast<std::string *>(p)->append(d, s * n);
  return s * n;
}

} // namespace

raw_response raw_http(const std::string &method, const std::string &url, const std::string &body,
                      const std::vector<std::string> &headers) {
  CURL *h = curl_easy_init();
  raw_response out;
  curl_slist *hl = nullptr;
  for (const auto &x : headers) hl = curl_slist_append(hl, x.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty() || method == "POST") curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  const auto rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
  curl_slist_free_all(hl);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) throw std::runtime_error(fmt::format("{} {}: {}", method, url, curl_easy_strerror(rc)));
  return out;
}

std::filesystem::path sim_script(const std::string &name) {
  auto src = reclaim::test::source_dir();
  if (src.empty()) src = RECLAIM_SOURCE_DIR;
  return src / "tests" / "sim" / name;
}

simulator::simulator(const std::string &script, const std::filesystem::path &dir, const std::vector<std::string> &args) {
  const auto port_file = dir / (script + ".port");
  std::filesystem::remove(port_file);
  std::vector<std::string> argv{"python3", sim_script(script).string(), "--port-file", port_file.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = reclaim::test::spawn_process(argv, (dir / (script + ".log")).string());
  for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
    if (!reclaim::test::process_alive(pid_)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (!std::filesystem::exists(port_file))
    throw std::runtime_error("simulator " + script + " did not start; see " + (dir / (script + ".log")).string());
  std::ifstream in(port_file);
  int port = 0;
  in >> port;
  const bool tls = std::find(args.begin(), args.end(), "--tls-cert") != args.end();
  fmt_url_ = fmt::format("{}://127.0.0.1:{}", tls ? "https" : "http", port);
  control_url_ = fmt_url_;
}

simulator::~simulator() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (reclaim::test::wait_process(pid_, std::chrono::seconds(5)) == -1) {
      ::kill(pid_, SIGKILL);
      reclaim::test::wait_process(pid_, std::chrono::seconds(5));
    }
  }
}

json simulator::control(const std::string &method, const std::string &path, const json &body) {
  CURL *h = curl_easy_init();
  std::string out, payload = body.dump();
  curl_easy_setopt(h, CURLOPT_URL, (control_url_ + path).c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method != "GET") curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); // the control channel only
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  const auto rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) throw std::runtime_error("control " + path + ": " + curl_easy_strerror(rc));
  return json::parse(out);
}

void write_secret(const std::filesystem::path &p, const std::string &text) {
  reclaim::test::write_text_file(p, text);
}

} // namespace reclaim::ctest
