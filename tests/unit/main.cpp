// main.cpp — the Boost.Test module of unit_tests (the test cases live in
// the test_*.cpp files next to it).
#define BOOST_TEST_MODULE reclaim_unit
#include <boost/test/unit_test.hpp>
