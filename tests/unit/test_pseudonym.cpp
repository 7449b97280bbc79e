// test_pseudonym.cpp — the audit key store: a person's pseudonym is random
// (not a function of the key and the subject id), stable while the person
// is known, and after forget nothing maps the id to it or opens their
// sealed fields; keys of older hs256 pseudonyms still open old records and
// are deleted by forget too.
#include "audit/pseudonym.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <openssl/rand.h>

#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <unistd.h>

using reclaim::audit::pseudonymizer;
using reclaim::unit::temp_dir;
namespace fs = std::filesystem;

namespace {

std::string file_bytes(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void write_key(const fs::path &p) {
  unsigned char key[32];
  BOOST_REQUIRE(RAND_bytes(key, 32) == 1);
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(::write(fd, key, 32) == 32);
  ::close(fd);
}

} // namespace

BOOST_AUTO_TEST_SUITE(pseudonym)

BOOST_AUTO_TEST_CASE(random_stable_and_not_the_keyed_hash) {
  temp_dir d;
  write_key(d / "pseudonym.key");
  pseudonymizer p(d / "pseudonym.key", d / "keys.sqlite3");
  const auto a = p.pseudonym("uuid-a");
  BOOST_TEST(a.rfind("rnd:", 0) == 0u, a);
  BOOST_TEST(a.size() == 4u + 32u, a);
  BOOST_TEST(p.pseudonym("uuid-a") == a);
  BOOST_TEST(p.pseudonym("uuid-b") != a);
  const auto legacy = p.legacy_pseudonym("uuid-a");
  BOOST_TEST(a.find(legacy.substr(legacy.rfind(':') + 1)) == std::string::npos);
  // Another store with the same key gives the same id another pseudonym.
  pseudonymizer q(d / "pseudonym.key", d / "other.sqlite3");
  BOOST_TEST(q.pseudonym("uuid-a") != a);
}

BOOST_AUTO_TEST_CASE(forget_unlinks_and_erases) {
  temp_dir d;
  write_key(d / "pseudonym.key");
  pseudonymizer p(d / "pseudonym.key", d / "keys.sqlite3");
  const auto a = p.pseudonym("uuid-a");
  const auto sealed = p.seal(a, R"({"name":"uid=a,dc=x"})");
  BOOST_REQUIRE(sealed.has_value());
  BOOST_TEST(p.open(a, *sealed).value_or("") == R"({"name":"uid=a,dc=x"})");
  const auto f = p.forget("uuid-a");
  BOOST_TEST(f.pseudonym.value_or("") == a);
  BOOST_TEST(!p.find("uuid-a").has_value());
  BOOST_TEST(!p.open(a, *sealed).has_value());
  BOOST_TEST(!p.seal(a, "{}").has_value()); // nothing is sealed under a forgotten pseudonym
  // Neither the pseudonym nor anything of the row is left in the files.
  const auto hex = a.substr(4);
  for (const auto &name : {"keys.sqlite3", "keys.sqlite3-wal"})
    BOOST_TEST(file_bytes(d / name).find(hex) == std::string::npos, name);
  BOOST_TEST(fs::file_size(d / "keys.sqlite3-wal") == 0u);
  BOOST_TEST(p.pseudonym("uuid-a") != a); // coming back is a new person
}

BOOST_AUTO_TEST_CASE(legacy_keys_open_old_records_until_forgotten) {
  temp_dir d;
  write_key(d / "pseudonym.key");
  std::string legacy;
  {
    pseudonymizer p(d / "pseudonym.key", d / "keys.sqlite3");
    legacy = p.legacy_pseudonym("uuid-old");
  }
  {
    // A key store of an older version: the key under the hs256 pseudonym.
    reclaim::sqlite::database db(d / "keys.sqlite3", reclaim::sqlite::durability::full);
    db.prepare("INSERT INTO subject_keys VALUES (?, ?)")
        .bind(1, legacy)
        .bind(2, std::string(64, '7'))
        .run();
  }
  pseudonymizer p(d / "pseudonym.key", d / "keys.sqlite3");
  BOOST_TEST(p.holds_key(legacy));
  const auto f = p.forget("uuid-old");
  BOOST_TEST(f.legacy_key);
  BOOST_TEST(!f.pseudonym.has_value());
  BOOST_TEST(!p.holds_key(legacy));
}

BOOST_AUTO_TEST_SUITE_END()
