// test_audit_crash.cpp — the audit log under a kill -9 while appending (no
// outbox-committed record lost, none written twice, the log verifies after
// the restart), a torn last line cut back and recorded, and a checkpoint
// signature checked with the stock openssl command line.
#include "audit_fixture.hpp"

#include "audit/audit_verify.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace reclaim;
using namespace reclaim::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(audit_crash_and_openssl, audit_fixture)

BOOST_AUTO_TEST_CASE(kill_9_while_appending_loses_nothing) {
  int fds[2];
  BOOST_REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    try {
      audit::appender a(cfg, state_db, quiet);
      sqlite::database db(state_db, sqlite::durability::normal); // survives a process crash
      for (int i = 0;; ++i) {
        audit::enqueue(db, {{"type", "action_attempted"}, {"actor", "engine"}, {"data", {{"n", i}}}});
        // i is committed to the outbox now: tell the parent.
        const auto msg = std::to_string(i) + "\n";
        if (::write(fds[1], msg.data(), msg.size()) < 0) ::_exit(3);
        if (i % 7 == 0) a.drain();
      }
    } catch (...) {
      ::_exit(2);
    }
  }
  ::close(fds[1]);
  std::string got;
  char buf[4096];
  int last = -1;
  while (last < 1500) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    BOOST_REQUIRE(n > 0);
    got.append(buf, static_cast<size_t>(n));
    const auto end = got.rfind('\n');
    if (end == std::string::npos) continue;
    const auto start = got.rfind('\n', end - 1);
    last = std::stoi(got.substr(start == std::string::npos ? 0 : start + 1, end));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(fds[0]);
  BOOST_TEST(WIFSIGNALED(status));
  // Restart: recovery, then the rest of the outbox.
  { audit::appender a(cfg, state_db, quiet); a.drain(); }
  std::set<int> seen;
  for (const auto &l : lines()) {
    const auto rec = json::parse(l);
    if (rec.value("type", "") != "action_attempted") continue;
    const int n = rec["data"]["n"];
    BOOST_TEST_REQUIRE(seen.insert(n).second, "record " << n << " written twice");
  }
  BOOST_TEST(seen.size() >= static_cast<size_t>(last) + 1, "lost records: " << seen.size() << " of " << last + 1);
  BOOST_TEST(*seen.rbegin() == static_cast<int>(seen.size()) - 1);
  const auto r = verify();
  BOOST_TEST(r.exit_code == 0, r.output());
}

BOOST_AUTO_TEST_CASE(torn_last_line_is_cut_back_and_recorded) {
  {
    std::ofstream out(log, std::ios::app | std::ios::binary);
    out << "{\"actor\":\"engine\",\"origin\":\"test.exa";
  }
  BOOST_TEST(verify().exit_code == 1);
  { audit::appender a(cfg, state_db, quiet); }
  const auto l = lines();
  bool repaired = false;
  for (const auto &x : l) repaired = repaired || x.find("\"type\":\"log_repaired\"") != std::string::npos;
  BOOST_TEST(repaired);
  const auto r = verify();
  BOOST_TEST(r.exit_code == 0, r.output());
}

BOOST_AUTO_TEST_CASE(lost_or_torn_checkpoint_notes_are_signed_again_on_open) {
  const auto cps_before = checkpoints();
  BOOST_REQUIRE(cps_before.size() >= 3u);
  fs::remove(cps_before[0]);
  write_text_file(cps_before[1], "");
  BOOST_TEST(verify().exit_code == 1); // the torn note is reported
  { audit::appender a(cfg, state_db, quiet); }
  BOOST_TEST(fs::exists(cps_before[0]));
  const auto r = verify();
  BOOST_TEST(r.exit_code == 0, r.output());
}

BOOST_AUTO_TEST_CASE(signing_key_with_loose_mode_is_refused) {
  fs::permissions(pem, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  BOOST_CHECK_EXCEPTION(audit::appender(cfg, state_db, quiet), audit::note_error, [](const audit::note_error &e) {
    return std::string(e.what()).find("readable or writable by group or other (mode 0640)") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(checkpoint_signature_verifies_with_openssl_cli) {
  const auto c = checkpoints().back();
  const auto note = audit::parse_note(read_text_file(c));
  const auto key = audit::parse_verifier_key(vkey);
  write_text_file(dir / "text", note.text);
  write_text_file(dir / "sig", note.sigs.at(0).sig);
  // SubjectPublicKeyInfo for Ed25519 (RFC 8410): fixed 12-byte prefix + key.
  const std::string spki = std::string("\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00", 12) + key.pub;
  write_text_file(dir / "pub.pem", "-----BEGIN PUBLIC KEY-----\n" + audit::base64(spki) + "\n-----END PUBLIC KEY-----\n");
  const std::vector<std::string> cmd = {"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", (dir / "pub.pem").string(),
                                        "-rawin", "-in", (dir / "text").string(), "-sigfile", (dir / "sig").string()};
  const auto ok = run_process(cmd);
  BOOST_TEST(ok.exit_code == 0, ok.output());
  BOOST_TEST(ok.output().find("Signature Verified Successfully") != std::string::npos);
  write_text_file(dir / "text", note.text + "x");
  BOOST_TEST(run_process(cmd).exit_code != 0);
}

BOOST_AUTO_TEST_SUITE_END()
