#include "threadsd/api/expiry_sweeper.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "threadsd/util/clock.hpp"
#include "threadsd/util/log.hpp"

namespace threadsd::api {

namespace net = boost::asio;

ExpirySweeper::ExpirySweeper(store::Store& store, MessageApi& messages,
                             net::any_io_executor executor)
    : store_(store),
      messages_(messages),
      settings_(messages.settings()),
      timer_(std::make_shared<net::steady_timer>(std::move(executor))) {}

void ExpirySweeper::start() {
    net::co_spawn(timer_->get_executor(), run(), [](std::exception_ptr error) {
        if (!error) {
            return;
        }
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            util::log_error(std::string("the expiry sweep stopped: ") + e.what());
        } catch (...) {
            util::log_error("the expiry sweep stopped");
        }
    });
}

void ExpirySweeper::stop() {
    stopped_.store(true);
    net::post(timer_->get_executor(), [timer = timer_] { timer->cancel(); });
}

net::awaitable<void> ExpirySweeper::run() {
    bool failing = false;
    while (!stopped_.load()) {
        try {
            for (;;) {
                const auto closed = co_await store_.expire_threads(
                    util::unix_millis_now(), settings_.conversation_window, kBatch);
                messages_.count_expired(closed.size());
                for (const auto& key : closed) {
                    messages_.feed()->signal(store::ThreadSignal{key, 0, true});
                }
                if (closed.size() < kBatch || stopped_.load()) {
                    break;
                }
            }
            if (failing) {
                util::log_info("the expiry sweep works again");
            }
            failing = false;
        } catch (const std::exception& error) {
            // The store is down or busy: the next sweep tries again; one line per outage.
            if (!failing) {
                util::log_error(std::string("the expiry sweep failed: ") + error.what());
            }
            failing = true;
        }
        timer_->expires_after(settings_.expiry_sweep_interval);
        co_await timer_->async_wait(net::as_tuple(net::use_awaitable));
    }
}

}  // namespace threadsd::api
