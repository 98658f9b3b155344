#include "threadsd/api/message_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "threadsd/api/message_json.hpp"

namespace threadsd::api {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

MessageStream::MessageStream(std::shared_ptr<ThreadFeed> feed,
                             std::shared_ptr<ThreadFeed::Subscription> subscription,
                             std::chrono::milliseconds keepalive)
    : feed_(std::move(feed)),
      subscription_(std::move(subscription)),
      keepalive_(keepalive),
      keepalive_due_(Clock::now() + keepalive) {}

MessageStream::~MessageStream() {
    feed_->unsubscribe(*subscription_);
}

net::awaitable<bool> MessageStream::catch_up(std::string& out, std::int64_t base) {
    const auto& key = subscription_->key;
    // Only this stream's own calls move `after`, and they run one at a time.
    const std::int64_t after = subscription_->after;
    auto messages = co_await feed_->store().outbound_after(key, after, ThreadFeed::kReadRows);
    for (const auto& message : messages) {
        out += message_event(message);
    }
    feed_->count_sent(messages.size());
    // Everything up to the topic's base was committed before the read began: a short
    // page means the stream has passed it all.
    std::int64_t passed = messages.empty() ? after : messages.back().sequence;
    if (messages.size() < ThreadFeed::kReadRows) {
        passed = std::max(passed, base);
    }
    feed_->caught_up(*subscription_, passed);
    co_return !messages.empty();
}

net::awaitable<bool> MessageStream::next(std::string& out) {
    for (;;) {
        std::int64_t base = 0;
        const auto step = feed_->take(*subscription_, out, kBudget, base);
        if (step == ThreadFeed::Step::kEvents) {
            keepalive_due_ = Clock::now() + keepalive_;
            co_return true;
        }
        if (step == ThreadFeed::Step::kClosed) {
            co_return false;
        }
        if (step == ThreadFeed::Step::kCatchUp) {
            const bool sent = co_await catch_up(out, base);
            if (sent) {
                keepalive_due_ = Clock::now() + keepalive_;
                co_return true;
            }
            continue;
        }
        // kWait: until a wake (the timer cancelled), the keep-alive, or the session's
        // cancellation (the client left, or the server drains).
        auto& timer = *subscription_->timer;
        timer.expires_at(keepalive_due_);
        auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        const auto state = co_await net::this_coro::cancellation_state;
        if (state.cancelled() != net::cancellation_type::none) {
            co_return false;
        }
        if (!ec) {
            out += kKeepAliveComment;
            keepalive_due_ = Clock::now() + keepalive_;
            co_return true;
        }
    }
}

}  // namespace threadsd::api
