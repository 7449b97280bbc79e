// test_http.cpp — the connectors' HTTP pieces without a network: URL
// policy (https, or http to loopback only), Retry-After in both forms, the
// token bucket and its pause, the token cache (one refresh in flight, a
// refused credential remembered), secret file modes, RS256 signatures that
// OpenSSL verifies, webhook signatures and SCIM error/list parsing; the
// nesting limit on vendor JSON, the Retry-After cap, path segments and the
// failure paths of OpenSSL's random bytes and HMAC.
#include "connectors/webhook_connector.hpp"
#include "http/credentials.hpp"
#include "http/http_client.hpp"
#include "http/jwt.hpp"
#include "http/rate_limiter.hpp"
#include "scim/scim_protocol.hpp"
#include "unit_support.hpp"

#include <boost/test/unit_test.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <atomic>
#include <thread>

using namespace std::chrono_literals;
namespace http = reclaim::http;
using reclaim::unit::temp_dir;

BOOST_AUTO_TEST_SUITE(http_pieces)

BOOST_AUTO_TEST_CASE(only_https_or_loopback_http_is_allowed) {
  for (const char *ok : {"https://graph.microsoft.com/v1.0", "http://127.0.0.1:8080/x", "http://127.9.9.9/",
                         "http://[::1]:99/", "http://localhost/a"})
    BOOST_CHECK_NO_THROW(http::check_url(ok));
  for (const char *bad : {"http://graph.microsoft.com/", "http://10.0.0.1/", "http://128.0.0.1/", "ftp://127.0.0.1/",
                          "file:///etc/passwd", "not a url"})
    BOOST_CHECK_THROW(http::check_url(bad), http::url_refused);
  try {
    http::check_url("http://example.com/");
  } catch (const http::url_refused &e) {
    BOOST_TEST(std::string(e.what()).find("only to loopback") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(retry_after_seconds_or_http_date) {
  BOOST_TEST(http::parse_retry_after("120")->count() == 120'000);
  BOOST_TEST(http::parse_retry_after(" 0 ")->count() == 0);
  BOOST_TEST(!http::parse_retry_after(""));
  BOOST_TEST(!http::parse_retry_after("soon"));
  BOOST_TEST(!http::parse_retry_after("-5"));
  BOOST_TEST(http::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT")->count() == 0); // in the past
  const auto later = std::chrono::system_clock::now() + 90s;
  const auto tt = std::chrono::system_clock::to_time_t(later);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&tt));
  const auto d = http::parse_retry_after(buf);
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST(d->count() > 85'000);
  BOOST_TEST(d->count() <= 90'000);
}

BOOST_AUTO_TEST_CASE(retry_after_is_capped_in_both_forms) {
  const auto day = http::max_retry_after.count();
  BOOST_TEST(day == 86'400'000);
  BOOST_TEST(http::parse_retry_after("86401")->count() == day);
  BOOST_TEST(http::parse_retry_after("99999999999999999999999")->count() == day);
  BOOST_TEST(http::parse_retry_after("Wed, 01 Jan 2200 00:00:00 GMT")->count() == day);
  BOOST_TEST(http::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT")->count() == day);
  BOOST_TEST(http::parse_retry_after("Thu, 01 Jan 1970 00:00:01 GMT")->count() == 0);
  BOOST_TEST(http::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT")->count() == 0);
  // Just under the cap is kept as it is.
  const auto later = std::chrono::system_clock::now() + 23h;
  const auto tt = std::chrono::system_clock::to_time_t(later);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", std::gmtime(&tt));
  const auto d = http::parse_retry_after(buf);
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST(d->count() > 23 * 3'600'000 - 5'000);
  BOOST_TEST(d->count() <= 23 * 3'600'000);
}

namespace {
std::string nested(int depth, const std::string &open = "[", const std::string &close = "]") {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}
} // namespace

BOOST_AUTO_TEST_CASE(vendor_json_deeper_than_the_limit_is_refused_while_parsing) {
  BOOST_TEST(http::max_json_depth == 64);
  BOOST_TEST(http::parse_json(nested(63)).is_array());
  BOOST_TEST(http::parse_json(nested(64)).is_array());
  BOOST_CHECK_THROW(http::parse_json(nested(65)), http::json_too_deep);
  const auto objects = [](int depth) {
    std::string t;
    for (int i = 0; i < depth; ++i) t += "{\"a\":";
    return t + "1" + std::string(size_t(depth), '}');
  };
  BOOST_TEST(http::parse_json(objects(64)).is_object());
  BOOST_CHECK_THROW(http::parse_json(objects(65)), http::json_too_deep);
  // Mixed, and the depth counts nesting, not containers: 100 siblings are fine.
  BOOST_TEST(http::parse_json("{\"x\":[" + nested(62) + "]}").is_object());
  BOOST_CHECK_THROW(http::parse_json("{\"x\":[" + nested(63) + "]}"), http::json_too_deep);
  std::string wide = "[";
  for (int i = 0; i < 100; ++i) wide += std::string(i ? "," : "") + "[[1]]";
  BOOST_TEST(http::parse_json(wide + "]").size() == 100u);
  // 2,000,000 levels (4 MB): refused at once, not a stack overflow.
  const auto t0 = std::chrono::steady_clock::now();
  try {
    http::parse_json(nested(2'000'000));
    BOOST_ERROR("accepted 2,000,000 levels");
  } catch (const http::json_too_deep &e) {
    BOOST_TEST(std::string(e.what()) == "JSON nested deeper than 64 levels; refused");
  }
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
  // Not JSON: a discarded value, as before.
  BOOST_TEST(http::parse_json("<html>").is_discarded());
  BOOST_TEST(http::parse_json(nested(10).substr(0, 15)).is_discarded());
}

BOOST_AUTO_TEST_CASE(vendor_text_is_quoted_bounded_and_printable) {
  BOOST_TEST(http::printable_prefix("plain text") == "plain text");
  BOOST_TEST(http::printable_prefix(std::string("a\nb\x01\xff", 5)) == "a\\x0ab\\x01\\xff");
  BOOST_TEST(http::printable_prefix(std::string(1000, '['), 10) == "[[[[[[[[[[...");
}

BOOST_AUTO_TEST_CASE(dot_segments_are_refused_in_url_paths) {
  for (const char *bad : {"", ".", ".."}) {
    try {
      reclaim::path_segment(bad, "the user key");
      BOOST_ERROR("accepted \"" << bad << "\"");
    } catch (const reclaim::action_failure &e) {
      BOOST_TEST((e.outcome() == reclaim::connector_result::outcome::permanent));
      BOOST_TEST(std::string(e.what()).find("cannot be put in a URL path") != std::string::npos, e.what());
    }
  }
  BOOST_TEST(reclaim::path_segment("...", "k") == "...");
  BOOST_TEST(reclaim::path_segment("a/../b", "k") == "a%2F..%2Fb");
  BOOST_TEST(reclaim::path_segment("u0@contoso.com", "k") == "u0%40contoso.com");
}

BOOST_AUTO_TEST_CASE(loopback_targets_are_recognised_for_the_proxy_rule) {
  for (const char *yes : {"http://127.0.0.1:8080/x", "https://127.3.2.1/", "http://localhost/", "http://[::1]:9/"})
    BOOST_TEST(http::loopback_url(yes), yes);
  for (const char *no : {"https://graph.microsoft.com/", "http://128.0.0.1/", "https://[::2]/", "not a url"})
    BOOST_TEST(!http::loopback_url(no), no);
}

BOOST_AUTO_TEST_CASE(random_bytes_fail_loudly) {
  const auto a = http::random_bytes(16), b = http::random_bytes(16);
  BOOST_TEST(a.size() == 16u);
  BOOST_TEST(a != b);
  // A strength the DRBG cannot give: OpenSSL refuses, and so do we.
  try {
    http::random_bytes(16, 1u << 20);
    BOOST_ERROR("random bytes without the asked strength");
  } catch (const std::runtime_error &e) {
    BOOST_TEST(std::string(e.what()).find("could not give random bytes") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(token_bucket_paces_and_pauses) {
  http::rate_limiter l(100, 5); // 100/s, burst 5
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 25; ++i) l.acquire();
  const auto spent = std::chrono::steady_clock::now() - t0;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(spent).count();
  BOOST_TEST(ms >= 190); // 20 beyond the burst at 100/s
  BOOST_TEST(ms < 600);
  l.pause_for(150ms);
  const auto t1 = std::chrono::steady_clock::now();
  l.acquire();
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t1).count() >= 149);
}

BOOST_AUTO_TEST_CASE(rate_limiter_halves_on_a_refusal_and_grows_back_slowly) {
  http::rate_limiter l(100, 1000); // 100/s, burst 1000
  BOOST_TEST(l.available() < 101); // slow start: one second's worth, not the whole burst
  l.acquire(50);
  l.accepted(50); // until the first refusal, an acceptance adds its cost again
  BOOST_TEST(l.available() >= 100);
  l.throttled();
  BOOST_TEST(l.rate() == 50);
  BOOST_TEST(l.available() < 1); // emptied
  l.throttled(); // the same crowded moment (another worker's answer): counted once
  BOOST_TEST(l.rate() == 50);
  l.accepted(100); // +cost/10 per second
  BOOST_TEST(l.rate() == 60);
  const double before = l.available();
  l.accepted(100); // no slow-start bonus after a refusal
  BOOST_TEST(l.available() < before + 5);
  for (int i = 0; i < 100; ++i) l.accepted(100);
  BOOST_TEST(l.rate() == 100); // never above the configured rate
  http::rate_limiter unlimited(0, 1);
  unlimited.throttled();
  BOOST_TEST(unlimited.rate() == 0); // still unlimited
}

BOOST_AUTO_TEST_CASE(token_cache_refreshes_once_for_many_threads) {
  std::atomic<int> fetches{0};
  http::token_cache cache([&] {
    ++fetches;
    std::this_thread::sleep_for(50ms);
    return http::access_token{"tok-" + std::to_string(fetches.load()), 3600s};
  });
  // Boost.Test's assertions are not thread-safe (a BOOST_TEST on each of
  // these threads raced on its log entry, found by tests/run-tsan.sh): the
  // threads only fetch, the test's own thread checks.
  std::vector<std::string> got(8);
  std::vector<std::thread> ts;
  for (auto &g : got) ts.emplace_back([&cache, &g] { g = cache.get(); });
  for (auto &t : ts) t.join();
  for (const auto &g : got) BOOST_TEST(g == "tok-1");
  BOOST_TEST(fetches == 1);
  cache.invalidate("tok-1");
  BOOST_TEST(cache.get() == "tok-2");
  // A token expiring within the margin is refreshed before use.
  http::token_cache short_lived([&] { ++fetches; return http::access_token{"s", 60s}; }, 120s);
  short_lived.get();
  short_lived.get();
  BOOST_TEST(fetches == 4);
}

BOOST_AUTO_TEST_CASE(refused_credential_is_remembered) {
  int fetches = 0;
  http::token_cache cache([&]() -> http::access_token {
    ++fetches;
    throw http::credential_error("credential refused: AADSTS7000222");
  });
  for (int i = 0; i < 5; ++i) BOOST_CHECK_THROW(cache.get(), http::credential_error);
  BOOST_TEST(fetches == 1);
}

BOOST_AUTO_TEST_CASE(secret_files_must_be_private) {
  temp_dir d;
  reclaim::unit::write_file(d / "ok", "s3cret\n", 0600u);
  BOOST_TEST(http::read_secret_file((d / "ok").string()) == "s3cret");
  reclaim::unit::write_file(d / "open", "s3cret", 0640u);
  try {
    http::read_secret_file((d / "open").string());
    BOOST_ERROR("accepted a group-readable secret");
  } catch (const std::runtime_error &e) {
    BOOST_TEST(std::string(e.what()).find("chmod 600") != std::string::npos, e.what());
  }
  BOOST_CHECK_THROW(http::read_secret_file((d / "missing").string()), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(rs256_signature_verifies_with_openssl) {
  EVP_PKEY *key = EVP_RSA_gen(2048);
  BOOST_TEST_REQUIRE(key != nullptr);
  BIO *bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char *data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  const auto jwt = http::sign_rs256({{"alg", "RS256"}, {"typ", "JWT"}}, {{"iss", "me"}, {"exp", 1}}, pem);
  const auto dot2 = jwt.rfind('.');
  const auto input = jwt.substr(0, dot2);
  auto sig_b64 = jwt.substr(dot2 + 1);
  for (auto &c : sig_b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (sig_b64.size() % 4) sig_b64 += '=';
  std::vector<unsigned char> sig(sig_b64.size());
  const int len = EVP_DecodeBlock(sig.data(), reinterpret_cast<const unsigned char *>(sig_b64.data()),
                                  static_cast<int>(sig_b64.size()));
  BOOST_TEST_REQUIRE(len > 0);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  const int ok = EVP_DigestVerify(ctx, sig.data(), 256, reinterpret_cast<const unsigned char *>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  BOOST_TEST(ok == 1);
  BOOST_CHECK_THROW(http::sign_rs256({}, {}, "not a key"), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(webhook_signature_is_hmac_over_timestamp_and_body) {
  // HMAC-SHA256("key", "1700000000.{}") — computed independently with
  // `printf '1700000000.{}' | openssl dgst -sha256 -hmac key`.
  BOOST_TEST(reclaim::webhook_signature("key", 1700000000, "{}") ==
             "t=1700000000,v1=" + std::string("9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"));
  // OpenSSL's failure is a transient action failure, never an empty signature.
  try {
    reclaim::hmac_hex("NO-SUCH-DIGEST", "key", "text");
    BOOST_ERROR("an HMAC without a digest");
  } catch (const reclaim::action_failure &e) {
    BOOST_TEST((e.outcome() == reclaim::connector_result::outcome::transient));
    BOOST_TEST(std::string(e.what()).find("HMAC-NO-SUCH-DIGEST of the webhook body failed") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(scim_errors_and_lists_are_read_strictly) {
  using nlohmann::json;
  namespace scim = reclaim::scim;
  BOOST_TEST(*scim::parse_error(json::parse(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],
    "status":"400","scimType":"invalidValue","detail":"bad"})")) == "invalidValue: bad (status 400)");
  BOOST_TEST(*scim::parse_error(json::parse(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],
    "status":409})")) == "no detail (status 409)");
  BOOST_TEST(!scim::parse_error(json::parse(R"({"error":"x"})")));
  BOOST_TEST(scim::parse_list(json::parse(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
    "totalResults":0,"Resources":[]})")).empty());
  BOOST_CHECK_THROW(scim::parse_list(json::parse(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
    "totalResults":"1"})")), scim::protocol_error);
  BOOST_CHECK_THROW(scim::parse_list(json::parse(R"({"totalResults":1})")), scim::protocol_error);
  BOOST_CHECK_THROW(scim::parse_user(json::parse(R"({"id":"1","active":"false"})")), scim::protocol_error);
  BOOST_TEST(scim::filter_user_name("a\"b") == R"(userName eq "a\"b")");
}

BOOST_AUTO_TEST_SUITE_END()
