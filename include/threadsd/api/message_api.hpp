#pragma once
// A thread's messages and its live stream (contract section 9), independent of HTTP:
// typed input in, JSON (or an event stream) out.

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "threadsd/api/thread_api.hpp"
#include "threadsd/api/thread_feed.hpp"
#include "threadsd/auth/api_key.hpp"
#include "threadsd/store/store.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::api {

/// How conversations behave (the flags of contract section 9).
struct MessageSettings {
    /// How long after its last inbound message (or its creation) a thread stays open.
    std::chrono::milliseconds conversation_window{24 * 3600 * 1000};
    /// How often the server looks for threads whose window ended.
    std::chrono::milliseconds expiry_sweep_interval{15'000};
    /// A comment line on a stream after this long without an event, for proxies.
    std::chrono::milliseconds stream_keepalive{15'000};
    /// UTF-8 bytes of one message body (after JSON unescaping).
    std::size_t max_message_bytes = 16 * 1024;
};

/// Operations on a thread's messages for an authenticated caller.
class MessageApi {
  public:
    /// Uses `store` for every read and write and `feed` for live streams.
    MessageApi(store::Store& store, std::shared_ptr<ThreadFeed> feed, MessageSettings settings);

    /// POST /api/v1/threads/{threadId}/messages: stores the message (inbound unless the
    /// body says "direction": "OUTBOUND") and answers once it is committed.
    boost::asio::awaitable<ApiResult> post_message(const auth::Caller& caller,
                                                   std::string_view thread_id,
                                                   std::string_view body);

    /// GET /api/v1/threads/{threadId}/messages?query: a page of the thread's messages,
    /// newest first, with the thread.
    boost::asio::awaitable<ApiResult> list_messages(const auth::Caller& caller,
                                                    std::string_view thread_id,
                                                    std::string_view query);

    /// GET /api/v1/threads/{threadId}/stream: an event stream of the thread's outbound
    /// messages after `last_event_id` (the Last-Event-ID header), or from now on.
    boost::asio::awaitable<ApiResult> stream_thread(const auth::Caller& caller,
                                                    std::string_view thread_id,
                                                    std::optional<std::string_view> last_event_id);

    /// The settings in force.
    const MessageSettings& settings() const { return settings_; }
    /// The live streams of this process.
    const std::shared_ptr<ThreadFeed>& feed() const { return feed_; }
    /// Counts threads this process closed because their window ended.
    void count_expired(std::uint64_t count) { expired_.fetch_add(count); }

  private:
    store::Store& store_;                     ///< Where messages live.
    std::shared_ptr<ThreadFeed> feed_;        ///< Live streams of this process.
    MessageSettings settings_;                ///< Window, keep-alive, size limit.
    util::Uuid7Generator ids_;                ///< Message ids, monotonic in this process.
    std::atomic<std::uint64_t> inbound_{0};   ///< Inbound messages stored.
    std::atomic<std::uint64_t> outbound_{0};  ///< Outbound messages stored.
    std::atomic<std::uint64_t> expired_{0};   ///< Threads closed as EXPIRED by this process.

  public:
    /// Appends the message and stream metrics in the Prometheus text format.
    void render_metrics(std::string& out) const;
};

}  // namespace threadsd::api
