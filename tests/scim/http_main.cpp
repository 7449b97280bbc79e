// http_main.cpp — Boost.Test entry of scimd_http_tests: reclaim-scimd over
// real HTTP on loopback, events read back with reclaimctl.
#define BOOST_TEST_MODULE scimd_http
#include <boost/test/unit_test.hpp>
#include <curl/curl.h>

struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~curl_global() { curl_global_cleanup(); }
};
BOOST_GLOBAL_FIXTURE(curl_global);
