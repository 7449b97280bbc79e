// test_clock.cpp — plugin/base/clock: the pinnable clock, UTC formatting and
// ISO 8601 durations (parse_duration), which catch_up_margin uses.
#include "base/clock.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string>

using namespace std::chrono_literals;
using reclaim::parse_duration;

BOOST_AUTO_TEST_SUITE(time_and_durations)

BOOST_AUTO_TEST_CASE(durations_accepted) {
  struct row {
    const char *text;
    std::chrono::milliseconds expected;
  };
  const row rows[] = {
      {"PT5M", 5min},
      {"P30D", std::chrono::days{30}},
      {"P1W", std::chrono::weeks{1}},
      {"PT0.5S", 500ms},
      {"P1DT2H", std::chrono::days{1} + 2h},
      {"PT1H30M15S", 1h + 30min + 15s},
      {"PT0S", 0ms},
      {"P2W3D", std::chrono::days{17}},
      {"PT0.001S", 1ms},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("duration " << r.text) {
      const auto d = parse_duration(r.text);
      BOOST_TEST_REQUIRE(d.has_value());
      BOOST_TEST(d->count() == r.expected.count());
    }
  }
}

BOOST_AUTO_TEST_CASE(durations_refused) {
  const char *rows[] = {
      "",        // empty
      "P",       // no component
      "PT",      // no time component
      "5M",      // no P designator
      "P1Y",     // years: ambiguous length
      "P1M",     // months: ambiguous length (M before T)
      "P-1D",    // negative
      "PT-5M",   // negative
      "PT1H2D",  // day after T
      "PT1D",    // day in the time part
      "P1H",     // hour before T
      "P1DTT1H", // two Ts
      "p1d",     // designators are upper case
      "PT5",     // number without unit
      "P1D ",    // trailing space
      "PT5 M",   // space inside
      "P40000D", // more than the 100-year ceiling
  };
  for (const char *text : rows) {
    BOOST_TEST_CONTEXT("duration \"" << text << "\"") {
      BOOST_TEST(!parse_duration(text).has_value());
    }
  }
}

// Not numbers in the ISO 8601 sense, though std::from_chars reads them.
BOOST_AUTO_TEST_CASE(durations_refuse_nan_and_infinity) {
  for (const char *text : {"PTnanS", "PTNANS", "PTinfS", "PnanD", "PTinfinityS"}) {
    BOOST_TEST_CONTEXT("duration \"" << text << "\"") {
      const auto d = parse_duration(text);
      BOOST_TEST(!d.has_value(), "accepted as " << (d ? d->count() : 0) << " ms");
    }
  }
}

// ISO 8601 designators come once each, in order (W or D, then T and H, M,
// S), a T is followed by a time component, and numbers are decimal digits.
BOOST_AUTO_TEST_CASE(durations_refuse_malformed_iso8601) {
  for (const char *text : {"P1DT", "PT1S1M", "PT1M1H", "P1D1D", "PT1e3S"}) {
    BOOST_TEST_CONTEXT("duration \"" << text << "\"") {
      const auto d = parse_duration(text);
      BOOST_TEST(!d.has_value(), "accepted as " << (d ? d->count() : 0) << " ms");
    }
  }
}

BOOST_AUTO_TEST_CASE(fixed_now_pins_and_releases_the_clock) {
  const auto pinned = reclaim::from_unix_ms(1'800'000'000'123);
  reclaim::set_fixed_now(pinned);
  BOOST_TEST(reclaim::to_unix_ms(reclaim::now()) == 1'800'000'000'123);
  BOOST_TEST(reclaim::to_unix_ms(reclaim::now()) == 1'800'000'000'123);
  reclaim::set_fixed_now(std::nullopt);
  const auto real = std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now());
  BOOST_TEST(std::chrono::abs(reclaim::now() - real).count() < 10'000);
}

BOOST_AUTO_TEST_CASE(unix_ms_round_trip_and_utc_format) {
  struct row {
    int64_t ms;
    const char *text;
  };
  const row rows[] = {
      {0, "1970-01-01T00:00:00.000Z"},
      {1'795'820'468'669, "2026-11-27T23:01:08.669Z"},
      {951'782'400'001, "2000-02-29T00:00:00.001Z"},
      {-1, "1969-12-31T23:59:59.999Z"},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT("ms " << r.ms) {
      const auto t = reclaim::from_unix_ms(r.ms);
      BOOST_TEST(reclaim::to_unix_ms(t) == r.ms);
      BOOST_TEST(reclaim::format_utc(t) == r.text);
    }
  }
}

// Issue 12: each field is exactly its digits (from_chars stopped early at
// "1x", took "-1" as a number and ".-99" as a fraction), the year is in the
// documented range, and the date exists.
BOOST_AUTO_TEST_CASE(utc_times_refused) {
  const char *rows[] = {
      "2020-01-01T1x:00:00Z",     // hour not all digits
      "2020-01-01T-1:00:00Z",     // signed hour
      "2020-01-01T00:00:00.-99Z", // signed fraction
      "2020-01-01T00:00:00.1x2Z", // fraction not all digits
      "+020-01-01T00:00:00Z",     // signed year
      "2020-1-01T00:00:00Z",      // short month
      "2020-01-01 00:00:00Z",     // space for T
      "2020-01-01T00:00:00",      // no Z
      "2020-01-01T00:00:00.12Z",  // two fraction digits
      "2020-01-01T00:00:00.1234Z",
      "2020-02-30T00:00:00Z",     // no such day
      "2021-02-29T00:00:00Z",     // not a leap year
      "2020-13-01T00:00:00Z",
      "2020-00-01T00:00:00Z",
      "2020-01-00T00:00:00Z",
      "2020-01-01T24:00:00Z",
      "2020-01-01T00:60:00Z",
      "2020-01-01T00:00:60Z",
      "1969-12-31T23:59:59Z",     // before the range
      "0000-01-01T00:00:00Z",
      "2020-01-01T00:00:00ZZ",
  };
  for (const char *text : rows) {
    BOOST_TEST_CONTEXT("time \"" << text << "\"") {
      const auto t = reclaim::parse_utc(text);
      BOOST_TEST(!t.has_value(), "accepted as " << (t ? reclaim::to_unix_ms(*t) : 0) << " ms");
    }
  }
}

// The whole accepted range prints and reads back, years after 2262 too
// (fmt's chrono went through nanoseconds and overflowed there).
BOOST_AUTO_TEST_CASE(utc_times_round_trip_over_the_whole_range) {
  const char *rows[] = {"1970-01-01T00:00:00.000Z", "2000-02-29T12:34:56.789Z", "2262-04-11T23:47:16.855Z",
                        "2262-04-12T00:00:00.000Z", "3000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"};
  for (const char *text : rows) {
    BOOST_TEST_CONTEXT("time " << text) {
      const auto t = reclaim::parse_utc(text);
      BOOST_TEST_REQUIRE(t.has_value());
      BOOST_TEST(reclaim::format_utc(*t) == text);
    }
  }
  BOOST_TEST(reclaim::to_unix_ms(*reclaim::parse_utc("9999-12-31T23:59:59.999Z")) == 253'402'300'799'999);
  BOOST_TEST(reclaim::to_unix_ms(*reclaim::parse_utc("2026-11-27T23:01:08Z")) == 1'795'820'468'000);
}

// Any time_point the engine can hold prints, without overflow; outside
// 0000-9999 in ISO 8601's expanded form.
BOOST_AUTO_TEST_CASE(format_utc_is_defined_for_every_time_point) {
  using reclaim::format_utc, reclaim::from_unix_ms;
  BOOST_TEST(format_utc(from_unix_ms(INT64_MAX)) == "+292278994-08-17T07:12:55.807Z");
  BOOST_TEST(format_utc(from_unix_ms(INT64_MIN)) == "-292275055-05-16T16:47:04.192Z");
  BOOST_TEST(format_utc(from_unix_ms(253'402'300'800'000)) == "+10000-01-01T00:00:00.000Z");
  BOOST_TEST(format_utc(from_unix_ms(-62'167'219'200'000)) == "0000-01-01T00:00:00.000Z");
  BOOST_TEST(format_utc(from_unix_ms(-62'167'219'200'001)) == "-0001-12-31T23:59:59.999Z");
}

BOOST_AUTO_TEST_CASE(huge_durations_are_refused_not_wrapped) {
  for (const char *text : {"P99999999999999W", "P99999999999999999999999999D", "PT1e400S",
                           "PT99999999999999999999999999999999999999999999999999999999S", "P5300W"}) {
    BOOST_TEST_CONTEXT("duration \"" << text << "\"") {
      const auto d = parse_duration(text);
      BOOST_TEST(!d.has_value(), "accepted as " << (d ? d->count() : 0) << " ms");
    }
  }
  // A fraction needs digits on both sides of the point.
  for (const char *text : {"PT.5S", "PT5.S", "PT1..5S"}) BOOST_TEST(!parse_duration(text).has_value(), text);
  BOOST_TEST(parse_duration("P5200W")->count() == 5200LL * 7 * 86400 * 1000);
}

BOOST_AUTO_TEST_SUITE_END()
