#define BOOST_TEST_MODULE threadsd integration tests
#include <boost/test/unit_test.hpp>
