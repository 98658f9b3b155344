#pragma once
// The thread resource's operations, independent of HTTP: typed input in, JSON out.

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "threadsd/api/error.hpp"
#include "threadsd/api/event_source.hpp"
#include "threadsd/api/limits.hpp"
#include "threadsd/api/thread_feed.hpp"
#include "threadsd/auth/api_key.hpp"
#include "threadsd/store/store.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::api {

/// An operation's outcome: the HTTP status and the JSON body (a resource or an envelope).
struct ApiResult {
    ApiResult() = default;
    /// A whole answer.
    ApiResult(unsigned code, std::string text) : status(code), body(std::move(text)) {}

    unsigned status = 200;  ///< HTTP status.
    std::string body;       ///< JSON text; for an event stream, the events already due.
    std::shared_ptr<EventSource> events;  ///< Non-null: a 200 event stream that goes on.
};

/// An error as a result, with the envelope as its body.
ApiResult error_result(const ApiError& error);

/// Operations on threads for an authenticated caller.
class ThreadApi {
  public:
    /// Uses `store` for every read and write; `limits` bound every map.
    ThreadApi(store::Store& store, InputLimits limits, std::shared_ptr<ThreadFeed> feed = nullptr);

    /// POST /api/v1/threads/web: validates `body`, binds the thread to the agent's
    /// published version and answers only once the row is committed.
    boost::asio::awaitable<ApiResult> create_web_thread(const auth::Caller& caller,
                                                        std::string_view body);

    /// GET /api/v1/threads/{threadId}: the thread, if it is the caller's.
    boost::asio::awaitable<ApiResult> get_thread(const auth::Caller& caller,
                                                 std::string_view thread_id);

    /// GET /api/v1/threads?query: a page of the caller's threads, newest first.
    boost::asio::awaitable<ApiResult> list_threads(const auth::Caller& caller,
                                                   std::string_view query);

    /// PATCH /api/v1/threads/{threadId}: merges metadata and variables into the thread as
    /// stored, under its lock, so concurrent patches of different keys all survive.
    boost::asio::awaitable<ApiResult> patch_thread(const auth::Caller& caller,
                                                   std::string_view thread_id,
                                                   std::string_view body);

    /// PATCH /api/v1/threads/{threadId}/close: closes an open thread (409 when closed).
    boost::asio::awaitable<ApiResult> close_thread(const auth::Caller& caller,
                                                   std::string_view thread_id,
                                                   std::string_view body);

  private:
    /// Applies `edit` to the caller's thread `thread_id`; answers the thread as stored, a
    /// 404, or the ApiFailure the edit threw. `stored`, when given, gets the thread as stored.
    boost::asio::awaitable<ApiResult> update_or_answer(
        const auth::Caller& caller, const std::string& thread_id, store::ThreadEdit edit,
        std::optional<store::ThreadRecord>* stored = nullptr);

    store::Store& store_;               ///< Where threads live.
    InputLimits limits_;                ///< Map limits.
    util::Uuid7Generator ids_;          ///< Thread ids, monotonic in this process.
    std::shared_ptr<ThreadFeed> feed_;  ///< Told of closes, to end their streams; may be null.
};

}  // namespace threadsd::api
