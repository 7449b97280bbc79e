// test_resource_store.cpp — the SQLite resource store: durability across
// reopen, userName uniqueness ignoring case, indexed lookups, file mode.
#include "resource_store.hpp"

#include <boost/test/unit_test.hpp>
#include <sys/stat.h>
#include <unistd.h>

using namespace reclaim::scimd;
using json = nlohmann::json;

namespace {
struct temp_state {
  std::filesystem::path dir;
  temp_state() {
    char tmpl[] = "/tmp/scimd-store-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~temp_state() { std::filesystem::remove_all(dir); }
};

stored_resource make(const std::string &id, const std::string &name, const std::string &ext) {
  return stored_resource{id, json{{"id", id}, {"userName", name}, {"externalId", ext},
                                  {"meta", {{"created", "2026-01-01T00:00:00Z"}, {"lastModified", "2026-01-01T00:00:00Z"}}}},
                         1};
}
} // namespace

BOOST_AUTO_TEST_CASE(store_round_trip_and_uniqueness) {
  temp_state t;
  {
    resource_store s(t.dir);
    s.begin();
    s.insert(resource_kind::user, make("a", "Ada@Example.com", "X1"));
    s.insert(resource_kind::user, make("b", "bob@example.com", "X2"));
    s.commit();
    s.begin();
    BOOST_CHECK_THROW(s.insert(resource_kind::user, make("c", "ada@example.COM", "X3")), uniqueness_error);
    s.rollback();
  }
  resource_store s(t.dir); // reopened: nothing lost
  BOOST_TEST(s.count(resource_kind::user) == 2);
  BOOST_TEST(s.get(resource_kind::user, "a")->resource["userName"] == "Ada@Example.com");
  auto hit = s.find_indexed(resource_kind::user, "userName", "ADA@example.com");
  BOOST_TEST_REQUIRE(hit.has_value());
  BOOST_TEST_REQUIRE(hit->size() == 1u);
  BOOST_TEST(hit->front().id == "a");
  hit = s.find_indexed(resource_kind::user, "externalId", "x2"); // caseExact
  BOOST_TEST(hit->empty());
  BOOST_TEST(s.find_indexed(resource_kind::user, "externalId", "X2")->size() == 1u);
  BOOST_TEST(!s.find_indexed(resource_kind::user, "title", "x").has_value());
  auto b = *s.get(resource_kind::user, "b");
  b.version = 2;
  b.resource["userName"] = "robert@example.com";
  s.begin();
  s.update(resource_kind::user, b);
  s.remove(resource_kind::user, "a");
  s.commit();
  BOOST_TEST(s.get(resource_kind::user, "b")->version == 2);
  BOOST_TEST(!s.get(resource_kind::user, "a").has_value());
  struct stat st{};
  BOOST_TEST_REQUIRE(stat((t.dir / "scim.sqlite3").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
}
