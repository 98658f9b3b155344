#include "threadsd/api/thread_feed.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "threadsd/api/message_json.hpp"
#include "threadsd/util/log.hpp"

namespace threadsd::api {

namespace net = boost::asio;

namespace {

// Completion for co_spawn: an exception escaping a read of the feed is logged, never lost.
void log_failure(std::exception_ptr error) {
    if (!error) {
        return;
    }
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        util::log_error(std::string("live streams: reading the store failed: ") + e.what());
    } catch (...) {
        util::log_error("live streams: reading the store failed");
    }
}

}  // namespace

ThreadFeed::ThreadFeed(store::Store& store, net::any_io_executor executor,
                       std::chrono::milliseconds poll_interval)
    : store_(store), executor_(std::move(executor)), poll_interval_(poll_interval) {}

std::string ThreadFeed::topic_name(const store::ThreadKey& key) {
    return key.organization_id + ' ' + key.thread_id;
}

void ThreadFeed::start() {
    // The store calls back from its own thread; the feed may outlive nothing it needs.
    store_.watch_threads([weak = weak_from_this()](store::ThreadSignal signal) {
        if (auto feed = weak.lock()) {
            feed->signal(signal);
        }
    });
    if (poll_interval_.count() > 0) {
        poll_timer_ = std::make_shared<net::steady_timer>(executor_);
        net::co_spawn(executor_, poll(), log_failure);
    }
}

void ThreadFeed::stop() {
    stopped_.store(true);
    if (poll_timer_) {
        net::post(executor_, [timer = poll_timer_] { timer->cancel(); });
    }
}

void ThreadFeed::extend(Topic& topic, std::int64_t sequence,
                        std::shared_ptr<const std::string> event) {
    topic.filled = sequence;
    if (event) {
        topic.event_bytes += event->size();
        topic.events.emplace_back(sequence, std::move(event));
    }
    // Posts that arrived early follow at once.
    while (!topic.pending.empty() && topic.pending.begin()->first <= topic.filled + 1) {
        auto node = topic.pending.extract(topic.pending.begin());
        if (node.key() == topic.filled + 1) {
            topic.filled = node.key();
            if (node.mapped()) {
                topic.event_bytes += node.mapped()->size();
                topic.events.emplace_back(node.key(), std::move(node.mapped()));
            }
        }
    }
    // The oldest events go; a stream still behind them reads them from the store.
    while (!topic.events.empty() &&
           (topic.events.size() > kTopicEvents || topic.event_bytes > kTopicBytes)) {
        topic.event_bytes -= topic.events.front().second->size();
        topic.base = topic.events.front().first;
        topic.events.pop_front();
    }
}

void ThreadFeed::wake(Topic& topic) {
    for (Subscription* subscription : topic.subscribers) {
        net::post(subscription->executor, [timer = subscription->timer] { timer->cancel(); });
    }
}

void ThreadFeed::read_if_needed(Topic& topic) {
    const bool behind = topic.known > topic.filled || (topic.closing && !topic.closed_final);
    if (!behind || topic.reading) {
        return;
    }
    topic.reading = true;
    // Posted, never started here: co_spawn may run the coroutine at once on this thread,
    // which holds mutex_.
    net::post(executor_, [self = shared_from_this(), name = topic_name(topic.key)]() mutable {
        net::co_spawn(self->executor_, self->read_topic(std::move(name)), log_failure);
    });
}

void ThreadFeed::publish(const store::MessageRecord& message) {
    const auto name = topic_name({message.organization_id, message.thread_id});
    std::shared_ptr<const std::string> event;
    if (message.direction == store::MessageDirection::kOutbound) {
        {
            std::lock_guard lock(mutex_);
            if (!topics_.contains(name)) {
                return;  // No stream follows the thread here: nothing to render.
            }
        }
        event = std::make_shared<const std::string>(message_event(message));
    }
    std::lock_guard lock(mutex_);
    const auto found = topics_.find(name);
    if (found == topics_.end()) {
        return;
    }
    Topic& topic = found->second;
    topic.known = std::max(topic.known, message.sequence);
    if (message.sequence == topic.filled + 1) {
        extend(topic, message.sequence, std::move(event));
        wake(topic);
    } else if (message.sequence > topic.filled + 1) {
        // Another post is committed before this one and not here yet: it will be, or the
        // store has it.
        topic.pending.emplace(message.sequence, std::move(event));
        read_if_needed(topic);
    }
}

void ThreadFeed::publish_closed(const store::ThreadRecord& thread) {
    const auto name = topic_name({thread.organization_id, thread.id});
    {
        std::lock_guard lock(mutex_);
        if (!topics_.contains(name)) {
            return;
        }
    }
    auto text = std::make_shared<const std::string>(closed_event(thread));
    std::lock_guard lock(mutex_);
    const auto found = topics_.find(name);
    if (found == topics_.end()) {
        return;
    }
    Topic& topic = found->second;
    topic.closing = true;
    topic.closed_text = std::move(text);
    read_if_needed(topic);
}

void ThreadFeed::signal(const store::ThreadSignal& signal) {
    std::lock_guard lock(mutex_);
    const auto found = topics_.find(topic_name(signal.key));
    if (found == topics_.end()) {
        return;
    }
    Topic& topic = found->second;
    topic.known = std::max(topic.known, signal.last_sequence);
    topic.closing = topic.closing || signal.closed;
    read_if_needed(topic);
}

std::shared_ptr<ThreadFeed::Subscription> ThreadFeed::subscribe(const store::ThreadKey& key,
                                                                std::int64_t after_sequence,
                                                                std::int64_t last_sequence,
                                                                bool is_active,
                                                                net::any_io_executor executor) {
    auto subscription = std::make_shared<Subscription>();
    subscription->key = key;
    subscription->topic_name = topic_name(key);
    subscription->after = after_sequence;
    subscription->timer = std::make_shared<net::steady_timer>(executor);
    subscription->executor = std::move(executor);
    std::lock_guard lock(mutex_);
    auto [found, created] = topics_.try_emplace(subscription->topic_name);
    Topic& topic = found->second;
    if (created) {
        topic.key = key;
        topic.known = topic.base = topic.filled = last_sequence;
    }
    topic.known = std::max(topic.known, last_sequence);
    topic.closing = topic.closing || !is_active;
    topic.subscribers.push_back(subscription.get());
    open_streams_.fetch_add(1);
    read_if_needed(topic);
    return subscription;
}

void ThreadFeed::unsubscribe(Subscription& subscription) {
    std::lock_guard lock(mutex_);
    open_streams_.fetch_sub(1);
    const auto found = topics_.find(subscription.topic_name);
    if (found == topics_.end()) {
        return;
    }
    auto& subscribers = found->second.subscribers;
    std::erase(subscribers, &subscription);
    if (subscribers.empty()) {
        topics_.erase(found);  // A read under way finds it gone and stops.
    }
}

ThreadFeed::Step ThreadFeed::take(Subscription& subscription, std::string& out, std::size_t budget,
                                  std::int64_t& base) {
    std::lock_guard lock(mutex_);
    const auto found = topics_.find(subscription.topic_name);
    if (found == topics_.end()) {
        return Step::kWait;  // Not possible while subscribed; waiting is harmless.
    }
    Topic& topic = found->second;
    base = topic.base;
    if (subscription.after < topic.base) {
        return Step::kCatchUp;
    }
    const auto first =
        std::upper_bound(topic.events.begin(), topic.events.end(), subscription.after,
                         [](std::int64_t after, const auto& event) { return after < event.first; });
    std::uint64_t sent = 0;
    for (auto event = first; event != topic.events.end(); ++event) {
        if (out.size() >= budget) {
            break;
        }
        out += *event->second;
        subscription.after = event->first;
        ++sent;
    }
    if (out.size() < budget) {
        // Every event up to filled is out: the inbound messages in between are passed too.
        subscription.after = std::max(subscription.after, topic.filled);
    }
    if (sent > 0) {
        events_sent_.fetch_add(sent);
        return Step::kEvents;
    }
    if (topic.closed_final && subscription.after >= topic.filled) {
        out += *topic.closed_text;
        events_sent_.fetch_add(1);
        return Step::kClosed;
    }
    return Step::kWait;
}

void ThreadFeed::caught_up(Subscription& subscription, std::int64_t sequence) {
    std::lock_guard lock(mutex_);
    subscription.after = std::max(subscription.after, sequence);
}

net::awaitable<void> ThreadFeed::read_topic(std::string name) {
    // A moment first: a post of this process whose notification (or a later post) came
    // first is usually published here within it, and then nothing needs reading.
    net::steady_timer pause(executor_, kSettle);
    co_await pause.async_wait(net::as_tuple(net::use_awaitable));
    for (;;) {
        store::ThreadKey key;
        std::int64_t from = 0;
        std::int64_t known = 0;
        bool closing = false;
        bool need_thread = false;
        {
            std::lock_guard lock(mutex_);
            const auto found = topics_.find(name);
            if (found == topics_.end()) {
                co_return;
            }
            Topic& topic = found->second;
            if (topic.known <= topic.filled && (!topic.closing || topic.closed_final)) {
                topic.reading = false;
                co_return;
            }
            key = topic.key;
            from = topic.filled;
            known = topic.known;
            closing = topic.closing;
            need_thread = closing && !topic.closed_text;
        }
        topic_reads_.fetch_add(1);
        std::vector<store::MessageRecord> messages;
        std::optional<store::ThreadRecord> thread;
        try {
            messages = co_await store_.outbound_after(key, from, kReadRows);
            if (need_thread) {
                thread = co_await store_.current_thread(key);
            }
        } catch (const std::exception& error) {
            // The poll (or the next signal) tries again; until then the streams wait.
            util::log_error(std::string("live streams: reading a thread failed: ") + error.what());
            std::lock_guard lock(mutex_);
            if (const auto found = topics_.find(name); found != topics_.end()) {
                found->second.reading = false;
            }
            co_return;
        }
        std::vector<std::shared_ptr<const std::string>> events;
        events.reserve(messages.size());
        for (const auto& message : messages) {
            events.push_back(std::make_shared<const std::string>(message_event(message)));
        }
        std::shared_ptr<const std::string> closed_text;
        if (thread) {
            closed_text = std::make_shared<const std::string>(closed_event(*thread));
        }
        std::lock_guard lock(mutex_);
        const auto found = topics_.find(name);
        if (found == topics_.end()) {
            co_return;
        }
        Topic& topic = found->second;
        // Everything committed up to `known` was committed before the read began, so the
        // read saw it; a full page may have stopped short.
        const bool complete = messages.size() < kReadRows;
        for (std::size_t i = 0; i < messages.size(); ++i) {
            if (messages[i].sequence > topic.filled) {
                // Inbound messages in between are passed over with the jump.
                topic.filled = messages[i].sequence - 1;
                extend(topic, messages[i].sequence, std::move(events[i]));
            }
        }
        if (complete && known > topic.filled) {
            extend(topic, known, nullptr);  // null: no event, only the range grows
        }
        std::erase_if(topic.pending,
                      [&](const auto& entry) { return entry.first <= topic.filled; });
        if (closed_text) {
            topic.closed_text = std::move(closed_text);
        } else if (need_thread && !topic.closed_text) {
            // The thread is gone (a store put back from a backup): nothing to close with,
            // so its streams go on waiting rather than this read looping.
            topic.closing = false;
        }
        if (closing && complete && topic.closed_text) {
            topic.closed_final = true;
        }
        wake(topic);
    }
}

net::awaitable<void> ThreadFeed::poll() {
    bool failing = false;
    while (!stopped_.load()) {
        poll_timer_->expires_after(poll_interval_);
        co_await poll_timer_->async_wait(net::as_tuple(net::use_awaitable));
        if (stopped_.load()) {
            co_return;
        }
        std::vector<store::ThreadKey> keys;
        {
            std::lock_guard lock(mutex_);
            keys.reserve(topics_.size());
            for (const auto& [name, topic] : topics_) {
                keys.push_back(topic.key);
            }
        }
        if (keys.empty()) {
            continue;
        }
        std::vector<store::ThreadPosition> positions;
        try {
            positions = co_await store_.thread_positions(keys);
        } catch (const std::exception& error) {
            if (!failing) {
                util::log_error(std::string("live streams: polling the store failed: ") +
                                error.what());
            }
            failing = true;
            continue;
        }
        failing = false;
        for (const auto& position : positions) {
            signal(store::ThreadSignal{position.key, position.last_sequence, !position.is_active});
        }
    }
}

}  // namespace threadsd::api
