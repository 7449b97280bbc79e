// test_audit_witness.cpp — witness cosigning end to end: the real appender
// writes the log, the real witness_sender posts its checkpoints to
// tests/sim/witness.py (a C2SP tlog-witness written from the specification,
// with its own RFC 9162 proof checker), and the real `reclaimctl audit verify
// --witness` catches rollback and fork made with the host's own signing key.
#define BOOST_TEST_MODULE reclaim_audit_witness
#include "audit_fixture.hpp"

#include "audit/canonical_json.hpp"
#include "audit/witness.hpp"
#include "engine/engine.hpp"
#include "http/http_client.hpp"
#include "test_env.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <arpa/inet.h>
#include <csignal>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace reclaim;
using namespace reclaim::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// tests/sim/witness.py on a free loopback port, stopped by pid.
class witness_process {
public:
  witness_process(const fs::path &dir, const std::string &log_vkey, const std::string &name = "witness.test/w1") {
    const auto port_file = dir / "witness.port";
    const auto vkey_file = dir / "witness.vkey";
    fs::remove(port_file);
    pid_ = spawn_process({"python3", (source_dir() / "tests" / "sim" / "witness.py").string(), "--name", name,
                          "--key-seed", (dir / "witness.seed").string(), "--db", (dir / "witness.json").string(),
                          "--log-key", log_vkey, "--vkey-file", vkey_file.string(), "--port-file",
                          port_file.string()},
                         (dir / "witness.log").string());
    for (int i = 0; i < 400 && !fs::exists(port_file); ++i) {
      if (!process_alive(pid_)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (!fs::exists(port_file))
      throw std::runtime_error("witness.py did not start: " + read_text_file(dir / "witness.log"));
    url = "http://127.0.0.1:" + read_text_file(port_file);
    vkey = read_text_file(vkey_file);
    vkey.pop_back();
    vkey_path = vkey_file;
  }
  ~witness_process() {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    if (wait_process(pid_, std::chrono::seconds(5)) == -1) {
      ::kill(pid_, SIGKILL);
      wait_process(pid_, std::chrono::seconds(5));
    }
  }
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }
  http::response post(const std::string &path, const std::string &body) {
    static http::client c(http::client_options{});
    return c.perform({"POST", url + path, {{"Content-Type", "text/plain"}}, body});
  }
  json control(const std::string &method, const std::string &path, const json &body = json::object()) {
    static http::client c(http::client_options{});
    return json::parse(c.perform({method, url + path, {{"Content-Type", "application/json"}}, body.dump()}).body);
  }
  std::string url, vkey;
  fs::path vkey_path;

private:
  pid_t pid_ = -1;
};

// Collects the sender's log lines (it logs from its own thread).
struct log_capture {
  static void sink(int, const char *msg, void *p) {
    auto *self = static_cast<log_capture *>(p);
    std::lock_guard lock(self->mu);
    self->lines += std::string(msg) + "\n";
  }
  std::string text() {
    std::lock_guard lock(mu);
    return lines;
  }
  std::mutex mu;
  std::string lines;
  logger log{&log_capture::sink, this, log_level::debug};
};

struct witness_fixture : audit_fixture {
  witness_fixture() : w(dir.path(), vkey) { cfg.witnesses = {{w.url, w.vkey}}; }
  witness_process w;
  log_capture cap;

  fs::path newest() const { return checkpoints().back(); }
  uint64_t size_of(const fs::path &p) const { return std::stoull(p.filename().string()); }
  size_t cosign_now() {
    audit::witness_sender s(cfg, cap.log);
    return s.run_once(true);
  }
  // A signed note for the first n records as they are in the log now
  // (what an attacker holding the host's key can make).
  std::string resign(uint64_t n) const {
    audit::hasher h;
    audit::compact_range r;
    const auto l = lines();
    for (uint64_t i = 0; i < n; ++i) r.append(h, h.leaf(l[i]));
    return sign(audit::checkpoint_text({origin, n, r.root(h), {}}));
  }
  std::string cp_name(uint64_t n) const { return fmt::format("{:020}", n); }
  // A config of this log for reclaimctl and the engine, with these witnesses.
  fs::path config(const std::string &witnesses, const std::string &extra = "") const {
    const auto conf = dir / "reclaim.toml";
    write_text_file(conf, fmt::format("[engine]\nstate_dir = \"{}\"\n[ldap]\nbase = \"dc=example,dc=com\"\n"
                                      "[audit]\norigin = \"{}\"\npath = \"{}\"\nkey_file = \"{}\"\n"
                                      "pseudonym_key_file = \"{}\"\nwitnesses = [{}]\n{}",
                                      dir.path().string(), origin, log.string(), pem.string(),
                                      cfg.pseudonym_key_file.string(), witnesses, extra) +
                              operator_access());
    return conf;
  }
};

void expect(const process_result &r, int code, const std::string &text) {
  BOOST_TEST(r.exit_code == code, "exit " << r.exit_code << " != " << code << "\n" << r.output());
  BOOST_TEST(r.output().find(text) != std::string::npos, "missing '" << text << "' in:\n" << r.output());
}

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// A fresh Ed25519 cosigner key that no witness holds.
std::string stranger_vkey() {
  EVP_PKEY *k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  std::string pub(32, '\0');
  size_t len = 32;
  EVP_PKEY_get_raw_public_key(k, reinterpret_cast<unsigned char *>(pub.data()), &len);
  EVP_PKEY_free(k);
  audit::cosigner_key c{"witness.test/w1", audit::cosigner_key_id("witness.test/w1", pub), pub};
  return c.text();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(audit_witness, witness_fixture)

BOOST_AUTO_TEST_CASE(checkpoints_are_cosigned_and_verified) {
  expect(verify({"--witness", w.vkey}), 5, "has no cosignature by witness");
  BOOST_TEST(cosign_now() == 1u, cap.text());
  const auto note = read_text_file(newest());
  BOOST_TEST(count(note, "\xE2\x80\x94 witness.test/w1 ") == 1u, note);
  expect(verify({"--witness", w.vkey}), 0, fmt::format("checkpoint {} cosigned by witness.test/w1", size_of(newest())));
  expect(verify({"--witness", w.vkey_path.string(), "--witness-quorum", "1"}), 0, "cosigned by witness.test/w1");
  // The log grows; a new sender does not know the witness's size: 409, then a proof from it.
  session(7, 300);
  BOOST_TEST(cosign_now() == 1u, cap.text());
  const auto stats = w.control("GET", "/_control/state");
  BOOST_TEST(stats["stats"]["refused"].value("409", 0) == 1, stats.dump());
  BOOST_TEST(stats["latest"][origin]["size"].get<uint64_t>() == size_of(newest()));
  expect(verify({"--witness", w.vkey}), 0, "cosigned by");
  // Already cosigned: nothing is sent again, nothing piles up.
  BOOST_TEST(cosign_now() == 1u);
  BOOST_TEST(w.control("GET", "/_control/state")["stats"]["cosigned"].get<int>() == 2);
  BOOST_TEST(count(read_text_file(newest()), "witness.test/w1") == 1u);
  // Through reclaimctl with a config: `reclaimctl audit witness`.
  session(2, 350);
  const auto conf = config(fmt::format("{{ url = \"{}\", key = \"{}\" }}", w.url, w.vkey));
  expect(ctl({"--config", conf.string(), "audit", "witness"}), 0,
         fmt::format("witness.test/w1 {}: cosigned tree size {}", w.url, size_of(newest())));
  expect(verify({"--witness", w.vkey}), 0, fmt::format("checkpoint {} cosigned by", size_of(newest())));
}

BOOST_AUTO_TEST_CASE(rollback_with_the_host_key_is_caught) {
  BOOST_TEST(cosign_now() == 1u);
  const auto old_cp = newest();
  const auto old_size = size_of(old_cp);
  session(9, 400);
  BOOST_TEST(cosign_now() == 1u, cap.text());
  const auto witnessed = size_of(newest());
  // The attacker cuts the log back 5 records past the old checkpoint and signs that size with the host's key.
  auto l = lines();
  l.resize(old_size + 5);
  write_lines(l);
  for (const auto &p : checkpoints())
    if (size_of(p) > old_size) fs::remove(p);
  write_text_file(cps / cp_name(old_size + 5), resign(old_size + 5));
  expect(verify(), 0, "0 error(s)"); // the host alone cannot tell
  expect(verify({"--witness", w.vkey}), 5,
         fmt::format("checkpoint {} (the newest) has no cosignature by witness", old_size + 5));
  // Sending the rolled-back checkpoint: the witness holds a larger tree.
  BOOST_TEST(cosign_now() == 0u);
  BOOST_TEST(cap.text().find(fmt::format("the witness has cosigned tree size {} but our newest checkpoint is {}",
                                         witnessed, old_size + 5)) != std::string::npos, cap.text());
  BOOST_TEST(cap.text().find("ALERT") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rollback_to_an_old_cosigned_checkpoint_is_caught_by_age) {
  BOOST_TEST(cosign_now() == 1u);
  const auto old_size = size_of(newest());
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  session(4, 500);
  BOOST_TEST(cosign_now() == 1u);
  expect(verify({"--witness", w.vkey, "--witness-max-age", "PT2S"}), 0, "cosigned by");
  auto l = lines();
  l.resize(old_size);
  write_lines(l);
  for (const auto &p : checkpoints())
    if (size_of(p) > old_size) fs::remove(p);
  expect(verify({"--witness", w.vkey}), 0, "cosigned by"); // its cosignature is genuine...
  expect(verify({"--witness", w.vkey, "--witness-max-age", "PT2S"}), 5, "s old, more than 2 s"); // ...but stale
}

BOOST_AUTO_TEST_CASE(fork_with_the_host_key_is_caught) {
  BOOST_TEST(cosign_now() == 1u);
  const auto witnessed = newest();
  const auto size = size_of(witnessed);
  // Rewrite a record before the witnessed size, rechain, re-sign that size
  // with the host's key and keep the witness's old cosignature line.
  const auto cosig = read_text_file(witnessed);
  auto l = lines();
  l[size - 4].replace(l[size - 4].find("\"actor\":\"engine\""), 16, "\"actor\":\"mallory\"");
  rechain(l, size - 3);
  write_lines(l);
  for (const auto &p : checkpoints())
    if (size_of(p) > size - 4) fs::remove(p);
  const auto line = cosig.substr(cosig.find("\xE2\x80\x94 witness.test/w1 "));
  write_text_file(witnessed, resign(size) + line);
  expect(verify(), 0, "0 error(s)");
  expect(verify({"--witness", w.vkey}), 5, "cosignature by witness witness.test/w1 does not verify");
  // The forked checkpoint sent to the witness: same size, other root.
  BOOST_TEST(cosign_now() == 0u);
  BOOST_TEST(cap.text().find(fmt::format("the witness holds a different root for tree size {}: the log was forked",
                                         size)) != std::string::npos, cap.text());
  // A fork that grows past the witnessed size fails the witness's proof check.
  session(3, 600);
  BOOST_TEST(cosign_now() == 0u);
  BOOST_TEST(cap.text().find("refused our consistency proof (422)") != std::string::npos, cap.text());
  expect(verify({"--witness", w.vkey}), 5, "has no cosignature by witness");
}

BOOST_AUTO_TEST_CASE(a_witness_that_is_down_delays_nothing_but_is_reported) {
  cfg.checkpoint_every = 5;
  cfg.witness_timeout = std::chrono::milliseconds(1000);
  auto burst = [&](int first) {
    const auto t0 = std::chrono::steady_clock::now();
    audit::appender a(cfg, state_db, quiet);
    for (int i = 0; i < 400; ++i)
      a.append({{"type", "event_journalled"}, {"actor", "engine"}, {"ids", {{"event", first + i}}}});
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const double baseline = burst(1000);
  // A closed port (refused at once), and the witness stopped (connects, never answers).
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a);
  ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len);
  ::close(s);
  const auto stranger = stranger_vkey();
  cfg.witnesses = {{fmt::format("http://127.0.0.1:{}", ntohs(a.sin_port)), stranger}, {w.url, w.vkey}};
  w.pause();
  audit::witness_sender sender(cfg, cap.log);
  sender.start(std::chrono::milliseconds(50));
  const double with_down = burst(2000);
  BOOST_TEST_MESSAGE(fmt::format("400 appends: {:.3f} s without witnesses, {:.3f} s with both down", baseline,
                                 with_down));
  // 80 checkpoints: waiting for the 1 s timeout on each would take 80 s.
  BOOST_TEST(with_down < baseline * 3 + 2.0, "the appender waited for a witness");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto st = sender.status();
  BOOST_TEST(st.at(0).error.find("not reachable") != std::string::npos, st.at(0).error);
  BOOST_TEST(st.at(1).error.find("not reachable") != std::string::npos, st.at(1).error);
  BOOST_TEST(st.at(0).failures >= 1u);
  BOOST_TEST(cap.text().find("witness witness.test/w1 (http://127.0.0.1") != std::string::npos, cap.text());
  const auto status = json::parse(read_text_file(sender.status_file()));
  BOOST_TEST(status.at(1).value("error", "").find("not reachable") != std::string::npos, status.dump());
  // Back up: the newest checkpoint is retried and cosigned without anyone asking.
  w.resume();
  const auto target = size_of(newest());
  for (int i = 0; i < 400 && sender.status().at(1).cosigned_size != target; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  sender.stop();
  BOOST_TEST(sender.status().at(1).cosigned_size == target, cap.text());
  BOOST_TEST(sender.status().at(1).error.empty());
  BOOST_TEST(cap.text().find("cosigns again") != std::string::npos, cap.text());
  expect(verify({"--witness", w.vkey}), 0, "cosigned by");
  expect(verify({"--witness", w.vkey, "--witness", stranger}), 5, "1 of the 2 required");
  expect(verify({"--witness", w.vkey, "--witness", stranger, "--witness-quorum", "1"}), 0, "cosigned by");
}

BOOST_AUTO_TEST_CASE(forged_cosignatures_are_refused) {
  // From the witness: stored nowhere.
  w.control("POST", "/_control/state", {{"forge", true}});
  const auto before = read_text_file(newest());
  BOOST_TEST(cosign_now() == 0u);
  BOOST_TEST(cap.text().find("without a cosignature that verifies with key") != std::string::npos, cap.text());
  BOOST_TEST(read_text_file(newest()) == before);
  // In the note: one bit flipped in a genuine cosignature.
  w.control("POST", "/_control/state", {{"forge", false}, {"latest", json::object()}});
  BOOST_TEST(cosign_now() == 1u, cap.text());
  auto note = read_text_file(newest());
  const auto at = note.find("\xE2\x80\x94 witness.test/w1 ") + 30;
  note[at] = note[at] == 'A' ? 'B' : 'A';
  write_text_file(newest(), note);
  expect(verify({"--witness", w.vkey}), 5, "does not verify (forged, or copied from another checkpoint)");
}

BOOST_AUTO_TEST_CASE(wrong_keys_and_copied_cosignatures_are_refused) {
  BOOST_TEST(cosign_now() == 1u);
  const auto first = newest();
  expect(verify({"--witness", stranger_vkey()}), 5, "has no cosignature by witness witness.test/w1+");
  expect(verify({"--witness", vkey}), 2, "this is a log's signing key (type 0x01)");
  expect(verify({"--witness", "nonsense"}), 2, "--witness nonsense");
  expect(verify({"--witness-quorum", "1"}), 2, "need --witness");
  // A cosignature of an older checkpoint pasted under the newest one.
  session(4, 700);
  const auto text = read_text_file(first);
  const auto line = text.substr(text.find("\xE2\x80\x94 witness.test/w1 "));
  std::ofstream(newest(), std::ios::app) << line;
  expect(verify({"--witness", w.vkey}), 5, "does not verify (forged, or copied from another checkpoint)");
}

// The witness keeps its size per origin in a file: a restarted witness
// still refuses what it refused before and tells its size (409).
BOOST_AUTO_TEST_CASE(the_witness_state_survives_a_restart) {
  BOOST_TEST(cosign_now() == 1u);
  const auto size = size_of(newest());
  session(3, 800);
  auto second = std::make_unique<witness_process>(dir.path(), vkey);
  BOOST_TEST(second->vkey == w.vkey); // same key seed
  const auto state = second->control("GET", "/_control/state");
  BOOST_TEST(state["latest"][origin]["size"].get<uint64_t>() == size, state.dump());
  cfg.witnesses = {{second->url, second->vkey}};
  audit::witness_sender s(cfg, cap.log);
  BOOST_TEST(s.run_once(true) == 1u, cap.text());
  BOOST_TEST(second->control("GET", "/_control/state")["stats"]["refused"].value("409", 0) == 1);
  // It lost its state: the sender notices the smaller size and starts over from it.
  second->control("POST", "/_control/state", {{"latest", json::object()}});
  session(2, 900);
  BOOST_TEST(s.run_once(true) == 1u, cap.text()); // old N, 409 "0", then old 0
  BOOST_TEST(cap.text().find("below the") != std::string::npos, cap.text());
}

BOOST_AUTO_TEST_CASE(a_witness_ahead_of_the_log_is_an_alert) {
  // The witness has seen a larger tree for our origin than the log holds.
  w.control("POST", "/_control/state",
            {{"latest", {{origin, {{"size", 100000}, {"root", std::string(43, 'A') + "="}}}}}});
  BOOST_TEST(cosign_now() == 0u);
  BOOST_TEST(cap.text().find("ALERT: witness witness.test/w1") != std::string::npos, cap.text());
  BOOST_TEST(cap.text().find("has cosigned tree size 100000 but our newest checkpoint is") != std::string::npos);
  const auto r = ctl({"audit", "verify", "--log", log.string(), "--origin", origin, "--key", vkey, "--witness", w.vkey});
  BOOST_TEST(r.exit_code == 5, r.output());
}

// The C++ proofs against the witness's own RFC 9162 checker, for every pair
// of sizes up to 24; proofs one hash short or long, or for another size, get 422.
BOOST_AUTO_TEST_CASE(consistency_proofs_checked_by_the_python_witness) {
  audit::hasher h;
  std::vector<audit::hash> leaves;
  for (const auto &l : lines()) leaves.push_back(h.leaf(l));
  auto root = [&](uint64_t n) { return audit::tree_root(h, leaves, 0, n); };
  auto b64 = [](const audit::hash &x) {
    return audit::base64(std::string_view(reinterpret_cast<const char *>(x.data()), 32));
  };
  auto post = [&](uint64_t m, uint64_t n, const std::vector<audit::hash> &proof) {
    w.control("POST", "/_control/state", {{"latest", {{origin, {{"size", m}, {"root", b64(root(m))}}}}}});
    return w.post("/add-checkpoint",
                  audit::add_checkpoint_body(m, proof, sign(audit::checkpoint_text({origin, n, root(n), {}}))));
  };
  int checked = 0;
  for (uint64_t m = 1; m <= 24; ++m)
    for (uint64_t n = m + 1; n <= 24; ++n) {
      auto proof = audit::consistency_proof(h, leaves, m, n);
      const auto ok = post(m, n, proof);
      BOOST_TEST(ok.status == 200, m << "->" << n << ": " << ok.body);
      BOOST_TEST(ok.body.rfind("\xE2\x80\x94 witness.test/w1 ", 0) == 0u);
      auto longer = proof;
      longer.push_back(leaves[0]);
      BOOST_TEST(post(m, n, longer).status == 422, m << "->" << n << " with a hash too many");
      if (!proof.empty()) {
        auto shorter = proof;
        shorter.pop_back();
        BOOST_TEST(post(m, n, shorter).status == 422, m << "->" << n << " with a hash too few");
      }
      if (n < 24) BOOST_TEST(post(m, n, audit::consistency_proof(h, leaves, m, n + 1)).status == 422);
      ++checked;
    }
  BOOST_TEST(checked == 276);
  // The witness state did not move on a refused proof; stale old sizes get 409 with the size.
  w.control("POST", "/_control/state", {{"latest", {{origin, {{"size", 5}, {"root", b64(root(5))}}}}}});
  const auto stale = w.post("/add-checkpoint", audit::add_checkpoint_body(3, audit::consistency_proof(h, leaves, 3, 9),
                                                                      sign(audit::checkpoint_text({origin, 9, root(9), {}}))));
  BOOST_TEST(stale.status == 409);
  BOOST_TEST(stale.body == "5\n");
  BOOST_TEST(stale.header("content-type") == "text/x.tlog.size");
  const auto unsigned_note = w.post("/add-checkpoint", audit::add_checkpoint_body(5, audit::consistency_proof(h, leaves, 5, 9),
      audit::checkpoint_text({origin, 9, root(9), {}}) + "\n\xE2\x80\x94 " + origin + " AAAAAAAA\n"));
  BOOST_TEST(unsigned_note.status == 403);
  const auto other = w.post("/add-checkpoint", audit::add_checkpoint_body(0, {},
      sign(audit::checkpoint_text({"other.example/log", 9, root(9), {}}))));
  BOOST_TEST(other.status == 404);
}

// The engine runs the sender on its own thread: heartbeat checkpoints get cosigned.
BOOST_AUTO_TEST_CASE(the_engine_gets_its_checkpoints_cosigned) {
  reclaim::open_options o;
  o.config_path = config(fmt::format("{{ url = \"{}\", key = \"{}\" }}", w.url, w.vkey),
                         "checkpoint_interval = \"PT1S\"\n");
  o.sink = &log_capture::sink;
  o.sink_payload = &cap;
  uint64_t cosigned = 0;
  {
    reclaim::engine e(o);
    for (int i = 0; i < 100 && cosigned < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const auto st = w.control("GET", "/_control/state");
      cosigned = st["stats"].value("cosigned", 0);
    }
  }
  BOOST_TEST(cosigned >= 3u, cap.text());
  // The last checkpoint (signed on close) is sent on the next start, or by reclaimctl.
  expect(ctl({"--config", o.config_path.string(), "audit", "witness"}), 0, "cosigned tree size");
  expect(verify({"--witness", w.vkey}), 0, "cosigned by witness.test/w1");
}

// Two engines on one state_dir (issue 16): only the one holding the audit
// log's lock runs a witness sender. A second sender would post the same
// checkpoints from a stale size and be refused (409) by the witness.
BOOST_AUTO_TEST_CASE(only_the_audit_lock_holder_sends_to_witnesses) {
  reclaim::open_options o;
  o.config_path = config(fmt::format("{{ url = \"{}\", key = \"{}\" }}", w.url, w.vkey),
                         "checkpoint_interval = \"PT1S\"\n");
  o.sink = &log_capture::sink;
  o.sink_payload = &cap;
  json st;
  {
    reclaim::engine first(o), second(o);
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      st = w.control("GET", "/_control/state");
      if (st["stats"].value("cosigned", 0) >= 3) break;
    }
  }
  BOOST_TEST(st["stats"].value("cosigned", 0) >= 3, st.dump() << "\n" << cap.text());
  BOOST_TEST(st["stats"].value("refused", json::object()).empty(), "a second sender ran: " << st.dump());
}

BOOST_AUTO_TEST_CASE(bad_witness_config_is_refused_with_its_place) {
  expect(ctl({"--config", config(fmt::format("{{ url = \"{}\", key = \"{}\" }}", w.url, vkey)).string(), "audit",
              "witness"}), 1, "audit.witnesses.key: witness key: this is a log's signing key (type 0x01)");
  expect(ctl({"--config", config(fmt::format("{{ url = \"http://witness.example.com\", key = \"{}\" }}", w.vkey))
                              .string(), "audit", "witness"}), 1, "audit.witnesses.url");
  expect(ctl({"--config", config(fmt::format("{{ url = \"{}\" }}", w.url)).string(), "audit", "witness"}), 1,
         "audit.witnesses.key: is required");
  expect(ctl({"--config", config("\"https://w.example\"").string(), "audit", "witness"}), 1,
         "audit.witnesses: must be an array of tables { url, key }");
  expect(ctl({"--config", config(fmt::format("{{ url = \"{}\", key = \"{}\", name = \"x\" }}", w.url, w.vkey))
                              .string(), "audit", "witness"}), 1, "audit.witnesses.name");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// A cosignature/v1 line by w over note_text at time t.
std::string cosignature_line(const audit::signer &w, const std::string &note_text, uint64_t t) {
  const auto id = audit::cosigner_key_id(w.name(), w.public_key());
  std::string raw;
  for (int i = 24; i >= 0; i -= 8) raw += static_cast<char>((id >> i) & 0xff);
  for (int i = 56; i >= 0; i -= 8) raw += static_cast<char>((t >> i) & 0xff);
  return "\xE2\x80\x94 " + w.name() + " " + audit::base64(raw + w.sign(audit::cosigned_message(note_text, t))) + "\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(witness_merge)

// A witness that answers many valid lines (one per timestamp) made
// merge_cosignatures write a note of more than max_note_signatures lines,
// which parse_note then refused: the checkpoint file was lost.
BOOST_AUTO_TEST_CASE(many_lines_of_one_witness_keep_one) {
  const auto log = audit::signer::from_seed(std::string(32, '\x01'), "merge.test/log");
  const auto w = audit::signer::from_seed(std::string(32, '\x02'), "merge.test/w");
  const std::string text = "merge.test/log\n5\n" + audit::base64(std::string(32, 'r')) + "\n";
  const std::string note = text + "\n" + log.signature_line(text) + cosignature_line(w, text, 1);
  std::vector<std::string> lines;
  for (uint64_t t = 10; t < 10 + 2 * audit::max_note_signatures; ++t) lines.push_back(cosignature_line(w, text, t));
  std::string merged;
  BOOST_REQUIRE_NO_THROW(merged = audit::merge_cosignatures(note, lines));
  audit::note n;
  BOOST_REQUIRE_NO_THROW(n = audit::parse_note(merged));
  BOOST_TEST(n.sigs.size() == 2u, merged);
  BOOST_TEST(merged.find(lines.back()) != std::string::npos);
  BOOST_TEST(n.text == text);
}

// Distinct cosigners past the limit: refused (store reports it), never a
// note that cannot be read back.
BOOST_AUTO_TEST_CASE(too_many_cosigners_are_refused) {
  const auto log = audit::signer::from_seed(std::string(32, '\x01'), "merge.test/log");
  const std::string text = "merge.test/log\n5\n" + audit::base64(std::string(32, 'r')) + "\n";
  const std::string note = text + "\n" + log.signature_line(text);
  std::vector<std::string> lines;
  for (size_t i = 0; i < audit::max_note_signatures; ++i)
    lines.push_back(cosignature_line(
        audit::signer::from_seed(std::string(31, '\x03') + static_cast<char>(i), fmt::format("merge.test/w{}", i)),
        text, 1));
  BOOST_CHECK_THROW(audit::merge_cosignatures(note, lines), audit::note_error);
  lines.pop_back();
  BOOST_TEST(audit::parse_note(audit::merge_cosignatures(note, lines)).sigs.size() == audit::max_note_signatures);
}

BOOST_AUTO_TEST_SUITE_END()
