#define BOOST_TEST_MODULE threadsd store tests
#include <boost/test/unit_test.hpp>
