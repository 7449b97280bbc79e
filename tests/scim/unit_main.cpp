// unit_main.cpp — Boost.Test entry of scimd_unit_tests (lifecycle mapping,
// [scim_server] config, resource store: no network, no engine).
#define BOOST_TEST_MODULE scimd_unit
#include <boost/test/unit_test.hpp>
