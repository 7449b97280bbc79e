// scimd_harness.cpp — start/stop reclaim-scimd and talk to it with libcurl.
#include "scimd_harness.hpp"

#include "process.hpp"
#include "test_env.hpp"

#include <csignal>
#include <cstdlib>
#include <curl/curl.h>
#include <stdexcept>
#include <thread>
#include <algorithm>
#include <strings.h>

namespace reclaim::test {
namespace {

std::string env_path(const char *name) {
  const char *v = std::getenv(name);
  if (v == nullptr || *v == '\0') throw std::runtime_error(std::string(name) + " is not set (run through ctest)");
  return v;
}

std::string sha256_hex(const std::string &text) {
  auto r = run_process({"sh", "-c", "printf %s \"$0\" | sha256sum | cut -c1-64", text});
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

size_t on_body(char *data, size_t size, size_t n, void *user) {
  static_cast<std::string *>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char *data, size_t size, size_t n, void *user) {
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string> *>(user))[name] = value;
  }
  return size * n;
}

} // namespace

nlohmann::json http_reply::json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const std::exception &e) {
    throw std::runtime_error("not JSON (" + std::string(e.what()) + "): " + body);
  }
}

scimd_instance::scimd_instance(const std::string &extra_scim, const std::string &extra_toml) {
  become_subreaper();
  state_dir_ = dir_ / "state";
  config_ = dir_ / "reclaim.toml";
  port_file_ = dir_ / "port";
  log_ = dir_ / "scimd.log";
  std::string text = example_config(state_dir_) + "\n" + extra_toml + "\n[scim_server]\nlisten = \"127.0.0.1:0\"\ntokens = [\n" +
                     "  { token_sha256 = \"" + sha256_hex(provisioner_token) + "\", role = \"provisioner\", name = \"entra\" },\n" +
                     "  { token_sha256 = \"" + sha256_hex(reader_token) + "\", role = \"reader\", name = \"audit\" },\n" +
                     "  { token_sha256 = \"" + sha256_hex(hr_token) + "\", role = \"hr\", name = \"workday\" },\n]\n" +
                     extra_scim + "\n";
  write_plugin_config(config_, text, state_dir_);
}

scimd_instance::~scimd_instance() {
  if (pid_ > 0 && process_alive(pid_)) {
    ::kill(pid_, SIGKILL);
    wait_process(pid_, std::chrono::seconds(10));
  }
}

void scimd_instance::start() {
  std::filesystem::remove(port_file_);
  pid_ = spawn_process({env_path("RECLAIM_TEST_SCIMD"), "--config", config_.string(), "--library",
                        env_path("RECLAIM_TEST_PLUGIN"), "--port-file", port_file_.string()},
                       log_.string());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto text = read_text_file(port_file_);
    if (!text.empty()) {
      port_ = static_cast<std::uint16_t>(std::stoul(text));
      return;
    }
    if (!process_alive(pid_)) throw std::runtime_error("reclaim-scimd exited at start:\n" + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("reclaim-scimd did not listen within 30 s:\n" + log());
}

int scimd_instance::stop_term() {
  ::kill(pid_, SIGTERM);
  const int rc = wait_process(pid_, std::chrono::seconds(30));
  pid_ = -1;
  return rc;
}

void scimd_instance::kill9() {
  ::kill(pid_, SIGKILL);
  wait_process(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

std::string scimd_instance::log() const { return read_text_file(log_); }

http_reply scimd_instance::request(const std::string &method, const std::string &path, const std::string &body,
                                   const std::string &token, const std::vector<std::string> &headers) const {
  http_reply r;
  CURL *c = curl_easy_init();
  if (c == nullptr) throw std::runtime_error("curl_easy_init");
  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + path;
  curl_slist *h = nullptr;
  if (!token.empty()) h = curl_slist_append(h, ("Authorization: Bearer " + token).c_str());
  // A Content-Type among headers replaces the default (curl would send both).
  const bool own_type = std::any_of(headers.begin(), headers.end(), [](const std::string &x) {
    return x.size() >= 13 && strncasecmp(x.c_str(), "content-type:", 13) == 0;
  });
  if (!body.empty() && !own_type) h = curl_slist_append(h, "Content-Type: application/scim+json");
  h = curl_slist_append(h, "Expect:");
  for (const auto &x : headers) h = curl_slist_append(h, x.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) r.error = curl_easy_strerror(rc);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return r;
}

std::vector<journal_event> scimd_instance::events() const {
  return journal(env_path("RECLAIM_TEST_RECLAIMCTL"), config_).read();
}

std::vector<journal_event> scimd_instance::scim_events() const {
  std::vector<journal_event> out;
  for (auto &e : events())
    if (e.source == "scim") out.push_back(e);
  return out;
}

} // namespace reclaim::test
