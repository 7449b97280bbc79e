// test_private_files.cpp — reclaim's own files and secrets: stores, their
// -wal/-shm and directories created owner-only (or repaired at the next open),
// and secrets refused when they are symbolic links, FIFOs (quickly, also when
// the engine starts), group-readable, someone else's or encrypted PEM keys.
#include "audit/note.hpp"
#include "audit/pseudonym.hpp"
#include "base/private_files.hpp"
#include "engine/engine.hpp"
#include "http/credentials.hpp"
#include "http/jwt.hpp"
#include "store/journal.hpp"
#include "store/sqlite.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

namespace fs = std::filesystem;
using reclaim::unit::temp_dir;

namespace {

unsigned mode_of(const fs::path &p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 07777 + 1; // "missing": never a mode
  return st.st_mode & 07777;
}

// Every test runs with the usual umask, the one that made 0644 files.
// This process's user as the one person, with the iam role.
std::string iam_operator() {
  const passwd *pw = ::getpwuid(::getuid());
  return fmt::format("\n[access.person.operator]\nunix_users = [\"{}\"]\n[access.roles]\niam = [\"operator\"]\n",
                     pw != nullptr ? pw->pw_name : "root");
}

struct usual_umask {
  mode_t old = ::umask(022);
  ~usual_umask() { ::umask(old); }
};

std::string ed25519_pem(const char *passphrase = nullptr) {
  EVP_PKEY *k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  BIO *b = BIO_new(BIO_s_mem());
  if (passphrase != nullptr)
    PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_256_cbc(), passphrase, static_cast<int>(std::strlen(passphrase)),
                                  nullptr, nullptr);
  else
    PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char *data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  EVP_PKEY_free(k);
  return out;
}

template <typename F> std::string error_of(F &&f) {
  try {
    f();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "(no error)";
}

// Runs f on a thread; if it is still blocked after a while, a writer opens
// and closes the FIFO so a reader stuck in open() or read() is let go.
template <typename F> bool finishes_quickly(const fs::path &fifo, F &&f) {
  auto done = std::async(std::launch::async, std::forward<F>(f));
  if (done.wait_for(std::chrono::seconds(3)) == std::future_status::ready) return true;
  const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  if (w >= 0) ::close(w);
  done.wait();
  return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(private_files)

BOOST_AUTO_TEST_CASE(a_store_opened_on_a_fresh_state_dir_is_private_with_its_wal_and_shm) {
  usual_umask u;
  temp_dir d;
  const auto state = d / "fresh" / "state";
  // reclaimctl and the scheduler open the store without the journal.
  reclaim::sqlite::database db(state / "journal.sqlite3", reclaim::sqlite::durability::normal);
  db.exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  BOOST_TEST(mode_of(d / "fresh") == 0700u);
  BOOST_TEST(mode_of(state) == 0700u);
  for (const char *name : {"journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"})
    BOOST_TEST(mode_of(state / name) == 0600u, name);
}

BOOST_AUTO_TEST_CASE(the_subject_key_store_and_its_wal_and_shm_are_created_0600) {
  usual_umask u;
  temp_dir d;
  reclaim::audit::pseudonymizer p(d / "state" / "audit" / "pseudonym.key", d / "state" / "audit" / "subject-keys.sqlite3");
  (void)p.seal(p.pseudonym("alice"), "{\"mail\":\"alice@example.com\"}");
  BOOST_TEST(mode_of(d / "state" / "audit") == 0700u);
  BOOST_TEST(mode_of(d / "state" / "audit" / "pseudonym.key") == 0600u);
  for (const char *name : {"subject-keys.sqlite3", "subject-keys.sqlite3-wal", "subject-keys.sqlite3-shm"})
    BOOST_TEST(mode_of(d / "state" / "audit" / name) == 0600u, name);
}

BOOST_AUTO_TEST_CASE(existing_0644_stores_and_a_0755_state_dir_are_repaired_at_the_next_open) {
  usual_umask u;
  temp_dir d;
  const auto state = d / "state";
  fs::create_directories(state);
  fs::permissions(state, fs::perms(0755));
  const auto store = state / "journal.sqlite3";
  { reclaim::journal j(store, reclaim::sqlite::durability::normal); }
  // What an older reclaim left: everything readable by all, a WAL still there.
  for (const char *name : {"journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"}) {
    if (!fs::exists(state / name)) std::ofstream(state / name).close();
    fs::permissions(state / name, fs::perms(0644));
  }
  fs::permissions(state, fs::perms(0755));
  reclaim::journal j(store, reclaim::sqlite::durability::normal);
  BOOST_TEST(mode_of(state) == 0700u);
  for (const char *name : {"journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"})
    BOOST_TEST(mode_of(state / name) == 0600u, name);
}

// Repairing must not open the files: closing any descriptor of a file drops
// every POSIX lock this process holds on it, and SQLite keeps a shared lock
// on the -shm file's DMS byte (128) for as long as a connection is open.
BOOST_AUTO_TEST_CASE(repairing_a_store_in_use_keeps_this_process_s_sqlite_locks) {
  usual_umask u;
  temp_dir d;
  const auto store = d / "state" / "journal.sqlite3";
  reclaim::journal first(store, reclaim::sqlite::durability::normal);
  const auto shm = store.string() + "-shm";
  BOOST_TEST_REQUIRE(fs::exists(shm));
  fs::permissions(shm, fs::perms(0644));
  fs::permissions(store, fs::perms(0644));
  reclaim::sqlite::database second(store, reclaim::sqlite::durability::normal); // repairs both
  BOOST_TEST(mode_of(shm) == 0600u);
  BOOST_TEST(mode_of(store) == 0600u);
  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::open(shm.c_str(), O_RDWR);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 128;
    fl.l_len = 1;
    const bool held = fd >= 0 && ::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    ::_exit(held ? 0 : 1);
  }
  int status = 0;
  BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
  BOOST_TEST(WEXITSTATUS(status) == 0, "this process lost its lock on the -shm file's DMS byte");
}

BOOST_AUTO_TEST_CASE(reclaimctl_on_a_fresh_state_dir_leaves_only_private_files) {
  usual_umask u;
  const char *ctl = std::getenv("RECLAIM_TEST_RECLAIMCTL");
  BOOST_TEST_REQUIRE(ctl != nullptr, "RECLAIM_TEST_RECLAIMCTL is not set (tests/unit/CMakeLists.txt sets it)");
  temp_dir d;
  const auto cfg = reclaim::unit::load_toml(
      d, reclaim::unit::config_text(d) + "\n[audit]\norigin = \"unit.example/audit\"\n" + iam_operator());
  const auto cmd = fmt::format("'{}' --config '{}' hold add --subject alice --reason case-1 "
                               ">/dev/null 2>&1 </dev/null",
                               ctl, cfg.path.string());
  const int rc = std::system(cmd.c_str());
  BOOST_TEST_REQUIRE(rc != -1);
  BOOST_TEST(WEXITSTATUS(rc) == 0, cmd);
  const auto state = cfg.engine.state_dir;
  BOOST_TEST_REQUIRE(fs::exists(state / "journal.sqlite3"));
  BOOST_TEST(mode_of(state) == 0700u);
  for (const auto &e : fs::recursive_directory_iterator(state)) {
    const auto m = mode_of(e.path());
    if (e.is_directory())
      BOOST_TEST(m == 0700u, e.path().string() << fmt::format(" has mode {:04o}", m));
    else if (e.path().extension() != ".jsonl" && e.path().filename() != "store-history" &&
             e.path().parent_path().filename() != "audit.jsonl.checkpoints")
      BOOST_TEST((m & 077u) == 0u, e.path().string() << fmt::format(" has mode {:04o}", m));
  }
}

// An administrator's `sudo reclaimctl …` must not leave root-owned stores
// and keys that the engine, running as the service user, cannot open.
BOOST_AUTO_TEST_CASE(files_root_creates_in_the_service_users_state_dir_belong_to_that_user) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: needs root");
    return;
  }
  usual_umask u;
  const char *ctl = std::getenv("RECLAIM_TEST_RECLAIMCTL");
  BOOST_TEST_REQUIRE(ctl != nullptr);
  temp_dir d;
  const auto cfg = reclaim::unit::load_toml(
      d, reclaim::unit::config_text(d) + "\n[audit]\norigin = \"unit.example/audit\"\n" + iam_operator());
  const auto state = cfg.engine.state_dir;
  fs::create_directories(state);
  BOOST_TEST_REQUIRE(::chmod(state.c_str(), 0700) == 0);
  BOOST_TEST_REQUIRE(::chown(state.c_str(), 12345, 12346) == 0);
  const auto cmd = fmt::format("'{}' --config '{}' hold add --subject alice --reason case-1 "
                               ">/dev/null 2>&1 </dev/null", ctl, cfg.path.string());
  const int rc = std::system(cmd.c_str());
  BOOST_TEST_REQUIRE(rc != -1);
  BOOST_TEST(WEXITSTATUS(rc) == 0, cmd);
  BOOST_TEST_REQUIRE(fs::exists(state / "audit" / "signing.pem"));
  for (const auto &e : fs::recursive_directory_iterator(state)) {
    struct stat st {};
    BOOST_TEST_REQUIRE(::lstat(e.path().c_str(), &st) == 0);
    if (e.path().parent_path().filename() == "audit.jsonl.checkpoints") continue; // public, replaced by rename
    BOOST_TEST((st.st_uid == 12345u && st.st_gid == 12346u),
               e.path().string() << " is owned by " << st.st_uid << ":" << st.st_gid);
  }
}

BOOST_AUTO_TEST_CASE(a_group_shared_setgid_state_dir_keeps_its_group_and_loses_other) {
  usual_umask u;
  temp_dir d;
  const auto state = d / "state";
  fs::create_directories(state);
  BOOST_TEST_REQUIRE(::chmod(state.c_str(), 02777) == 0);
  { reclaim::journal j(state / "journal.sqlite3", reclaim::sqlite::durability::normal); }
  BOOST_TEST(mode_of(state) == 02770u);
  BOOST_TEST(mode_of(state / "journal.sqlite3") == 0660u);
}

BOOST_AUTO_TEST_CASE(a_shared_sticky_directory_is_refused_as_state_dir) {
  temp_dir d;
  const auto shared = d / "tmp";
  fs::create_directories(shared);
  BOOST_TEST_REQUIRE(::chmod(shared.c_str(), 01777) == 0);
  const auto why = error_of([&] { reclaim::journal j(shared / "journal.sqlite3", reclaim::sqlite::durability::normal); });
  BOOST_TEST(why.find("shared directory") != std::string::npos, why);
  BOOST_TEST(mode_of(shared) == 01777u);
}

BOOST_AUTO_TEST_CASE(a_store_that_is_a_symbolic_link_is_refused) {
  temp_dir d;
  fs::create_directories(d / "state");
  std::ofstream(d / "elsewhere.sqlite3").close();
  fs::create_symlink(d / "elsewhere.sqlite3", d / "state" / "journal.sqlite3");
  const auto why = error_of([&] { reclaim::journal j(d / "state" / "journal.sqlite3", reclaim::sqlite::durability::normal); });
  BOOST_TEST(why.find("symbolic link") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(symlinked_secrets_are_refused) {
  temp_dir d;
  reclaim::unit::write_file(d / "real", "s3cret\n", 0600u);
  reclaim::unit::write_file(d / "real.pem", ed25519_pem(), 0600u);
  reclaim::unit::write_file(d / "real.key", std::string(40, 'k'), 0600u);
  fs::create_symlink(d / "real", d / "link");
  fs::create_symlink(d / "real.pem", d / "link.pem");
  fs::create_symlink(d / "real.key", d / "link.key");
  auto why = error_of([&] { (void)reclaim::http::read_secret_file((d / "link").string()); });
  BOOST_TEST(why.find("symbolic link") != std::string::npos, why);
  why = error_of([&] { (void)reclaim::audit::signer::from_pem_file(d / "link.pem", "unit.example/audit"); });
  BOOST_TEST(why.find("symbolic link") != std::string::npos, why);
  why = error_of([&] { reclaim::audit::pseudonymizer p(d / "link.key", d / "keys.sqlite3"); });
  BOOST_TEST(why.find("symbolic link") != std::string::npos, why);
  why = error_of([&] { (void)reclaim::http::read_private_key_file((d / "link.pem").string()); });
  BOOST_TEST(why.find("symbolic link") != std::string::npos, why);
  // The real files are fine.
  BOOST_TEST(reclaim::http::read_secret_file((d / "real").string()) == "s3cret");
  BOOST_TEST(reclaim::audit::signer::from_pem_file(d / "real.pem", "unit.example/audit").public_key().size() == 32u);
}

BOOST_AUTO_TEST_CASE(a_fifo_secret_is_refused_at_once) {
  temp_dir d;
  const auto fifo = d / "fifo";
  BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string why;
  BOOST_TEST(finishes_quickly(fifo, [&] { why = error_of([&] { (void)reclaim::files::read_secret(fifo); }); }));
  BOOST_TEST(why.find("not a regular file") != std::string::npos, why);
  BOOST_TEST(finishes_quickly(fifo, [&] {
    why = error_of([&] { (void)reclaim::audit::signer::from_pem_file(fifo, "unit.example/audit"); });
  }), "reading the signing key waited on the FIFO");
  BOOST_TEST(why.find("not a regular file") != std::string::npos, why);
  BOOST_TEST(finishes_quickly(fifo, [&] {
    why = error_of([&] { reclaim::audit::pseudonymizer p(fifo, d / "keys.sqlite3"); });
  }));
  BOOST_TEST(why.find("not a regular file") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(the_engine_does_not_hang_at_start_on_a_fifo_signing_key) {
  temp_dir d;
  const auto fifo = d / "signing.pem";
  BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  reclaim::unit::write_file(d / "pseudo.key", std::string(40, 'k'), 0600u);
  const auto cfg = reclaim::unit::load_toml(
      d, reclaim::unit::config_text(d) +
             fmt::format("\n[audit]\norigin = \"unit.example/audit\"\nkey_file = \"{}\"\npseudonym_key_file = \"{}\"\n",
                         fifo.string(), (d / "pseudo.key").string()));
  reclaim::unit::log_capture logs;
  reclaim::open_options o;
  o.config_path = cfg.path;
  o.sink = &reclaim::unit::log_capture::sink;
  o.sink_payload = &logs;
  std::string why;
  BOOST_TEST(finishes_quickly(fifo, [&] { why = error_of([&] { reclaim::engine e(o); }); }),
             "the engine's start waited on a FIFO signing key");
  BOOST_TEST((why.find("not a regular file") != std::string::npos || logs.contains("not a regular file")), why);
}

BOOST_AUTO_TEST_CASE(group_readable_secrets_are_refused) {
  temp_dir d;
  reclaim::unit::write_file(d / "secret", "s3cret", 0640u);
  reclaim::unit::write_file(d / "signing.pem", ed25519_pem(), 0640u);
  auto why = error_of([&] { (void)reclaim::files::read_secret(d / "secret"); });
  BOOST_TEST(why.find("group or other (mode 0640)") != std::string::npos, why);
  BOOST_TEST(why.find("chmod 600") != std::string::npos, why);
  why = error_of([&] { (void)reclaim::http::read_secret_file((d / "secret").string()); });
  BOOST_TEST(why.find("group or other") != std::string::npos, why);
  why = error_of([&] { (void)reclaim::audit::signer::from_pem_file(d / "signing.pem", "unit.example/audit"); });
  BOOST_TEST(why.find("group or other") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(secrets_owned_by_someone_else_are_refused) {
  if (::geteuid() != 0) {
    BOOST_TEST_MESSAGE("skipped: chown to another user needs root");
    return;
  }
  temp_dir d;
  reclaim::unit::write_file(d / "secret", "s3cret", 0600u);
  reclaim::unit::write_file(d / "pseudo.key", std::string(40, 'k'), 0600u);
  reclaim::unit::write_file(d / "key.pem", ed25519_pem(), 0600u);
  for (const char *name : {"secret", "pseudo.key", "key.pem"})
    BOOST_TEST_REQUIRE(::chown((d / name).c_str(), 12345, 12345) == 0);
  auto why = error_of([&] { (void)reclaim::http::read_secret_file((d / "secret").string()); });
  BOOST_TEST(why.find("owned by uid 12345") != std::string::npos, why);
  why = error_of([&] { reclaim::audit::pseudonymizer p(d / "pseudo.key", d / "keys.sqlite3"); });
  BOOST_TEST(why.find("owned by uid 12345") != std::string::npos, why);
  why = error_of([&] { (void)reclaim::http::read_private_key_file((d / "key.pem").string()); });
  BOOST_TEST(why.find("owned by uid 12345") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(an_encrypted_pem_key_is_refused_with_a_clear_message) {
  temp_dir d;
  reclaim::unit::write_file(d / "signing.pem", ed25519_pem("correct horse"), 0600u);
  auto why = error_of([&] { (void)reclaim::audit::signer::from_pem_file(d / "signing.pem", "unit.example/audit"); });
  BOOST_TEST(why.find("encrypted") != std::string::npos, why);
  BOOST_TEST(why.find(d.path().string()) != std::string::npos, why);
  why = error_of([&] { (void)reclaim::http::read_private_key_file((d / "signing.pem").string()); });
  BOOST_TEST(why.find("encrypted") != std::string::npos, why);
  why = error_of([&] { (void)reclaim::http::sign_rs256({}, {}, ed25519_pem("pw")); });
  BOOST_TEST(why.find("encrypted") != std::string::npos, why);
}

BOOST_AUTO_TEST_CASE(a_generated_signing_key_is_0600_and_never_replaces_a_file) {
  usual_umask u;
  temp_dir d;
  const auto key = d / "new" / "audit" / "signing.pem";
  BOOST_TEST(reclaim::audit::signer::generate_if_missing(key));
  BOOST_TEST(mode_of(key) == 0600u);
  BOOST_TEST(mode_of(d / "new" / "audit") == 0700u);
  BOOST_TEST(!reclaim::audit::signer::generate_if_missing(key));
  BOOST_TEST(reclaim::audit::signer::from_pem_file(key, "unit.example/audit").public_key().size() == 32u);
}

BOOST_AUTO_TEST_CASE(secret_bytes_read_whole_files_and_trim_only_line_ends) {
  temp_dir d;
  reclaim::unit::write_file(d / "s", std::string("ab\0cd\r\n", 7), 0400u);
  auto s = reclaim::files::read_secret(d / "s");
  BOOST_TEST(s.size() == 7u);
  BOOST_TEST((s.text() == std::string_view("ab\0cd", 5)));
  auto moved = std::move(s);
  BOOST_TEST(s.empty());
  BOOST_TEST(moved.size() == 7u);
  reclaim::unit::write_file(d / "big", std::string(100, 'x'), 0600u);
  const auto why = error_of([&] { (void)reclaim::files::read_secret(d / "big", 64); });
  BOOST_TEST(why.find("more than the 64") != std::string::npos, why);
}

BOOST_AUTO_TEST_SUITE_END()
