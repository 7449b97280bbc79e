// test_c_abi.cpp — the edge cases of the C ABI, called through reclaim.h
// exactly as a host would (linked against libreclaim.so.1): NULLs, struct
// versions, invalid values, error messages, idempotent submits, config
// and permission failures on open. The journal is read back with the
// engine's own reader to check what a call really stored.
#define BOOST_TEST_MODULE reclaim_abi_unit
#include "reclaim/reclaim.h"

#include "store/journal.hpp"
#include "store/store_health.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <sqlite3.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <set>
#include <string>
#include <thread>

#include <sys/wait.h>
#include <sched.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <vector>
#include <unistd.h>

using reclaim::unit::temp_dir;
using reclaim::unit::write_file;

namespace {

std::string last_error() {
  const char *e = reclaim_error_last();
  BOOST_TEST_REQUIRE(e != nullptr);
  return e;
}

bool contains(const std::string &text, const std::string &fragment) {
  return text.find(fragment) != std::string::npos;
}

// u1, active -> terminated, from HR, under key.
reclaim_event termination(const char *key) {
  reclaim_event ev;
  reclaim_event_init(&ev);
  ev.subject_id = "u1";
  ev.source = "hr";
  ev.state = RECLAIM_STATE_TERMINATED;
  ev.previous_state = RECLAIM_STATE_ACTIVE;
  ev.idempotency_key = key;
  return ev;
}

struct abi_fixture {
  temp_dir dir;
  std::string config = (dir / "reclaim.toml").string();
  std::string journal = (dir / "state" / "journal.sqlite3").string();

  abi_fixture() { write_file(config, reclaim::unit::config_text(dir), 0600u); }

  reclaim_engine *open(uint32_t flags = 0) {
    reclaim_open_options o;
    reclaim_open_options_init(&o);
    o.config_path = config.c_str();
    o.flags = flags;
    reclaim_engine *e = nullptr;
    const int rc = reclaim_engine_open(&e, &o);
    BOOST_TEST_REQUIRE(rc == RECLAIM_OK, "open: " << reclaim_error_last());
    BOOST_TEST_REQUIRE(e != nullptr);
    return e;
  }

  // Opens with the engine's log lines going to log.
  reclaim_engine *open_logged(reclaim::unit::log_capture &log) {
    reclaim_open_options o;
    reclaim_open_options_init(&o);
    o.config_path = config.c_str();
    o.log = &reclaim::unit::log_capture::sink;
    o.log_payload = &log;
    reclaim_engine *e = nullptr;
    BOOST_TEST_REQUIRE(reclaim_engine_open(&e, &o) == RECLAIM_OK, "open: " << reclaim_error_last());
    return e;
  }

  // Opens with options o; returns the status and checks *out stays NULL on
  // failure.
  int open_status(const reclaim_open_options *o) {
    reclaim_engine *e = reinterpret_cast<reclaim_engine *>(0x1);
    const int rc = reclaim_engine_open(&e, o);
    if (rc != RECLAIM_OK) BOOST_TEST(e == nullptr);
    reclaim_engine_close(rc == RECLAIM_OK ? e : nullptr);
    return rc;
  }

  int open_path(const std::string &path) {
    reclaim_open_options o = RECLAIM_OPEN_OPTIONS_INIT;
    o.config_path = path.c_str();
    return open_status(&o);
  }
};

// An engine, closed at the end of the test.
struct engine_fixture : abi_fixture {
  reclaim_engine *engine = open();
  ~engine_fixture() { reclaim_engine_close(engine); }

  reclaim_event event(const char *key = "k1") { return termination(key); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(c_abi)

BOOST_AUTO_TEST_CASE(versions_agree) {
  BOOST_TEST(reclaim_version_num() == RECLAIM_VERSION_NUM);
  BOOST_TEST(std::string(reclaim_version()) == RECLAIM_VERSION);
}

BOOST_AUTO_TEST_CASE(strerror_of_every_code) {
  std::set<std::string> seen;
  for (int code = RECLAIM_OK; code <= RECLAIM_ERR_TIMEOUT; ++code) {
    BOOST_TEST_CONTEXT("status " << code) {
      const char *s = reclaim_strerror(code);
      BOOST_TEST_REQUIRE(s != nullptr);
      BOOST_TEST(std::strlen(s) > 0u);
      BOOST_TEST(std::string(s) != "unknown status");
      seen.insert(s);
    }
  }
  BOOST_TEST(seen.size() == static_cast<size_t>(RECLAIM_ERR_TIMEOUT + 1)); // all distinct
  for (int code : {-1, RECLAIM_ERR_TIMEOUT + 1, 9999, INT32_MIN, INT32_MAX}) {
    BOOST_TEST_CONTEXT("status " << code) {
      const char *s = reclaim_strerror(code);
      BOOST_TEST_REQUIRE(s != nullptr);
      BOOST_TEST(std::string(s) == "unknown status");
    }
  }
}

BOOST_AUTO_TEST_CASE(error_last_is_never_null_and_per_thread) {
  std::thread([] { BOOST_TEST(std::string(reclaim_error_last()).empty()); }).join();
  int s = 0;
  BOOST_TEST(reclaim_state_parse(&s, "fired") == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "fired"));
  // Another thread does not see this thread's error.
  std::thread([] {
    const char *e = reclaim_error_last();
    BOOST_TEST((e != nullptr && *e == '\0'));
  }).join();
  BOOST_TEST(contains(last_error(), "fired"));
  // A successful call clears it.
  BOOST_TEST(reclaim_state_parse(&s, "leave") == RECLAIM_OK);
  BOOST_TEST(last_error().empty());
}

BOOST_AUTO_TEST_CASE(state_names_and_parsing) {
  const char *names[] = {"none", "active", "leave", "transferred", "terminated", "contract_ended",
                         "reactivated", "deleted"};
  for (int i = 0; i <= RECLAIM_STATE_DELETED; ++i) {
    BOOST_TEST_CONTEXT("state " << i) {
      const char *n = reclaim_state_name(i);
      BOOST_TEST_REQUIRE(n != nullptr);
      BOOST_TEST(std::string(n) == names[i]);
      int parsed = -1;
      BOOST_TEST(reclaim_state_parse(&parsed, n) == RECLAIM_OK);
      BOOST_TEST(parsed == i);
    }
  }
  for (int bad : {-1, RECLAIM_STATE_DELETED + 1, 9999}) BOOST_TEST(reclaim_state_name(bad) == nullptr);
  int out = 42;
  BOOST_TEST(reclaim_state_parse(nullptr, "active") == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(!last_error().empty());
  BOOST_TEST(reclaim_state_parse(&out, nullptr) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(!last_error().empty());
  for (const char *bad : {"Active", "", "fired", "active "}) {
    BOOST_TEST_CONTEXT("\"" << bad << "\"") {
      BOOST_TEST(reclaim_state_parse(&out, bad) == RECLAIM_ERR_INVALID_ARGUMENT);
      BOOST_TEST(contains(last_error(), std::string("\"") + bad + "\""));
    }
  }
  BOOST_TEST(out == 42); // untouched on failure
}

BOOST_AUTO_TEST_CASE(init_functions_fill_defaults_and_accept_null) {
  reclaim_open_options_init(nullptr);
  reclaim_event_init(nullptr);
  reclaim_ldap_change_init(nullptr);
  reclaim_open_options o;
  std::memset(&o, 0xAB, sizeof o);
  reclaim_open_options_init(&o);
  BOOST_TEST(o.struct_size == sizeof(reclaim_open_options));
  BOOST_TEST(o.config_path == nullptr);
  BOOST_TEST(o.flags == 0u);
  BOOST_TEST(o.log == nullptr);
  reclaim_event ev;
  std::memset(&ev, 0xAB, sizeof ev);
  reclaim_event_init(&ev);
  BOOST_TEST(ev.struct_size == sizeof(reclaim_event));
  BOOST_TEST(ev.state == RECLAIM_STATE_NONE);
  BOOST_TEST(ev.attributes == nullptr);
  BOOST_TEST(ev.idempotency_key == nullptr);
  reclaim_ldap_change c;
  std::memset(&c, 0xAB, sizeof c);
  reclaim_ldap_change_init(&c);
  BOOST_TEST(c.struct_size == sizeof(reclaim_ldap_change));
  BOOST_TEST(c.phase == RECLAIM_LDAP_COMMIT);
  BOOST_TEST(c.before == nullptr);
}

BOOST_FIXTURE_TEST_CASE(open_refuses_null_and_wrong_versions, abi_fixture) {
  reclaim_open_options o = RECLAIM_OPEN_OPTIONS_INIT;
  o.config_path = config.c_str();
  BOOST_TEST(reclaim_engine_open(nullptr, &o) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "out"));
  BOOST_TEST(open_status(nullptr) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "options"));
  for (uint32_t size : {0u, 4u, static_cast<uint32_t>(sizeof o - 1), static_cast<uint32_t>(sizeof o + 8)}) {
    BOOST_TEST_CONTEXT("struct_size " << size) {
      o.struct_size = size;
      BOOST_TEST(open_status(&o) == RECLAIM_ERR_VERSION);
      BOOST_TEST(contains(last_error(), "struct_size"));
      BOOST_TEST(contains(last_error(), std::to_string(size)));
    }
  }
  o.struct_size = sizeof o;
  o.flags = 0x8u;
  BOOST_TEST(open_status(&o) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "flags"));
  o.flags = RECLAIM_OPEN_ROLE_ENGINE | RECLAIM_OPEN_ROLE_INTAKE;
  BOOST_TEST(open_status(&o) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "exclude each other"));
  BOOST_TEST(!std::filesystem::exists(journal));
}

namespace {
// Lease files of live engines in the state_dir.
size_t engine_leases(const std::filesystem::path &state) {
  size_t n = 0;
  std::error_code ec;
  for (const auto &e : std::filesystem::directory_iterator(state / "engines", ec))
    n += e.path().extension() == ".lock";
  return n;
}
// planner_progress.last_seq, -1 when no planner ever ran on the store.
int64_t planned_upto(const std::string &journal) {
  sqlite3 *db = nullptr;
  int64_t v = -1;
  if (sqlite3_open_v2(journal.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT last_seq FROM planner_progress", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}
} // namespace

// RECLAIM_OPEN_ROLE_INTAKE: the event is journalled and nothing plans it
// (no lease, no planner); RECLAIM_OPEN_ROLE_ENGINE on the same config then
// holds a lease while open and plans what the intake engine journalled.
BOOST_FIXTURE_TEST_CASE(role_flags_choose_the_work_of_the_process, abi_fixture) {
  const auto state = dir / "state";
  {
    reclaim_engine *intake = open(RECLAIM_OPEN_ROLE_INTAKE);
    auto ev = termination("role-1");
    bool recorded = false;
    BOOST_TEST(reclaim_submit(&recorded, intake, &ev) == RECLAIM_OK, reclaim_error_last());
    BOOST_TEST(recorded);
    BOOST_TEST(reclaim_flush(intake, 5000) == RECLAIM_OK);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    BOOST_TEST(engine_leases(state) == 0u);
    BOOST_TEST(planned_upto(journal) <= 0, "an intake engine planned");
    reclaim_engine_close(intake);
  }
  reclaim_engine *engine = open(RECLAIM_OPEN_ROLE_ENGINE);
  BOOST_TEST(engine_leases(state) == 1u);
  for (int i = 0; i < 100 && planned_upto(journal) < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(planned_upto(journal) >= 1, "the engine did not plan the journalled event");
  reclaim_engine_close(engine);
  BOOST_TEST(engine_leases(state) == 0u);
}

BOOST_FIXTURE_TEST_CASE(open_with_a_bad_config_names_file_and_line, abi_fixture) {
  write_file(config, "[ldap]\nbase = \"dc=example,dc=com\"\nbsae = 1\n", 0600u);
  BOOST_TEST(open_path(config) == RECLAIM_ERR_CONFIG);
  BOOST_TEST(contains(last_error(), config + ":3:"), last_error());
  BOOST_TEST(contains(last_error(), "ldap.bsae"), last_error());

  write_file(config, "[ldap\n", 0600u);
  BOOST_TEST(open_path(config) == RECLAIM_ERR_CONFIG);
  BOOST_TEST(contains(last_error(), config + ":1:"), last_error());

  BOOST_TEST(open_path((dir / "missing.toml").string()) == RECLAIM_ERR_CONFIG);
  BOOST_TEST(contains(last_error(), "missing.toml"), last_error());
  BOOST_TEST(!std::filesystem::exists(journal));
}

BOOST_FIXTURE_TEST_CASE(open_refuses_an_unsafe_config_mode, abi_fixture) {
  for (unsigned mode : {0666u, 0664u, 0606u}) {
    BOOST_TEST_CONTEXT("mode " << std::oct << mode) {
      std::filesystem::permissions(config, static_cast<std::filesystem::perms>(mode));
      BOOST_TEST(open_path(config) == RECLAIM_ERR_PERMISSION);
      char shown[8];
      std::snprintf(shown, sizeof shown, "%04o", mode);
      BOOST_TEST(contains(last_error(), shown), last_error());
      BOOST_TEST(contains(last_error(), config), last_error());
    }
  }
  BOOST_TEST(!std::filesystem::exists(journal));
}

BOOST_FIXTURE_TEST_CASE(open_without_a_path_uses_reclaim_config, abi_fixture) {
  const char *saved = std::getenv("RECLAIM_CONFIG");
  const std::string saved_value = saved ? saved : "";
  ::setenv("RECLAIM_CONFIG", config.c_str(), 1);
  reclaim_open_options o = RECLAIM_OPEN_OPTIONS_INIT;
  BOOST_TEST(open_status(&o) == RECLAIM_OK, last_error());
  ::setenv("RECLAIM_CONFIG", (dir / "nope.toml").c_str(), 1);
  BOOST_TEST(open_status(&o) == RECLAIM_ERR_CONFIG);
  BOOST_TEST(contains(last_error(), "nope.toml"));
  if (saved) ::setenv("RECLAIM_CONFIG", saved_value.c_str(), 1);
  else ::unsetenv("RECLAIM_CONFIG");
}

BOOST_FIXTURE_TEST_CASE(validate_only_opens_no_store, abi_fixture) {
  reclaim_engine *e = open(RECLAIM_OPEN_VALIDATE_ONLY);
  BOOST_TEST(!std::filesystem::exists(dir / "state"));
  const char *const *names = nullptr;
  BOOST_TEST(reclaim_ldap_attribute_names(&names, nullptr, e) == RECLAIM_OK);
  reclaim_event ev = RECLAIM_EVENT_INIT;
  ev.subject_id = "u1";
  ev.source = "hr";
  ev.state = RECLAIM_STATE_ACTIVE;
  ev.idempotency_key = "k";
  bool recorded = true;
  BOOST_TEST(reclaim_submit(&recorded, e, &ev) != RECLAIM_OK);
  BOOST_TEST(!recorded);
  BOOST_TEST(!last_error().empty());
  BOOST_TEST(!std::filesystem::exists(dir / "state"));
  size_t refreshed = 9;
  const reclaim_ldap_search_fn no_search = [](const char *, const char *, const char *const *, reclaim_ldap_entry_fn,
                                              void *, void *) { return 1; };
  BOOST_TEST(reclaim_ldap_refresh(&refreshed, e, no_search, nullptr) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "VALIDATE_ONLY"), last_error());
  BOOST_TEST(refreshed == 0u);
  reclaim_engine_close(e);
}

BOOST_AUTO_TEST_CASE(close_null_is_harmless) {
  reclaim_engine_close(nullptr);
  BOOST_TEST(true);
}

// Times outside 1970..9999 are refused: INT64_MAX plus a delay overflowed
// and made the action due at once.
BOOST_FIXTURE_TEST_CASE(submit_refuses_times_outside_the_documented_range, engine_fixture) {
  bool recorded = true;
  for (const int64_t t : {INT64_MAX, INT64_MIN, int64_t{-1}, int64_t{253402300800000}}) {
    const auto key = "t" + std::to_string(t);
    reclaim_event ev = event(key.c_str());
    ev.time_unix_ms = t;
    BOOST_TEST(reclaim_submit(&recorded, engine, &ev) == RECLAIM_ERR_INVALID_ARGUMENT, t);
    BOOST_TEST(contains(last_error(), "outside 1970-01-01..9999-12-31"), last_error());
    BOOST_TEST(!recorded);
  }
  reclaim_event last = event("last-ms");
  last.time_unix_ms = 253402300799999; // 9999-12-31T23:59:59.999Z
  BOOST_TEST(reclaim_submit(&recorded, engine, &last) == RECLAIM_OK, last_error());
  BOOST_TEST(recorded);
  BOOST_TEST(reclaim::read_events(journal, {}).size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(submit_is_idempotent, engine_fixture) {
  reclaim_event ev = event("hr-42");
  ev.time_unix_ms = 1'795'820'468'669;
  ev.subject_name = "Ann Smith";
  ev.actor = "hr-feed";
  const char *depts[] = {"100", "200"};
  const reclaim_attribute attrs[] = {{"departmentNumber", depts, 2}};
  ev.attributes = attrs;
  ev.attribute_count = 1;
  bool recorded = false;
  BOOST_TEST(reclaim_submit(&recorded, engine, &ev) == RECLAIM_OK, last_error());
  BOOST_TEST(recorded);
  BOOST_TEST(last_error().empty());
  recorded = true;
  ev.state = RECLAIM_STATE_LEAVE; // same key, different content: still a no-op
  BOOST_TEST(reclaim_submit(&recorded, engine, &ev) == RECLAIM_OK, last_error());
  BOOST_TEST(!recorded);
  BOOST_TEST(reclaim_submit(nullptr, engine, &ev) == RECLAIM_OK);

  const auto events = reclaim::read_events(journal, {});
  BOOST_TEST_REQUIRE(events.size() == 1u);
  const auto &e = events[0];
  BOOST_TEST(e.idempotency_key == "hr-42");
  BOOST_TEST(e.subject_id == "u1");
  BOOST_TEST(e.subject_name == "Ann Smith");
  BOOST_TEST(e.source == "hr");
  BOOST_TEST(e.actor == "hr-feed");
  BOOST_TEST(e.current == reclaim::state::terminated);
  BOOST_TEST(e.previous == reclaim::state::active);
  BOOST_TEST(reclaim::to_unix_ms(e.time) == 1'795'820'468'669);
  BOOST_TEST(e.attributes_json == R"({"departmentNumber":["100","200"]})");
}

BOOST_FIXTURE_TEST_CASE(concurrent_submits_of_one_key_record_it_once, engine_fixture) {
  constexpr int threads = 8;
  std::atomic<int> recorded_same{0}, recorded_own{0}, failed{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      const std::string own = "own-" + std::to_string(t);
      for (const char *key : {"shared", own.c_str()}) {
        reclaim_event ev = event(key);
        bool recorded = false;
        if (reclaim_submit(&recorded, engine, &ev) != RECLAIM_OK) ++failed;
        else if (recorded) ++(std::string(key) == "shared" ? recorded_same : recorded_own);
      }
    });
  for (auto &t : pool) t.join();
  BOOST_TEST(failed.load() == 0);
  BOOST_TEST(recorded_same.load() == 1);
  BOOST_TEST(recorded_own.load() == threads);
  BOOST_TEST(reclaim::read_events(journal, {}).size() == static_cast<size_t>(threads + 1));
}

BOOST_FIXTURE_TEST_CASE(submit_time_zero_means_now, engine_fixture) {
  reclaim_event ev = event();
  const auto before = reclaim::to_unix_ms(reclaim::now());
  BOOST_TEST(reclaim_submit(nullptr, engine, &ev) == RECLAIM_OK);
  const auto events = reclaim::read_events(journal, {});
  BOOST_TEST_REQUIRE(events.size() == 1u);
  BOOST_TEST(reclaim::to_unix_ms(events[0].time) >= before);
  BOOST_TEST(reclaim::to_unix_ms(events[0].time) <= reclaim::to_unix_ms(reclaim::now()));
}

// Group commit (0.5): one bad event anywhere refuses the whole batch, by index.
BOOST_FIXTURE_TEST_CASE(submit_batch_with_a_bad_event_records_nothing, engine_fixture) {
  reclaim_event evs[3] = {event("b-0"), event("b-1"), event("b-2")};
  evs[1].idempotency_key = nullptr;
  bool recorded[3] = {true, true, true};
  BOOST_TEST(reclaim_submit_batch(recorded, engine, evs, 3) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "events[1]"), last_error());
  BOOST_TEST(contains(last_error(), "idempotency_key"), last_error());
  BOOST_TEST((!recorded[0] && !recorded[1] && !recorded[2]));
  evs[1] = event("b-1");
  evs[2].time_unix_ms = -5; // an out-of-range time is refused before anything is written
  BOOST_TEST(reclaim_submit_batch(recorded, engine, evs, 3) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "events[2]"), last_error());
  BOOST_TEST(reclaim::read_events(journal, {}).empty());
  BOOST_TEST(reclaim_submit_batch(recorded, engine, nullptr, 2) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(reclaim_submit_batch(recorded, nullptr, evs, 2) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(reclaim_submit_batch(nullptr, engine, nullptr, 0) == RECLAIM_OK);
  BOOST_TEST(reclaim::read_events(journal, {}).empty());
}

BOOST_FIXTURE_TEST_CASE(submit_batch_reports_each_event_and_dedups_within_the_batch, engine_fixture) {
  reclaim_event first = event("dup-0");
  BOOST_TEST(reclaim_submit(nullptr, engine, &first) == RECLAIM_OK, last_error());
  // dup-0 journalled before; dup-1 twice in the batch: only its first counts.
  reclaim_event evs[4] = {event("dup-1"), event("dup-0"), event("dup-1"), event("dup-2")};
  evs[2].state = RECLAIM_STATE_LEAVE;
  bool recorded[4] = {false, true, true, false};
  BOOST_TEST(reclaim_submit_batch(recorded, engine, evs, 4) == RECLAIM_OK, last_error());
  BOOST_TEST(recorded[0]);
  BOOST_TEST(!recorded[1]);
  BOOST_TEST(!recorded[2]);
  BOOST_TEST(recorded[3]);
  const auto events = reclaim::read_events(journal, {});
  BOOST_TEST_REQUIRE(events.size() == 3u);
  BOOST_TEST(events[1].idempotency_key == "dup-1");
  BOOST_TEST(events[1].current == reclaim::state::terminated); // the first of the two, not the LEAVE
  BOOST_TEST(events[2].idempotency_key == "dup-2");
  BOOST_TEST(reclaim_submit_batch(nullptr, engine, evs, 4) == RECLAIM_OK, last_error());
  BOOST_TEST(reclaim::read_events(journal, {}).size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(submit_refuses_bad_arguments, engine_fixture) {
  struct row {
    const char *name;
    void (*spoil)(reclaim_event &);
    int status;
    const char *mentions;
  };
  static const reclaim_attribute nameless[] = {{nullptr, nullptr, 0}};
  const row rows[] = {
      {"struct_size 0", [](reclaim_event &e) { e.struct_size = 0; }, RECLAIM_ERR_VERSION, "struct_size"},
      {"struct_size larger", [](reclaim_event &e) { e.struct_size += 8; }, RECLAIM_ERR_VERSION, "struct_size"},
      {"no subject_id", [](reclaim_event &e) { e.subject_id = nullptr; }, RECLAIM_ERR_INVALID_ARGUMENT,
       "subject_id"},
      {"empty subject_id", [](reclaim_event &e) { e.subject_id = ""; }, RECLAIM_ERR_INVALID_ARGUMENT,
       "subject_id"},
      {"no source", [](reclaim_event &e) { e.source = nullptr; }, RECLAIM_ERR_INVALID_ARGUMENT, "source"},
      {"empty source", [](reclaim_event &e) { e.source = ""; }, RECLAIM_ERR_INVALID_ARGUMENT, "source"},
      {"no key", [](reclaim_event &e) { e.idempotency_key = nullptr; }, RECLAIM_ERR_INVALID_ARGUMENT,
       "idempotency_key"},
      {"empty key", [](reclaim_event &e) { e.idempotency_key = ""; }, RECLAIM_ERR_INVALID_ARGUMENT,
       "idempotency_key"},
      {"state none", [](reclaim_event &e) { e.state = RECLAIM_STATE_NONE; }, RECLAIM_ERR_INVALID_ARGUMENT,
       "event.state 0"},
      {"state 8", [](reclaim_event &e) { e.state = 8; }, RECLAIM_ERR_INVALID_ARGUMENT, "event.state 8"},
      {"state -1", [](reclaim_event &e) { e.state = -1; }, RECLAIM_ERR_INVALID_ARGUMENT, "event.state -1"},
      {"state 9999", [](reclaim_event &e) { e.state = 9999; }, RECLAIM_ERR_INVALID_ARGUMENT,
       "event.state 9999"},
      {"previous -1", [](reclaim_event &e) { e.previous_state = -1; }, RECLAIM_ERR_INVALID_ARGUMENT,
       "previous_state -1"},
      {"previous 8", [](reclaim_event &e) { e.previous_state = 8; }, RECLAIM_ERR_INVALID_ARGUMENT,
       "previous_state 8"},
      {"attributes NULL, count 1", [](reclaim_event &e) { e.attribute_count = 1; },
       RECLAIM_ERR_INVALID_ARGUMENT, "attributes"},
      {"attribute without name",
       [](reclaim_event &e) {
         e.attributes = nameless;
         e.attribute_count = 1;
       },
       RECLAIM_ERR_INVALID_ARGUMENT, "attribute name"},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.name) {
      reclaim_event ev = event(r.name);
      r.spoil(ev);
      bool recorded = true;
      BOOST_TEST(reclaim_submit(&recorded, engine, &ev) == r.status);
      BOOST_TEST(!recorded);
      BOOST_TEST(contains(last_error(), r.mentions), last_error());
    }
  }
  reclaim_event ev = event();
  bool recorded = true;
  BOOST_TEST(reclaim_submit(&recorded, nullptr, &ev) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(!recorded);
  BOOST_TEST(contains(last_error(), "engine"));
  BOOST_TEST(reclaim_submit(&recorded, engine, nullptr) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "event"));
  // Nothing reached the journal.
  BOOST_TEST((!std::filesystem::exists(journal) || reclaim::read_events(journal, {}).empty()));
}

BOOST_FIXTURE_TEST_CASE(ldap_submit_refuses_bad_arguments_and_journals_good_ones, engine_fixture) {
  const char *classes[] = {"inetOrgPerson"};
  const char *uuid[] = {"u1"};
  const char *csn[] = {"20261127230108.000001Z#000000#000#000000"};
  const reclaim_attribute attrs[] = {{"objectClass", classes, 1}, {"entryUUID", uuid, 1}, {"entryCSN", csn, 1}};
  const reclaim_ldap_entry good = {"cn=Ann,ou=People,dc=example,dc=com", attrs, 3};
  const reclaim_ldap_entry no_dn = {nullptr, attrs, 3};
  const reclaim_attribute nameless_attrs[] = {{nullptr, classes, 1}};
  const reclaim_ldap_entry nameless = {"cn=Ann,ou=People,dc=example,dc=com", nameless_attrs, 1};

  reclaim_ldap_change c = RECLAIM_LDAP_CHANGE_INIT;
  c.operation = RECLAIM_LDAP_ADD;
  c.after = &good;
  BOOST_TEST(reclaim_ldap_submit(nullptr, &c) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(reclaim_ldap_submit(engine, nullptr) == RECLAIM_ERR_INVALID_ARGUMENT);
  auto with = [&](auto spoil) {
    reclaim_ldap_change bad = c;
    spoil(bad);
    return reclaim_ldap_submit(engine, &bad);
  };
  BOOST_TEST(with([](reclaim_ldap_change &b) { b.struct_size = 0; }) == RECLAIM_ERR_VERSION);
  BOOST_TEST(with([](reclaim_ldap_change &b) { b.operation = 0; }) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "operation"));
  BOOST_TEST(with([](reclaim_ldap_change &b) { b.operation = 5; }) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(with([](reclaim_ldap_change &b) { b.phase = 0; }) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "phase"));
  BOOST_TEST(with([](reclaim_ldap_change &b) { b.phase = 4; }) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(with([&](reclaim_ldap_change &b) { b.after = &no_dn; }) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "dn"));
  BOOST_TEST(with([&](reclaim_ldap_change &b) { b.before = &nameless; }) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(contains(last_error(), "attribute name"));
  BOOST_TEST(reclaim_flush(engine, 10'000) == RECLAIM_OK);
  BOOST_TEST((!std::filesystem::exists(journal) || reclaim::read_events(journal, {}).empty()));

  BOOST_TEST(reclaim_ldap_submit(engine, &c) == RECLAIM_OK, last_error());
  BOOST_TEST(reclaim_ldap_submit(engine, &c) == RECLAIM_OK); // seen twice
  BOOST_TEST(reclaim_flush(engine, 10'000) == RECLAIM_OK);
  const auto events = reclaim::read_events(journal, {});
  BOOST_TEST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].subject_id == "u1");
  BOOST_TEST(events[0].current == reclaim::state::active);
  BOOST_TEST(events[0].previous == reclaim::state::none);
}

// Runs body (which returns a reclaim status) in a child process, so a crash
// cannot take the test binary down. Returns the status, or -1 when the
// child crashed. The child restores default signal handling (Boost.Test
// would otherwise carry on running the suite in the child) and offsets
// its exit code so a sanitizer's exit code 1 is not read as status 1.
template <typename F> int in_child(F &&body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
    ::_exit(100 + body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) >= 100) return WEXITSTATUS(status) - 100;
  return -1;
}

// "NULL where not allowed" is RECLAIM_ERR_INVALID_ARGUMENT, as it already
// is for event.attributes; the same holds one level down.
BOOST_FIXTURE_TEST_CASE(null_arrays_with_a_count_are_refused_not_crashed, engine_fixture) {
  reclaim_engine *e = engine;
  int rc = in_child([e] {
               const reclaim_attribute attrs[] = {{"departmentNumber", nullptr, 2}};
               reclaim_event ev = RECLAIM_EVENT_INIT;
               ev.subject_id = "u1";
               ev.source = "hr";
               ev.state = RECLAIM_STATE_ACTIVE;
               ev.idempotency_key = "k-null-values";
               ev.attributes = attrs;
               ev.attribute_count = 1;
               return reclaim_submit(nullptr, e, &ev);
             });
  BOOST_TEST(rc == RECLAIM_ERR_INVALID_ARGUMENT,
             "reclaim_submit, attribute.values NULL with value_count 2: got " << rc << " (-1: crashed)");
  rc = in_child([e] {
               const reclaim_attribute attrs[] = {{"objectClass", nullptr, 1}};
               const reclaim_ldap_entry entry = {"cn=Ann,ou=People,dc=example,dc=com", attrs, 1};
               reclaim_ldap_change c = RECLAIM_LDAP_CHANGE_INIT;
               c.operation = RECLAIM_LDAP_ADD;
               c.after = &entry;
               return reclaim_ldap_submit(e, &c);
             });
  BOOST_TEST(rc == RECLAIM_ERR_INVALID_ARGUMENT,
             "reclaim_ldap_submit, attribute.values NULL with value_count 1: got " << rc << " (-1: crashed)");
  rc = in_child([e] {
               const reclaim_ldap_entry entry = {"cn=Ann,ou=People,dc=example,dc=com", nullptr, 3};
               reclaim_ldap_change c = RECLAIM_LDAP_CHANGE_INIT;
               c.operation = RECLAIM_LDAP_ADD;
               c.after = &entry;
               return reclaim_ldap_submit(e, &c);
             });
  BOOST_TEST(rc == RECLAIM_ERR_INVALID_ARGUMENT,
             "reclaim_ldap_submit, entry.attributes NULL with attribute_count 3: got " << rc << " (-1: crashed)");
}

// A state_dir that cannot be created is the state store failing (an
// environment problem the operator fixes), not RECLAIM_ERR_INTERNAL ("a
// bug in reclaim: please report").
BOOST_FIXTURE_TEST_CASE(open_with_an_unusable_state_dir_is_a_store_error, abi_fixture) {
  write_file(dir / "a-file", "", 0600u);
  const auto state_dir = (dir / "a-file" / "state").string();
  write_file(config, "[engine]\nstate_dir = \"" + state_dir + "\"\n" + reclaim::unit::ldap_section, 0600u);
  const int rc = open_path(config);
  BOOST_TEST(rc == RECLAIM_ERR_STORE, "status " << rc << " (" << reclaim_strerror(rc) << "): " << last_error());
  BOOST_TEST(contains(last_error(), state_dir), last_error());
}

BOOST_FIXTURE_TEST_CASE(attribute_names_and_flush_arguments, engine_fixture) {
  const char *const *names = nullptr;
  size_t count = 0;
  BOOST_TEST(reclaim_ldap_attribute_names(nullptr, &count, engine) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(reclaim_ldap_attribute_names(&names, &count, nullptr) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(reclaim_ldap_attribute_names(&names, &count, engine) == RECLAIM_OK);
  BOOST_TEST_REQUIRE(names != nullptr);
  size_t n = 0;
  while (names[n] != nullptr) ++n;
  BOOST_TEST(n == count);
  BOOST_TEST(count >= 3u);
  BOOST_TEST(std::string(names[0]) == "objectClass");
  BOOST_TEST(reclaim_ldap_attribute_names(&names, nullptr, engine) == RECLAIM_OK);
  BOOST_TEST(reclaim_flush(nullptr, 0) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(reclaim_flush(engine, 0) == RECLAIM_OK);
}

namespace {

int failing_search(const char *, const char *, const char *const *, reclaim_ldap_entry_fn, void *, void *payload) {
  ++*static_cast<int *>(payload);
  return 1;
}

int one_person_search(const char *base, const char *, const char *const *attributes,
                      reclaim_ldap_entry_fn on_entry, void *entry_payload, void *payload) {
  ++*static_cast<int *>(payload);
  if (base == nullptr || attributes == nullptr || attributes[0] == nullptr) return 1;
  const char *classes[] = {"person"};
  const char *uuid[] = {"u9"};
  const reclaim_attribute attrs[] = {{"objectClass", classes, 1}, {"entryUUID", uuid, 1}};
  const reclaim_ldap_entry e = {"cn=Zed,ou=People,dc=example,dc=com", attrs, 2};
  on_entry(&e, entry_payload);
  return 0;
}

int nameless_entry_search(const char *, const char *, const char *const *, reclaim_ldap_entry_fn on_entry,
                          void *entry_payload, void *) {
  const reclaim_ldap_entry e = {nullptr, nullptr, 0};
  on_entry(&e, entry_payload);
  return 0;
}

} // namespace

// A bad entry from the host's search fails the catch-up as a search
// failure; nothing unwinds through the host's frames.
BOOST_FIXTURE_TEST_CASE(catch_up_with_an_entry_without_dn_is_a_search_failure, engine_fixture) {
  size_t recorded = 99;
  BOOST_TEST(reclaim_ldap_catch_up(&recorded, engine, nameless_entry_search, nullptr) == RECLAIM_ERR_SEARCH);
  BOOST_TEST(recorded == 0u);
  BOOST_TEST(!last_error().empty());
}

BOOST_FIXTURE_TEST_CASE(catch_up_arguments_and_a_failing_search, engine_fixture) {
  int calls = 0;
  size_t recorded = 99;
  BOOST_TEST(reclaim_ldap_catch_up(&recorded, nullptr, one_person_search, &calls) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(recorded == 0u);
  BOOST_TEST(reclaim_ldap_catch_up(&recorded, engine, nullptr, &calls) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(calls == 0);

  recorded = 99;
  BOOST_TEST(reclaim_ldap_catch_up(&recorded, engine, failing_search, &calls) == RECLAIM_ERR_SEARCH);
  BOOST_TEST(recorded == 0u);
  BOOST_TEST(calls == 1);
  BOOST_TEST(contains(last_error(), "dc=example,dc=com"), last_error());

  // The baseline after the failure still works and records no events.
  BOOST_TEST(reclaim_ldap_catch_up(&recorded, engine, one_person_search, &calls) == RECLAIM_OK, last_error());
  BOOST_TEST(recorded == 0u);
  BOOST_TEST(reclaim_ldap_catch_up(nullptr, engine, one_person_search, &calls) == RECLAIM_OK);
  BOOST_TEST(reclaim::read_events(journal, {}).empty());
}

// Every directory operation's callback calls reclaim_ldap_refresh; with
// nothing to read again it neither searches nor fails, and clears the
// thread's last error like any successful call.
BOOST_FIXTURE_TEST_CASE(refresh_with_nothing_wanted_searches_nothing, engine_fixture) {
  int calls = 0;
  size_t recorded = 99;
  BOOST_TEST(reclaim_ldap_catch_up(&recorded, nullptr, one_person_search, &calls) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(!last_error().empty());
  BOOST_TEST(reclaim_ldap_refresh(&recorded, engine, one_person_search, &calls) == RECLAIM_OK, last_error());
  BOOST_TEST(recorded == 0u);
  BOOST_TEST(calls == 0);
  BOOST_TEST(last_error().empty());
  BOOST_TEST(reclaim_ldap_refresh(&recorded, engine, nullptr, &calls) == RECLAIM_ERR_INVALID_ARGUMENT);
  BOOST_TEST(reclaim_ldap_refresh(&recorded, nullptr, one_person_search, &calls) == RECLAIM_ERR_INVALID_ARGUMENT);
}



namespace {

// Scheduling policy (stat field 41) and nice (field 19) of this process's
// thread named `name`, or nullopt while it does not exist yet.
std::optional<std::pair<int, int>> thread_priority(const std::string &name) {
  for (const auto &task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::vector<std::string> f((std::istream_iterator<std::string>(fields)), std::istream_iterator<std::string>());
    if (f.size() < 39) return std::nullopt;
    return std::make_pair(std::stoi(f[38]), std::stoi(f[16])); // fields 41 and 19, counted from 3
  }
  return std::nullopt;
}

std::optional<std::pair<int, int>> wait_for_thread(const std::string &name) {
  for (int i = 0; i < 200; ++i) {
    if (auto p = thread_priority(name)) return p;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

} // namespace

// The engine's threads yield to the host's: SCHED_IDLE by default, nice +10
// with background_priority = "nice".
BOOST_FIXTURE_TEST_CASE(engine_threads_run_at_idle_priority, abi_fixture) {
  for (const bool idle : {true, false}) {
    write_file(config,
               "[engine]\nstate_dir = \"" + (dir / "state").string() + "\"\n" +
                   (idle ? "" : "background_priority = \"nice\"\n") + reclaim::unit::ldap_section,
               0600u);
    reclaim_engine *e = open();
    const auto journal_thread = wait_for_thread("reclaim-journal");
    BOOST_TEST_REQUIRE(journal_thread.has_value());
    // Set by the thread itself as it starts: give it a moment.
    auto p = *journal_thread;
    for (int i = 0; i < 100 && p.first != (idle ? SCHED_IDLE : SCHED_OTHER); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      p = thread_priority("reclaim-journal").value_or(p);
    }
    BOOST_TEST(p.first == (idle ? SCHED_IDLE : SCHED_OTHER));
    if (!idle) BOOST_TEST(p.second == 10);
    reclaim_engine_close(e);
  }
}

namespace {

// Whether another connection gets the store's write lock within a second.
int try_write_lock(const std::string &path) {
  sqlite3 *db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  sqlite3_close(db);
  return rc;
}

// A directory of `people` persons (the first `leavers` of them leavers,
// all changed at `csn_prefix`); at entry `probe` the search asks whether
// the store can be written by someone else while the host is mid-search.
struct big_directory {
  std::string journal;
  int people = 0, leavers = 0, probe = -1;
  std::string csn_prefix = "20261201000000";
  int probe_rc = -1;
};

int big_directory_search(const char *base, const char *, const char *const *, reclaim_ldap_entry_fn on_entry,
                         void *entry_payload, void *payload) {
  auto *d = static_cast<big_directory *>(payload);
  if (std::string_view(base) != "dc=example,dc=com") return 0; // cn=config, pending deletes
  const char *classes[] = {"person"};
  const char *leaver[] = {"leaver"};
  for (int i = 0; i < d->people; ++i) {
    const auto uuid = fmt::format("uuid-{}", i);
    const auto dn = fmt::format("cn=p{},ou=People,dc=example,dc=com", i);
    const auto csn = fmt::format("{}.{:06d}Z#000000#000#000000", d->csn_prefix, i);
    const char *u[] = {uuid.c_str()};
    const char *c[] = {csn.c_str()};
    const reclaim_attribute attrs[] = {
        {"objectClass", classes, 1}, {"entryUUID", u, 1}, {"entryCSN", c, 1}, {"employeeType", leaver, 1}};
    const reclaim_ldap_entry e = {dn.c_str(), attrs, i < d->leavers ? 4u : 3u};
    on_entry(&e, entry_payload);
    if (i == d->probe) d->probe_rc = try_write_lock(d->journal);
  }
  return 0;
}

} // namespace

// Catch-up on a large directory writes in bounded batches between the
// host's results: the store's write lock is never held while the host
// searches (it was, for the whole search, and the planner thread's open
// timed out behind it and took slapd down).
BOOST_FIXTURE_TEST_CASE(catch_up_of_a_large_directory_never_holds_the_store_during_the_search, engine_fixture) {
  big_directory d;
  d.journal = journal;
  d.people = 20000;
  d.probe = 12345;
  size_t recorded = 99;
  BOOST_TEST(reclaim_ldap_catch_up(&recorded, engine, big_directory_search, &d) == RECLAIM_OK, last_error());
  BOOST_TEST(recorded == 0u); // the baseline records no events
  BOOST_TEST(d.probe_rc == SQLITE_OK, "write lock during the baseline search: " << sqlite3_errstr(d.probe_rc));
  {
    reclaim::journal j(journal, reclaim::sqlite::durability::normal);
    BOOST_TEST(j.has_baseline());
    BOOST_TEST(j.subject("uuid-0").has_value());
    BOOST_TEST(j.subject("uuid-19999").has_value());
  }

  // Later, 700 of them left while the plugin was not loaded.
  d.leavers = 700;
  d.csn_prefix = "20261202000000";
  d.probe = 15000;
  d.probe_rc = -1;
  BOOST_TEST(reclaim_ldap_catch_up(&recorded, engine, big_directory_search, &d) == RECLAIM_OK, last_error());
  BOOST_TEST(recorded == 700u);
  BOOST_TEST(d.probe_rc == SQLITE_OK, "write lock during the catch-up search: " << sqlite3_errstr(d.probe_rc));
  BOOST_TEST(reclaim::read_events(journal, {}).size() == 700u);
}

// The store locked by another process for longer than the busy timeout
// (10 s) while the engine starts: its threads log the failure, retry, and
// carry on once the store is free. Before, the planner thread's open threw
// out of the thread: std::terminate, and slapd died.
BOOST_FIXTURE_TEST_CASE(engine_threads_survive_a_store_locked_past_the_busy_timeout, abi_fixture) {
  reclaim_engine_close(open()); // creates the store
  sqlite3 *holder = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_open(journal.c_str(), &holder) == SQLITE_OK);
  BOOST_TEST_REQUIRE(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);

  reclaim::unit::log_capture log;
  reclaim_engine *e = open_logged(log);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(25);
  while (!log.contains("database is locked") && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_TEST(log.contains("database is locked"));
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);

  reclaim_event ev = termination("after-the-lock");
  bool recorded = false;
  BOOST_TEST(reclaim_submit(&recorded, e, &ev) == RECLAIM_OK, last_error());
  BOOST_TEST(reclaim_flush(e, 60000) == RECLAIM_OK, last_error());
  reclaim_engine_close(e);
  BOOST_TEST(reclaim::read_events(journal, {}).size() == 1u);
}

// The store deleted under a running engine: submissions fail loudly instead
// of going into a file nobody will ever read again.
BOOST_FIXTURE_TEST_CASE(a_store_deleted_under_the_engine_is_refused_loudly, abi_fixture) {
  reclaim::unit::log_capture log;
  reclaim_engine *e = open_logged(log);
  reclaim_event ev = termination("before");
  bool recorded = false;
  BOOST_TEST(reclaim_submit(&recorded, e, &ev) == RECLAIM_OK, last_error());
  std::filesystem::remove(journal);
  ev.idempotency_key = "after";
  BOOST_TEST(reclaim_submit(&recorded, e, &ev) == RECLAIM_ERR_STORE);
  BOOST_TEST(contains(last_error(), "deleted or replaced"), last_error());
  BOOST_TEST(log.contains("ALERT: the state store"));
  reclaim_engine_close(e);
}

// A damaged store is refused at open with what to do about it.
BOOST_FIXTURE_TEST_CASE(a_corrupt_store_is_refused_at_open, abi_fixture) {
  {
    reclaim_engine *e = open();
    for (int i = 0; i < 3000; ++i) {
      const auto key = "k" + std::to_string(i);
      const reclaim_event ev = termination(key.c_str());
      BOOST_TEST_REQUIRE(reclaim_submit(nullptr, e, &ev) == RECLAIM_OK, last_error());
    }
    reclaim_engine_close(e);
  }
  reclaim::unit::damage_store(journal);
  reclaim_open_options o = RECLAIM_OPEN_OPTIONS_INIT;
  o.config_path = config.c_str();
  BOOST_TEST(open_status(&o) == RECLAIM_ERR_STORE);
  BOOST_TEST(contains(last_error(), "corrupt"), last_error());
  BOOST_TEST(contains(last_error(), ".recover"), last_error());
}

// A store that had a baseline, deleted between two runs: the next catch-up
// does not silently record a fresh baseline over its history (its plans are
// gone); once the operator allows it (reclaimctl store rebaseline removes
// the marker), it does.
BOOST_FIXTURE_TEST_CASE(no_silent_baseline_where_a_store_with_history_was, abi_fixture) {
  int calls = 0;
  size_t recorded = 0;
  {
    reclaim_engine *e = open();
    BOOST_TEST(reclaim_ldap_catch_up(&recorded, e, one_person_search, &calls) == RECLAIM_OK, last_error());
    reclaim_engine_close(e);
  }
  const auto marker = reclaim::store::history_marker(journal);
  BOOST_TEST(std::filesystem::exists(marker));
  for (const char *suffix : {"", "-wal", "-shm"}) std::filesystem::remove(journal + suffix);

  reclaim_engine *e = open();
  BOOST_TEST(reclaim_ldap_catch_up(&recorded, e, one_person_search, &calls) != RECLAIM_OK);
  BOOST_TEST(contains(last_error(), "refusing to record a new baseline"), last_error());
  BOOST_TEST(contains(last_error(), "reclaimctl store rebaseline"), last_error());
  std::filesystem::remove(marker); // what `reclaimctl store rebaseline` does, after its audit record
  BOOST_TEST(reclaim_ldap_catch_up(&recorded, e, one_person_search, &calls) == RECLAIM_OK, last_error());
  reclaim_engine_close(e);
  BOOST_TEST(std::filesystem::exists(marker));
}

BOOST_AUTO_TEST_SUITE_END()
