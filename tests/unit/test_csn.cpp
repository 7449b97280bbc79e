// test_csn.cpp — ldap/csn: entryCSN parsing and stepping back for the
// catch-up filter.
#include "base/clock.hpp"
#include "ldap/csn.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;
using reclaim::ldap::csn_minus;
using reclaim::ldap::parse_csn;

namespace {
int64_t unix_ms(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms) {
  const auto day = std::chrono::sys_days{std::chrono::year{y} / mo / d};
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             (day + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s} +
              std::chrono::milliseconds{ms})
                 .time_since_epoch())
      .count();
}

// YYYYmmddHHMMSS.ffffffZ#cccccc#sss#mmmmmm (no std::regex: GCC 12 warns
// inside it under -fsanitize, and warnings are errors).
bool looks_like_csn(const std::string &s) {
  const std::string shape = "dddddddddddddd.ddddddZ#xxxxxx#xxx#xxxxxx";
  if (s.size() != shape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool digit = c >= '0' && c <= '9';
    const bool ok = shape[i] == 'd'   ? digit
                    : shape[i] == 'x' ? digit || (c >= 'a' && c <= 'f')
                                      : c == shape[i];
    if (!ok) return false;
  }
  return true;
}
} // namespace

BOOST_AUTO_TEST_SUITE(csn)

BOOST_AUTO_TEST_CASE(parse_fields) {
  const auto c = parse_csn("20261127230108.669444Z#000000#000#000000");
  BOOST_TEST_REQUIRE(c.has_value());
  BOOST_TEST(reclaim::to_unix_ms(c->time) == unix_ms(2026, 11, 27, 23, 1, 8, 669));
  BOOST_TEST(c->micros == "669444");
  BOOST_TEST(c->server_id == 0u);
}

BOOST_AUTO_TEST_CASE(server_id_is_hex) {
  struct row {
    const char *text;
    unsigned sid;
  };
  const row rows[] = {
      {"20261127230108.669444Z#000000#001#000000", 1},
      {"20261127230108.669444Z#000000#00a#000000", 10},
      {"20261127230108.669444Z#000000#010#000000", 16},
      {"20261127230108.669444Z#000005#fff#000000", 4095},
      {"20261127230108.669444Z", 0}, // no "#count#sid#mod": id unknown
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.text) {
      const auto c = parse_csn(r.text);
      BOOST_TEST_REQUIRE(c.has_value());
      BOOST_TEST(c->server_id == r.sid);
    }
  }
}

BOOST_AUTO_TEST_CASE(garbage_is_refused) {
  const char *rows[] = {
      "",
      "garbage",
      "20261127230108",                            // no fraction
      "20261127230108.669444#000000#000#000000",   // no Z
      "2026112723010x.669444Z#000000#000#000000",  // not a digit
      "20261327230108.669444Z#000000#000#000000",  // month 13
      "20260230230108.669444Z#000000#000#000000",  // 30 February
      "20261127240108.669444Z#000000#000#000000",  // hour 24
      "20261127236008.669444Z#000000#000#000000",  // minute 60
      "20261127230108,669444Z#000000#000#000000",  // comma
      "20261127230108.66944Z#000000#000#000000",   // five fraction digits
  };
  for (const char *text : rows) {
    BOOST_TEST_CONTEXT("\"" << text << "\"") {
      BOOST_TEST(!parse_csn(text).has_value());
      BOOST_TEST(csn_minus(text, 5min).empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(minus_steps_back_and_keeps_format) {
  struct row {
    const char *text;
    std::chrono::milliseconds margin;
    const char *expected;
  };
  const row rows[] = {
      {"20261127230108.669444Z#000000#001#000000", 5min,
       "20261127225608.669000Z#000000#000#000000"},
      {"20261127230108.669444Z#000003#00a#000000", 0ms,
       "20261127230108.669000Z#000000#000#000000"},
      // across midnight, month end and year end
      {"20270101000100.000000Z#000000#000#000000", 5min,
       "20261231235600.000000Z#000000#000#000000"},
      // across 29 February
      {"20280301000000.500000Z#000000#000#000000", 1s,
       "20280229235959.500000Z#000000#000#000000"},
      {"20261127230108.669444Z#000000#000#000000", std::chrono::days{30},
       "20261028230108.669000Z#000000#000#000000"},
  };
  for (const auto &r : rows) {
    BOOST_TEST_CONTEXT(r.text << " - " << r.margin.count() << " ms") {
      const auto back = csn_minus(r.text, r.margin);
      BOOST_TEST(back == r.expected);
      BOOST_TEST(looks_like_csn(back));
      // The step back never lands after the original (an entryCSN>= filter
      // built from it must include the original change).
      BOOST_TEST(back <= std::string(r.text));
      // What it produces parses again.
      BOOST_TEST(parse_csn(back).has_value());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// Years a CSN may carry but fmt's chrono cannot print (it overflows outside
// 1678..2262): stepped back by civil-date arithmetic, or "" below year 0.
BOOST_AUTO_TEST_CASE(csn_minus_at_the_ends_of_the_calendar) {
  BOOST_TEST(reclaim::ldap::csn_minus("99991231235959.999999Z#000000#000#000000", std::chrono::minutes(5)) ==
             "99991231235459.999000Z#000000#000#000000");
  BOOST_TEST(reclaim::ldap::csn_minus("00010101000000.000000Z#000000#000#000000", std::chrono::minutes(5)) ==
             "00001231235500.000000Z#000000#000#000000");
  BOOST_TEST(reclaim::ldap::csn_minus("00000101000100.000000Z#000000#000#000000", std::chrono::minutes(5)).empty());
}
