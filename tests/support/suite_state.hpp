#pragma once
// One shared state (typically a running server) for a whole Boost.Test suite.

#include <boost/test/unit_test.hpp>

#include <memory>

namespace threadsd::test {

/// A suite fixture (`*boost::unit_test::fixture<SuiteState<State>>()`) that builds one `State`
/// for the whole suite. A failed start is already reported by the check that failed; it is
/// not rethrown, because Boost 1.81 then aborts the whole run in the fixture's teardown.
/// Each test of the suite fails in get() instead.
template <typename State>
class SuiteState {
  public:
    SuiteState() {
        try {
            state_ = std::make_unique<State>();
        } catch (...) {
        }
        instance_ = state_.get();
    }
    ~SuiteState() { instance_ = nullptr; }
    SuiteState(const SuiteState&) = delete;
    SuiteState& operator=(const SuiteState&) = delete;

    /// The suite's state; fails the test when it could not be built.
    static State& get() {
        BOOST_REQUIRE_MESSAGE(instance_ != nullptr, "the suite's server did not start");
        return *instance_;
    }

  private:
    std::unique_ptr<State> state_;             ///< Null when building it failed.
    static inline State* instance_ = nullptr;  ///< state_ while the suite runs.
};

}  // namespace threadsd::test
