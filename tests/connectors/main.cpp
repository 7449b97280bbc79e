// main.cpp — the Boost.Test entry point of the connector contract tests.
#define BOOST_TEST_MODULE connectors
#include <boost/test/unit_test.hpp>
