#pragma once

#include <stdexcept>
#include <string>

namespace threadsd::test {

/// Thrown by support code when a step of a test cannot go on; the test case reports it.
struct SupportFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Throws `SupportFailure(what)` unless `ok`. Support code that worker threads call uses
/// this instead of Boost.Test's macros, which write the framework's shared state even when
/// they pass and so race (ThreadSanitizer) outside the test's own thread.
inline void require(bool ok, const std::string& what) {
    if (!ok) {
        throw SupportFailure(what);
    }
}

}  // namespace threadsd::test
