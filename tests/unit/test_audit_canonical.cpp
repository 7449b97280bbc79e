// test_audit_canonical.cpp — plugin/audit/canonical_json against RFC 8785:
// the string example of section 3.2.2.2 and the key-sorting example of
// section 3.2.3 (UTF-16 code-unit order), and the checker's refusals.
#include "audit/canonical_json.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>

using namespace reclaim::audit;
using json = nlohmann::json;

BOOST_AUTO_TEST_SUITE(audit_canonical_json)

BOOST_AUTO_TEST_CASE(rfc8785_string_and_literals_example) {
  const auto v = json::parse(R"({"string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]})");
  const std::string want = "{\"literals\":[null,true,false],\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
  BOOST_TEST(canonical(v) == want);
  BOOST_TEST(check_canonical(want) == "");
}

BOOST_AUTO_TEST_CASE(rfc8785_sorting_example) {
  const auto v = json::parse(R"({"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"})");
  const auto out = canonical(v);
  std::vector<std::string> order;
  for (const auto &k : {"\r", "1", "\xC2\x80", "\xC3\xB6", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xEF\xAC\xB3"})
    order.push_back(k);
  size_t at = 0;
  for (const auto &k : order) {
    const auto esc = k == "\r" ? std::string("\\r") : k;
    const auto p = out.find("\"" + esc + "\":");
    BOOST_TEST_REQUIRE(p != std::string::npos);
    BOOST_TEST(p >= at, "key out of RFC 8785 order");
    at = p;
  }
  BOOST_TEST(check_canonical(out) == "");
}

BOOST_AUTO_TEST_CASE(floats_and_unsafe_integers_are_refused) {
  BOOST_CHECK_THROW(canonical(json::parse(R"({"a":1.5})")), canonical_error);
  BOOST_CHECK_THROW(canonical(json{{"a", 9007199254740992}}), canonical_error);
  BOOST_TEST(canonical(json{{"b", -9007199254740991}, {"a", 0}}) == "{\"a\":0,\"b\":-9007199254740991}");
}

BOOST_AUTO_TEST_CASE(checker_refuses_non_canonical_lines) {
  struct row {
    const char *line, *problem;
  };
  const row rows[] = {{R"({"a": 1})", "whitespace"},
                      {R"({"b":1,"a":2})", "keys not in canonical order"},
                      {R"({"a":1,"a":2})", "duplicate key"},
                      {R"({"a":"\u0041"})", "non-canonical \\u escape"},
                      {R"({"a":"\/"})", "non-canonical escape"},
                      {R"({"a":"\u001F"})", "non-canonical \\u escape"},
                      {R"({"a":"\u000a"})", "non-canonical \\u escape"},
                      {R"({"a":1.0})", "floating-point"},
                      {R"({"a":1e3})", "floating-point"},
                      {R"({"a":01})", "leading zero"},
                      {R"({"a":-0})", "negative zero"},
                      {R"({"a":1} )", "trailing"},
                      {"{\"a\":\"\xC3\"}", "UTF-8"},
                      {"{\"a\":\"\xED\xA0\x80\"}", "UTF-8"},
                      {R"([1])", "not a JSON object"}};
  for (const auto &r : rows) {
    const auto p = check_canonical(r.line);
    BOOST_TEST(p.find(r.problem) != std::string::npos, r.line << " -> '" << p << "'");
  }
  std::vector<member_span> top;
  BOOST_TEST(check_canonical(R"({"a":[1,{"c":"\u001f","d":null}],"b":"x\n"})", &top) == "");
  BOOST_TEST(check_canonical("{\"a\":\"x\\ny\"}") == "");
  BOOST_REQUIRE(top.size() == 2u);
  BOOST_TEST(top[1].value == "\"x\\n\"");
}

// std::llabs(INT64_MIN) overflowed (UBSan) before the range was checked.
BOOST_AUTO_TEST_CASE(most_negative_integer_is_refused_without_overflow) {
  BOOST_CHECK_THROW(canonical(json{{"a", INT64_MIN}}), canonical_error);
  BOOST_CHECK_THROW(canonical(json{{"a", -9007199254740992}}), canonical_error);
  BOOST_TEST(canonical(json{{"a", -9007199254740991}}) == R"({"a":-9007199254740991})");
}

BOOST_AUTO_TEST_SUITE_END()
