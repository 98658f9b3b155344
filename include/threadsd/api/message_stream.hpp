#pragma once
// One live stream of a thread's outbound messages (GET /api/v1/threads/{id}/stream).

#include <chrono>
#include <memory>
#include <string>

#include "threadsd/api/event_source.hpp"
#include "threadsd/api/thread_feed.hpp"

namespace threadsd::api {

/// The events of one stream, from the feed or, when it is behind, from the store.
class MessageStream final : public EventSource {
  public:
    /// Bytes of events handed to the session at once.
    static constexpr std::size_t kBudget = 32 * 1024;

    /// Follows `subscription` of `feed`, with a comment after `keepalive` without events.
    MessageStream(std::shared_ptr<ThreadFeed> feed,
                  std::shared_ptr<ThreadFeed::Subscription> subscription,
                  std::chrono::milliseconds keepalive);
    /// Stops following the thread.
    ~MessageStream() override;
    MessageStream(const MessageStream&) = delete;
    MessageStream& operator=(const MessageStream&) = delete;

    /// The next events, a keep-alive comment, or the closed event (then false).
    boost::asio::awaitable<bool> next(std::string& out) override;

  private:
    /// Reads what the stream missed from the store; false when there was nothing.
    boost::asio::awaitable<bool> catch_up(std::string& out, std::int64_t base);

    std::shared_ptr<ThreadFeed> feed_;                        ///< Where events come from.
    std::shared_ptr<ThreadFeed::Subscription> subscription_;  ///< This stream's place.
    std::chrono::milliseconds keepalive_;                     ///< Quiet time before a comment.
    std::chrono::steady_clock::time_point keepalive_due_;     ///< When the next comment is due.
};

}  // namespace threadsd::api
