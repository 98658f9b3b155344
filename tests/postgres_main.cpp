#define BOOST_TEST_MODULE threadsd postgres tests
#include <boost/test/unit_test.hpp>
