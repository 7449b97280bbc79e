// harness.cpp — simulator processes (spawned with the test support's
// launcher, port read from a file, killed by pid) and the store harness.
#include "harness.hpp"

#include "journal.hpp"
#include "process.hpp"
#include "test_env.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

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

store_harness::store_harness(const std::string &toml_body) {
  log_ = logger(&store_harness::sink, this, log_level::debug);
  const auto state = dir_.path() / "state";
  std::filesystem::create_directories(state);
  std::filesystem::permissions(state, std::filesystem::perms::owner_all);
  const auto text = fmt::format("[engine]\nstate_dir = \"{}\"\nmode = \"enforce\"\n\n[ldap]\nbase = \"dc=example,dc=com\"\n\n"
                                "[scheduler]\nmax_attempts = 4\nretry_initial = \"PT1S\"\nretry_max = \"PT10S\"\n\n{}",
                                state.string(), toml_body);
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
