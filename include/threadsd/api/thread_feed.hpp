#pragma once
// The live streams of one process and what they are waiting for.
//
// Streams follow threads through topics, one per thread that has a stream open here. A
// topic holds the newest outbound events of its thread, each rendered once, as a range of
// the thread's commit order (`sequence`): a post made by this process lands there without
// a query and wakes every stream of the thread. What this process did not see (a post or a
// close by another replica, a gap between two posts that completed out of order) is read
// from the store once per topic, never once per stream: the store's signals (PostgreSQL's
// NOTIFY) say when, and a poll of every followed thread makes up for a lost signal. A stream
// that falls behind the topic's range catches up from the store on its own.
//
// A stream's wait is a timer on its own strand; a wake is a cancel posted there, so a
// stream never misses one (a spurious wake only makes it look again).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "threadsd/store/store.hpp"

namespace threadsd::api {

/// The live streams of this process, by thread; thread-safe.
class ThreadFeed : public std::enable_shared_from_this<ThreadFeed> {
  public:
    /// Outbound events a topic keeps, at most, and their bytes.
    static constexpr std::size_t kTopicEvents = 64;
    static constexpr std::size_t kTopicBytes = 64 * 1024;
    /// Rows one read of the store brings into a topic or a stream.
    static constexpr std::size_t kReadRows = 100;
    /// How long a topic waits before reading what it lacks (see read_topic()).
    static constexpr std::chrono::milliseconds kSettle{5};

    /// Reads from `store` on `executor`; with a `poll_interval` (store shared by processes),
    /// checks every followed thread that often.
    ThreadFeed(store::Store& store, boost::asio::any_io_executor executor,
               std::chrono::milliseconds poll_interval);

    /// Listens to the store's signals and starts the poll; once, before serving.
    void start();
    /// Stops the poll; streams end on their own (the server's shutdown).
    void stop();

    /// A message this process committed (either direction): streams of its thread get it.
    void publish(const store::MessageRecord& message);
    /// A thread this process closed: its streams send what is left, then `closed`, and end.
    void publish_closed(const store::ThreadRecord& thread);
    /// A change the store reports (another process's post or close), or an expiry.
    void signal(const store::ThreadSignal& signal);

    /// One stream's place in one thread; owned by the stream.
    struct Subscription {
        store::ThreadKey key;    ///< The thread.
        std::string topic_name;  ///< Its topic's key in topics_.
        std::int64_t after = 0;  ///< The last sequence the stream has passed; under mutex_.
        boost::asio::any_io_executor executor;             ///< The stream's strand.
        std::shared_ptr<boost::asio::steady_timer> timer;  ///< What its wait waits on.
    };

    /// What a stream is to do next (take()).
    enum class Step {
        kEvents,   ///< Events were appended: send them.
        kCatchUp,  ///< The stream is behind the topic: read from the store (caught_up()).
        kClosed,   ///< The closed event was appended: send it and end.
        kWait,     ///< Nothing yet: wait on the timer.
    };

    /// Follows `key` for a stream on `executor`, which has passed `after_sequence`. The
    /// thread was last seen at `last_sequence`, open or not.
    std::shared_ptr<Subscription> subscribe(const store::ThreadKey& key,
                                            std::int64_t after_sequence, std::int64_t last_sequence,
                                            bool is_active, boost::asio::any_io_executor executor);
    /// Stops following; the stream is gone.
    void unsubscribe(Subscription& subscription);

    /// Appends what `subscription` has not passed yet, about `budget` bytes at most, and
    /// says what next. `base` gets the oldest sequence the topic covers (for kCatchUp).
    Step take(Subscription& subscription, std::string& out, std::size_t budget, std::int64_t& base);
    /// After a catch-up read from the store: the stream has passed `sequence`.
    void caught_up(Subscription& subscription, std::int64_t sequence);

    /// Streams open now.
    std::size_t open_streams() const { return open_streams_.load(); }
    /// Events (messages and closes) sent to streams so far.
    std::uint64_t events_sent() const { return events_sent_.load(); }
    /// Counts `count` events sent.
    void count_sent(std::uint64_t count) { events_sent_.fetch_add(count); }
    /// Reads of the store made for topics (for tests: one per thread, not per stream).
    std::uint64_t topic_reads() const { return topic_reads_.load(); }

    /// The store streams read from.
    store::Store& store() { return store_; }

  private:
    /// A thread followed by at least one stream of this process.
    struct Topic {
        store::ThreadKey key;     ///< The thread.
        std::int64_t known = 0;   ///< The highest sequence known to be committed.
        std::int64_t base = 0;    ///< The events cover sequences (base, filled].
        std::int64_t filled = 0;  ///< See base.
        /// Outbound events by sequence, in (base, filled].
        std::deque<std::pair<std::int64_t, std::shared_ptr<const std::string>>> events;
        std::size_t event_bytes = 0;  ///< Their size.
        /// Posts seen beyond filled + 1, waiting for the gap to close (null: inbound).
        std::map<std::int64_t, std::shared_ptr<const std::string>> pending;
        bool closing = false;  ///< The thread is closed; a final read is due.
        std::shared_ptr<const std::string> closed_text;  ///< Its closed event, once known.
        bool closed_final = false;  ///< Every message is in: streams may send `closed`.
        bool reading = false;       ///< A read from the store is under way.
        std::vector<Subscription*> subscribers;  ///< The streams that follow it.
    };

    /// The topic's key.
    static std::string topic_name(const store::ThreadKey& key);
    /// Adds the event of `sequence` (null: an inbound message) right after filled, then
    /// whatever pending posts that makes contiguous; under mutex_.
    void extend(Topic& topic, std::int64_t sequence, std::shared_ptr<const std::string> event);
    /// Starts the topic's read from the store unless one is under way; under mutex_.
    void read_if_needed(Topic& topic);
    /// Wakes every stream of the topic; under mutex_.
    void wake(Topic& topic);
    /// Reads what the topic lacks from the store until it lacks nothing.
    boost::asio::awaitable<void> read_topic(std::string name);
    /// Checks every followed thread's position, each poll_interval_.
    boost::asio::awaitable<void> poll();

    store::Store& store_;                      ///< Where the truth is.
    boost::asio::any_io_executor executor_;    ///< Runs reads and the poll.
    std::chrono::milliseconds poll_interval_;  ///< 0: no poll.
    mutable std::mutex mutex_;                 ///< Guards topics_ and every Subscription::after.
    std::unordered_map<std::string, Topic> topics_;          ///< Followed threads.
    std::atomic<bool> stopped_{false};                       ///< stop() was called.
    std::shared_ptr<boost::asio::steady_timer> poll_timer_;  ///< The poll's wait.
    std::atomic<std::size_t> open_streams_{0};               ///< Subscriptions alive.
    std::atomic<std::uint64_t> events_sent_{0};              ///< Events sent to streams.
    std::atomic<std::uint64_t> topic_reads_{0};              ///< Reads made for topics.
};

}  // namespace threadsd::api
