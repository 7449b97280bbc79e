// test_journal.cpp — plugin/store/journal: idempotent appends, subjects, the
// resume CSN, prepared deletes, and that all of it survives a reopen.
#include "store/journal.hpp"
#include "store/store_health.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sys/stat.h>

using reclaim::event_record;
using reclaim::journal;
using reclaim::state;
namespace sqlite = reclaim::sqlite;

namespace {

struct journal_fixture {
  reclaim::unit::temp_dir dir;
  std::filesystem::path path = dir / "state" / "journal.sqlite3";
};

event_record make_event(const std::string &key, const std::string &subject = "u1",
                        state current = state::terminated, state previous = state::active) {
  event_record ev;
  ev.idempotency_key = key;
  ev.subject_id = subject;
  ev.subject_name = "cn=Ann,ou=People,dc=example,dc=com";
  ev.source = "ldap";
  ev.current = current;
  ev.previous = previous;
  ev.time = reclaim::from_unix_ms(1'795'820'468'669);
  ev.recorded = reclaim::from_unix_ms(1'795'820'468'700);
  ev.actor = "cn=admin,dc=example,dc=com";
  ev.attributes_json = R"({"employeeType":["terminated"]})";
  return ev;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(journal_store, journal_fixture)

BOOST_AUTO_TEST_CASE(creates_its_directory_private) {
  journal j(path, sqlite::durability::normal);
  BOOST_TEST(std::filesystem::exists(path));
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat(path.parent_path().c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 07777) == 0700u);
}

BOOST_AUTO_TEST_CASE(same_idempotency_key_is_stored_once) {
  journal j(path, sqlite::durability::normal);
  auto first = make_event("u1/20261127230108.669444Z#000000#000#000000");
  BOOST_TEST(j.append(first));
  BOOST_TEST(first.seq > 0);
  BOOST_TEST(j.event_count() == 1);

  // Same key, even with different content: not inserted, nothing changes.
  auto again = make_event("u1/20261127230108.669444Z#000000#000#000000", "u2", state::leave);
  BOOST_TEST(!j.append(again));
  BOOST_TEST(j.event_count() == 1);
  const auto stored = j.events({});
  BOOST_TEST_REQUIRE(stored.size() == 1u);
  BOOST_TEST(stored[0].subject_id == "u1");
  BOOST_TEST(stored[0].current == state::terminated);

  auto other = make_event("u1/20261127230109.000000Z#000000#000#000000");
  BOOST_TEST(j.append(other));
  BOOST_TEST(other.seq > first.seq);
  BOOST_TEST(j.event_count() == 2);
}

BOOST_AUTO_TEST_CASE(events_round_trip_every_field) {
  journal j(path, sqlite::durability::full);
  auto ev = make_event("k1");
  ev.subject_name = "cn=J\xC3\xBCrgen\\, M.,ou=People,dc=example,dc=com";
  BOOST_TEST(j.append(ev));
  const auto got = j.events({});
  BOOST_TEST_REQUIRE(got.size() == 1u);
  const auto &e = got[0];
  BOOST_TEST(e.seq == ev.seq);
  BOOST_TEST(e.idempotency_key == "k1");
  BOOST_TEST(e.subject_id == "u1");
  BOOST_TEST(e.subject_name == ev.subject_name);
  BOOST_TEST(e.source == "ldap");
  BOOST_TEST(e.current == state::terminated);
  BOOST_TEST(e.previous == state::active);
  BOOST_TEST(reclaim::to_unix_ms(e.time) == 1'795'820'468'669);
  BOOST_TEST(reclaim::to_unix_ms(e.recorded) == 1'795'820'468'700);
  BOOST_TEST(e.actor == "cn=admin,dc=example,dc=com");
  BOOST_TEST(e.attributes_json == ev.attributes_json);
}

BOOST_AUTO_TEST_CASE(every_state_round_trips) {
  journal j(path, sqlite::durability::normal);
  for (int s = 0; s < reclaim::state_count; ++s) {
    auto ev = make_event("k" + std::to_string(s), "u1", static_cast<state>(s),
                         static_cast<state>((s + 1) % reclaim::state_count));
    BOOST_TEST(j.append(ev));
  }
  const auto got = j.events({});
  BOOST_TEST_REQUIRE(got.size() == static_cast<size_t>(reclaim::state_count));
  for (int s = 0; s < reclaim::state_count; ++s) {
    BOOST_TEST(static_cast<int>(got[static_cast<size_t>(s)].current) == s);
    BOOST_TEST(static_cast<int>(got[static_cast<size_t>(s)].previous) == (s + 1) % reclaim::state_count);
  }
}

BOOST_AUTO_TEST_CASE(event_filter_by_subject_seq_and_limit) {
  journal j(path, sqlite::durability::normal);
  for (int i = 0; i < 6; ++i) {
    auto ev = make_event("k" + std::to_string(i), i % 2 ? "odd" : "even");
    j.append(ev);
  }
  BOOST_TEST(j.events({}).size() == 6u);
  reclaim::event_filter odd;
  odd.subject_id = "odd";
  const auto odds = j.events(odd);
  BOOST_TEST_REQUIRE(odds.size() == 3u);
  for (const auto &e : odds) BOOST_TEST(e.subject_id == "odd");
  reclaim::event_filter later;
  later.after_seq = odds[0].seq;
  BOOST_TEST(j.events(later).size() == static_cast<size_t>(6 - odds[0].seq));
  reclaim::event_filter two;
  two.limit = 2;
  const auto first_two = j.events(two);
  BOOST_TEST_REQUIRE(first_two.size() == 2u);
  BOOST_TEST(first_two[0].seq < first_two[1].seq);
}

BOOST_AUTO_TEST_CASE(subjects_round_trip) {
  journal j(path, sqlite::durability::normal);
  BOOST_TEST(!j.subject("u1").has_value());
  const reclaim::subject_record s{"u1", "cn=Ann,ou=People,dc=example,dc=com", state::leave,
                                  std::string("departmentnumber=100\x1f\x1etitle=\x1e"),
                                  "20261127230108.669444Z#000000#000#000000", "", ""};
  j.put_subject(s);
  auto got = j.subject("u1");
  BOOST_TEST_REQUIRE(got.has_value());
  BOOST_TEST(got->id == s.id);
  BOOST_TEST(got->name == s.name);
  BOOST_TEST(got->current == state::leave);
  BOOST_TEST(got->transfer_key == s.transfer_key);
  BOOST_TEST(got->csn == s.csn);

  // put_subject replaces.
  j.put_subject({"u1", "cn=Ann,ou=Leavers,dc=example,dc=com", state::terminated, "", "x", "", ""});
  got = j.subject("u1");
  BOOST_TEST_REQUIRE(got.has_value());
  BOOST_TEST(got->name == "cn=Ann,ou=Leavers,dc=example,dc=com");
  BOOST_TEST(got->current == state::terminated);
  BOOST_TEST(got->transfer_key.empty());
  BOOST_TEST(got->csn == "x");
  BOOST_TEST(!j.subject("U1").has_value());
}

namespace {
int64_t count_rows(journal &j, const std::string &table) {
  auto st = j.db().prepare("SELECT count(*) FROM " + table);
  return st.step() ? st.integer(0) : -1;
}
reclaim::subject_record person(const std::string &id, const std::string &ndn, state s, const std::string &csn) {
  return {id, ndn, s, "", csn, ndn, R"({"employeeType":["x"]})"};
}
} // namespace

// People are appended to subject_log and folded into subjects later; every
// other connection reads both (subjects_now), so nothing is ever stale for
// it, and a fold writes the newest row of each person.
BOOST_AUTO_TEST_CASE(subject_log_is_folded_and_read_through) {
  journal writer(path, sqlite::durability::normal);
  writer.cache_subjects(100);
  journal reader(path, sqlite::durability::normal);
  writer.put_subject(person("u1", "uid=a,dc=x", state::active, "c1"));
  writer.put_subject(person("u1", "uid=b,dc=x", state::leave, "c2")); // renamed and on leave
  writer.put_subject(person("u2", "uid=c,dc=x", state::active, "c3"));
  BOOST_TEST(count_rows(writer, "subject_log") == 3);
  BOOST_TEST(count_rows(writer, "subjects") == 0);
  for (int pass = 0; pass < 2; ++pass) { // before and after the fold
    const auto u1 = reader.subject("u1");
    BOOST_TEST_REQUIRE(u1.has_value());
    BOOST_TEST(u1->current == state::leave);
    BOOST_TEST(u1->csn == "c2");
    BOOST_TEST(!reader.subject_by_dn("uid=a,dc=x").has_value()); // the old DN is nobody's now
    BOOST_TEST_REQUIRE(reader.subject_by_dn("uid=b,dc=x").has_value());
    BOOST_TEST(reader.subject_by_dn("uid=b,dc=x")->id == "u1");
    BOOST_TEST(reader.subject("u2").has_value());
    writer.fold();
  }
  BOOST_TEST(count_rows(writer, "subject_log") == 0);
  BOOST_TEST(count_rows(writer, "subjects") == 2);
  // After a fold, a person first changed by another connection: the writer
  // is told (forget_subjects) and reads through the log until its next fold.
  reader.put_subject(person("u2", "uid=c,dc=x", state::terminated, "c4"));
  writer.forget_subjects();
  BOOST_TEST(writer.subject("u2")->current == state::terminated);
  writer.fold();
  BOOST_TEST(writer.subject("u2")->current == state::terminated);
  BOOST_TEST(reader.subject("u2")->csn == "c4");
}

// Rows committed but not folded (a crash) are folded when the writer next
// starts; every row counts, in order.
BOOST_AUTO_TEST_CASE(unfolded_rows_survive_a_crash) {
  {
    journal writer(path, sqlite::durability::normal);
    writer.cache_subjects(100);
    sqlite::transaction tx(writer.db());
    for (int i = 0; i < 10; ++i)
      writer.put_subject(person("u" + std::to_string(i % 3), "uid=" + std::to_string(i % 3) + ",dc=x",
                                i == 9 ? state::terminated : state::active, "c" + std::to_string(i)));
    tx.commit();
  } // no fold: as if the process died here
  {
    journal reader(path, sqlite::durability::normal);
    BOOST_TEST(count_rows(reader, "subject_log") == 10);
    BOOST_TEST(reader.subject("u0")->current == state::terminated); // row 9: u0
  }
  journal writer(path, sqlite::durability::normal);
  writer.cache_subjects(100);
  BOOST_TEST(count_rows(writer, "subject_log") == 0);
  BOOST_TEST(count_rows(writer, "subjects") == 3);
  BOOST_TEST(writer.subject("u0")->csn == "c9");
  BOOST_TEST(writer.subject("u1")->csn == "c7");
  BOOST_TEST(writer.subject("u2")->csn == "c8");
}

// The writer's start must not wait for another process's write lock (it
// may run on a directory operation thread): the fold is skipped and reads
// go through subject_log until a later fold.
BOOST_AUTO_TEST_CASE(start_does_not_wait_for_a_locked_store) {
  {
    journal writer(path, sqlite::durability::normal);
    writer.cache_subjects(100);
    writer.put_subject(person("u1", "uid=1,dc=x", state::leave, "c1"));
  } // not folded
  journal other(path, sqlite::durability::normal);
  sqlite::transaction held(other.db()); // BEGIN IMMEDIATE: the write lock
  const auto t0 = std::chrono::steady_clock::now();
  journal writer(path, sqlite::durability::normal);
  writer.cache_subjects(100);
  const bool quick = std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2);
  BOOST_TEST(quick);
  BOOST_TEST(writer.subject("u1")->current == state::leave);
  BOOST_TEST(writer.subject_by_dn("uid=1,dc=x")->id == "u1");
  held.commit();
  writer.fold();
  BOOST_TEST(count_rows(writer, "subject_log") == 0);
  BOOST_TEST(writer.subject("u1")->csn == "c1");
}

// A fold of the oldest rows only (flush_batch folds in chunks, so the write
// lock is held briefly): later rows stay and still win for readers.
BOOST_AUTO_TEST_CASE(fold_in_chunks) {
  journal writer(path, sqlite::durability::normal);
  writer.cache_subjects(100);
  journal reader(path, sqlite::durability::normal);
  for (int i = 0; i < 7; ++i)
    writer.put_subject(person("u" + std::to_string(i % 3), "uid=" + std::to_string(i % 3) + ",dc=x",
                              i >= 5 ? state::terminated : state::active, "c" + std::to_string(i)));
  writer.fold(4); // rows 0-3: u0 (c0, c3), u1 (c1), u2 (c2)
  BOOST_TEST(count_rows(writer, "subject_log") == 3);
  BOOST_TEST(count_rows(writer, "subjects") == 3);
  auto folded = writer.db().prepare("SELECT csn FROM subjects ORDER BY subject_id");
  std::vector<std::string> csns;
  while (folded.step()) csns.push_back(folded.text(0));
  BOOST_TEST(csns == (std::vector<std::string>{"c3", "c1", "c2"}), boost::test_tools::per_element());
  BOOST_TEST(reader.subject("u2")->csn == "c5"); // from the log
  BOOST_TEST(reader.subject("u2")->current == state::terminated);
  BOOST_TEST(reader.subject("u0")->csn == "c6");
  writer.fold(4);
  BOOST_TEST(count_rows(writer, "subject_log") == 0);
  BOOST_TEST(reader.subject("u0")->csn == "c6");
  BOOST_TEST(reader.subject("u1")->csn == "c4");
  writer.fold(4); // nothing left: no-op
  BOOST_TEST(count_rows(writer, "subjects") == 3);
}

// A full cache folds before it forgets, so a miss may read subjects alone.
BOOST_AUTO_TEST_CASE(full_cache_folds_first) {
  journal writer(path, sqlite::durability::normal);
  writer.cache_subjects(2);
  writer.put_subject(person("u1", "uid=1,dc=x", state::leave, "c1"));
  writer.put_subject(person("u2", "uid=2,dc=x", state::leave, "c2"));
  writer.put_subject(person("u3", "uid=3,dc=x", state::leave, "c3")); // the cache is full: fold, forget
  BOOST_TEST(count_rows(writer, "subjects") == 3);
  BOOST_TEST(count_rows(writer, "subject_log") == 0);
  BOOST_TEST(writer.subject("u1")->current == state::leave);
  BOOST_TEST(writer.subject_by_dn("uid=2,dc=x")->id == "u2");
  BOOST_TEST(writer.subject("u3")->csn == "c3");
}

// Stores made before 0.3 have a plain UNIQUE key and an index of events by
// person: the index goes, the key stays unique, reads by person still work.
BOOST_AUTO_TEST_CASE(store_from_0_2_keeps_its_unique_key) {
  std::filesystem::create_directories(path.parent_path());
  {
    sqlite::database db(path, sqlite::durability::normal);
    db.exec("CREATE TABLE events(seq INTEGER PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE,"
            " subject_id TEXT NOT NULL, subject_name TEXT NOT NULL DEFAULT '', source TEXT NOT NULL,"
            " state TEXT NOT NULL, previous_state TEXT NOT NULL, event_time_ms INTEGER NOT NULL,"
            " recorded_ms INTEGER NOT NULL, actor TEXT NOT NULL DEFAULT '', attributes TEXT NOT NULL DEFAULT '{}',"
            " position TEXT NOT NULL DEFAULT '');"
            "CREATE INDEX events_subject ON events(subject_id, seq);");
  }
  journal j(path, sqlite::durability::normal);
  auto ev = make_event("u1/c1");
  BOOST_TEST(j.append(ev));
  auto again = make_event("u1/c1", "u2");
  BOOST_TEST(!j.append(again));
  auto other = make_event("u2/c2", "u2");
  BOOST_TEST(j.append(other));
  BOOST_TEST(count_rows(j, "sqlite_master WHERE name = 'events_subject'") == 0);
  BOOST_TEST(count_rows(j, "sqlite_master WHERE name = 'events_key'") == 0);
  reclaim::event_filter f;
  f.subject_id = "u2";
  const auto u2 = j.events(f);
  BOOST_TEST_REQUIRE(u2.size() == 1u);
  BOOST_TEST(u2[0].idempotency_key == "u2/c2");
}

// New stores: the key's unique index leads with the part after the first
// "/" (the CSN of LDAP keys); keys without a "/" are unique all the same.
BOOST_AUTO_TEST_CASE(keys_with_and_without_a_slash_are_unique) {
  journal j(path, sqlite::durability::normal);
  BOOST_TEST(count_rows(j, "sqlite_master WHERE name = 'events_key'") == 1);
  for (const std::string key : {"plain", "a/b", "b", "x/a/b", "/b"}) {
    auto ev = make_event(key);
    BOOST_TEST(j.append(ev), key);
    auto twice = make_event(key, "u9");
    BOOST_TEST(!j.append(twice), key);
  }
  BOOST_TEST(j.event_count() == 5);
}

BOOST_AUTO_TEST_CASE(resume_csn_only_increases) {
  journal j(path, sqlite::durability::normal);
  BOOST_TEST(j.resume_csn().empty());
  const std::string c1 = "20261127230108.000001Z#000000#000#000000";
  const std::string c2 = "20261127230108.000002Z#000000#000#000000";
  const std::string c3 = "20261128000000.000000Z#000000#001#000000";
  j.set_resume_csn(c2);
  BOOST_TEST(j.resume_csn() == c2);
  j.set_resume_csn(c1);
  BOOST_TEST(j.resume_csn() == c2);
  j.set_resume_csn("");
  BOOST_TEST(j.resume_csn() == c2);
  j.set_resume_csn(c3);
  BOOST_TEST(j.resume_csn() == c3);
  j.set_resume_csn(c3);
  BOOST_TEST(j.resume_csn() == c3);
}

BOOST_AUTO_TEST_CASE(baseline_flag) {
  journal j(path, sqlite::durability::normal);
  BOOST_TEST(!j.has_baseline());
  j.mark_baseline();
  BOOST_TEST(j.has_baseline());
  j.mark_baseline();
  BOOST_TEST(j.has_baseline());
}

BOOST_AUTO_TEST_CASE(pending_deletes_round_trip) {
  journal j(path, sqlite::durability::normal);
  BOOST_TEST(j.pending_deletes().empty());
  const auto t = reclaim::from_unix_ms(1'795'820'468'669);
  j.put_pending_delete({"u1", "cn=Ann,ou=People,dc=example,dc=com", R"({"dn":"cn=Ann"})", t});
  j.put_pending_delete({"u2", "cn=Bob,ou=People,dc=example,dc=com", R"({"dn":"cn=Bob"})", t});
  // Preparing the same subject again replaces its pre-image.
  j.put_pending_delete({"u1", "cn=Ann2,ou=People,dc=example,dc=com", R"({"dn":"cn=Ann2"})", t});
  auto pending = j.pending_deletes();
  BOOST_TEST_REQUIRE(pending.size() == 2u);
  std::sort(pending.begin(), pending.end(),
            [](const auto &a, const auto &b) { return a.subject_id < b.subject_id; });
  BOOST_TEST(pending[0].subject_id == "u1");
  BOOST_TEST(pending[0].dn == "cn=Ann2,ou=People,dc=example,dc=com");
  BOOST_TEST(pending[0].entry_json == R"({"dn":"cn=Ann2"})");
  BOOST_TEST(reclaim::to_unix_ms(pending[0].prepared) == 1'795'820'468'669);
  BOOST_TEST(pending[1].subject_id == "u2");

  j.remove_pending_delete("u1");
  j.remove_pending_delete("nobody");
  pending = j.pending_deletes();
  BOOST_TEST_REQUIRE(pending.size() == 1u);
  BOOST_TEST(pending[0].subject_id == "u2");
}

BOOST_AUTO_TEST_CASE(data_persists_across_reopen) {
  int64_t seq = 0;
  {
    journal j(path, sqlite::durability::full);
    auto ev = make_event("k1");
    BOOST_TEST(j.append(ev));
    seq = ev.seq;
    j.put_subject({"u1", "cn=Ann", state::terminated, "tk", "c5", "", ""});
    j.set_resume_csn("c5");
    j.mark_baseline();
    j.put_pending_delete({"u2", "cn=Bob", "{}", reclaim::from_unix_ms(42)});
  }
  {
    journal j(path, sqlite::durability::normal);
    BOOST_TEST(j.event_count() == 1);
    auto again = make_event("k1");
    BOOST_TEST(!j.append(again)); // the key is remembered across opens
    const auto s = j.subject("u1");
    BOOST_TEST_REQUIRE(s.has_value());
    BOOST_TEST(s->current == state::terminated);
    BOOST_TEST(s->transfer_key == "tk");
    BOOST_TEST(j.resume_csn() == "c5");
    BOOST_TEST(j.has_baseline());
    BOOST_TEST_REQUIRE(j.pending_deletes().size() == 1u);
    BOOST_TEST(reclaim::to_unix_ms(j.pending_deletes()[0].prepared) == 42);
    auto next = make_event("k2");
    BOOST_TEST(j.append(next));
    BOOST_TEST(next.seq > seq);
  }
  // The read-only path reclaimctl uses sees the same events.
  const auto events = reclaim::read_events(path, {});
  BOOST_TEST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[0].idempotency_key == "k1");
  BOOST_TEST(events[1].idempotency_key == "k2");
}

BOOST_AUTO_TEST_CASE(rolled_back_transaction_leaves_nothing) {
  journal j(path, sqlite::durability::normal);
  {
    sqlite::transaction tx(j.db());
    auto ev = make_event("k1");
    BOOST_TEST(j.append(ev));
    j.put_subject({"u1", "cn=Ann", state::terminated, "", "c1", "", ""});
    // no commit
  }
  BOOST_TEST(j.event_count() == 0);
  BOOST_TEST(!j.subject("u1").has_value());
  auto ev = make_event("k1");
  BOOST_TEST(j.append(ev));
}

BOOST_AUTO_TEST_CASE(read_events_without_a_store_says_so) {
  BOOST_CHECK_EXCEPTION(reclaim::read_events(path, {}), sqlite::store_error,
                        [&](const sqlite::store_error &e) {
                          return std::string(e.what()).find(path.string()) != std::string::npos;
                        });
  BOOST_TEST(!std::filesystem::exists(path));
}

BOOST_AUTO_TEST_SUITE_END()

// A store written by a newer reclaim is refused with both versions named,
// by the journal and by the read-only reader reclaimctl uses.
BOOST_FIXTURE_TEST_CASE(a_store_from_a_newer_schema_is_refused, journal_fixture) {
  { journal j(path, sqlite::durability::normal); }
  {
    sqlite::database db(path, sqlite::durability::normal);
    db.exec("PRAGMA user_version = 99");
  }
  auto names_both = [](const sqlite::store_error &e) {
    const std::string m = e.what();
    BOOST_TEST_INFO(m);
    return m.find("schema version 99") != std::string::npos && m.find("(version 1)") != std::string::npos;
  };
  BOOST_CHECK_EXCEPTION(journal(path, sqlite::durability::normal), sqlite::store_error, names_both);
  BOOST_CHECK_EXCEPTION(reclaim::read_events(path, {}), sqlite::store_error, names_both);
}

// The WAL does not keep its largest size: a checkpoint from the engine's
// thread empties it once no reader holds an older snapshot.
BOOST_FIXTURE_TEST_CASE(a_grown_wal_is_checkpointed_and_cut_back, journal_fixture) {
  journal j(path, sqlite::durability::normal);
  j.db().exec("CREATE TABLE filler(b BLOB)");
  {
    sqlite::database reader(path, sqlite::durability::normal);
    reader.exec("BEGIN");
    auto st = reader.prepare("SELECT count(*) FROM events");
    st.step(); // holds a snapshot: no checkpoint can reset the WAL meanwhile
    for (int i = 0; i < 80; ++i)
      j.db().exec("INSERT INTO filler VALUES (randomblob(1048576))");
    BOOST_TEST(reclaim::store::wal_bytes(path) > (64u << 20));
    BOOST_TEST(!reclaim::store::checkpoint(j.db())); // the reader still needs the old pages
    st.reset();
    reader.exec("COMMIT");
  }
  BOOST_TEST(reclaim::store::checkpoint(j.db()));
  BOOST_TEST(reclaim::store::wal_bytes(path) == 0u);
}

BOOST_FIXTURE_TEST_CASE(quick_check_finds_a_damaged_page, journal_fixture) {
  {
    journal j(path, sqlite::durability::normal);
    for (int i = 0; i < 2000; ++i) {
      auto ev = make_event("k" + std::to_string(i));
      j.append(ev);
    }
    BOOST_TEST(!reclaim::store::quick_check(j.db(), std::chrono::seconds(10)).has_value());
    reclaim::store::checkpoint(j.db());
  }
  reclaim::unit::damage_store(path);
  sqlite::database db(path, sqlite::durability::normal);
  bool finished = false;
  const auto problem = reclaim::store::quick_check(db, std::chrono::seconds(10), &finished);
  BOOST_TEST(problem.has_value());
  BOOST_TEST(finished);
}
