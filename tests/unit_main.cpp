#define BOOST_TEST_MODULE threadsd unit tests
#include <boost/test/unit_test.hpp>
