#include "threadsd/api/message_api.hpp"

#include <boost/asio/this_coro.hpp>

#include <algorithm>

#include "threadsd/api/message_json.hpp"
#include "threadsd/api/message_query.hpp"
#include "threadsd/api/message_stream.hpp"
#include "threadsd/api/thread_json.hpp"
#include "threadsd/api/validation.hpp"
#include "threadsd/util/prometheus.hpp"

namespace threadsd::api {

namespace net = boost::asio;

namespace {

const ApiError kBadThreadId{ErrorCode::kBadRequest, "threadId must be a UUID"};
const ApiError kUnknownThread{ErrorCode::kNotFound,
                              "threadId names no thread of this organization"};
const ApiError kClosedThread{ErrorCode::kConflict, "the thread is closed"};
const ApiError kExpiredThread{
    ErrorCode::kConflict, "the thread's conversation window has ended; the thread is now closed"};

}  // namespace

MessageApi::MessageApi(store::Store& store, std::shared_ptr<ThreadFeed> feed,
                       MessageSettings settings)
    : store_(store), feed_(std::move(feed)), settings_(settings) {}

net::awaitable<ApiResult> MessageApi::post_message(const auth::Caller& caller,
                                                   std::string_view thread_id,
                                                   std::string_view body) {
    const auto id = util::normalize_uuid(thread_id);
    if (!id) {
        co_return error_result(kBadThreadId);
    }
    auto parsed = parse_post_message_request(body, settings_.max_message_bytes);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        co_return error_result(*error);
    }
    auto& request = std::get<PostMessageRequest>(parsed);

    store::MessageRecord message;
    message.id = ids_.next();
    // createdAt is the id's own timestamp, as for threads.
    message.created_at = util::uuid7_unix_millis(message.id);
    message.organization_id = caller.organization_id;
    message.thread_id = *id;
    message.direction = request.direction;
    message.body_json = std::move(request.body_json);

    const auto outcome = co_await store_.post_message(message, settings_.conversation_window,
                                                      caller.catalog_generation);
    switch (outcome.result) {
        case store::PostResult::kNoThread:
            co_return error_result(kUnknownThread);
        case store::PostResult::kClosed:
            co_return error_result(kClosedThread);
        case store::PostResult::kExpired:
            count_expired(1);
            feed_->publish_closed(*outcome.closed);
            co_return error_result(kExpiredThread);
        case store::PostResult::kPosted:
            break;
    }
    message.sequence = outcome.sequence;
    feed_->publish(message);
    (message.direction == store::MessageDirection::kInbound ? inbound_ : outbound_).fetch_add(1);

    const std::int64_t window_end =
        outcome.window_started_at + settings_.conversation_window.count();
    const std::int64_t expires_in = std::max<std::int64_t>(0, window_end - message.created_at);
    util::JsonWriter out;
    out.begin_object();
    out.key("status").string("accepted");
    out.key("threadId").string(message.thread_id);
    out.key("messageId").string(message.id);
    out.key("windowExpiresIn").number(expires_in / 1000);
    out.end_object();
    co_return ApiResult{200, out.take()};
}

net::awaitable<ApiResult> MessageApi::list_messages(const auth::Caller& caller,
                                                    std::string_view thread_id,
                                                    std::string_view query) {
    const auto id = util::normalize_uuid(thread_id);
    if (!id) {
        co_return error_result(kBadThreadId);
    }
    auto parsed = parse_message_query(query);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        co_return error_result(*error);
    }
    const auto& request = std::get<MessageQuery>(parsed);
    // One row more than the page tells whether another page exists.
    const std::size_t rows = request.matches_nothing ? 0 : request.limit + 1;
    auto page = co_await store_.list_messages(caller.organization_id, *id, request.filter, rows,
                                              caller.catalog_generation);
    if (!page.thread_found) {
        co_return error_result(kUnknownThread);
    }
    if (!page.cursor_found) {
        co_return error_result({ErrorCode::kBadRequest, "cursor names no message of this thread"});
    }
    auto& messages = page.messages;
    const bool more = messages.size() > request.limit;
    if (more) {
        messages.resize(request.limit);
    }
    util::JsonWriter out;
    out.begin_object();
    out.key("thread").begin_object();
    write_thread_fields(out, page.thread);
    out.key("messages").begin_array();
    for (const auto& message : messages) {
        write_message(out, message);
    }
    out.end_array();
    out.key("pagination").begin_object();
    out.key("limit").number(static_cast<std::int64_t>(request.limit));
    out.key("nextCursor");
    more ? out.string(messages.back().id) : out.null();
    out.end_object();
    out.end_object();
    out.end_object();
    co_return ApiResult{200, out.take()};
}

net::awaitable<ApiResult> MessageApi::stream_thread(const auth::Caller& caller,
                                                    std::string_view thread_id,
                                                    std::optional<std::string_view> last_event_id) {
    const auto id = util::normalize_uuid(thread_id);
    if (!id) {
        co_return error_result(kBadThreadId);
    }
    store::ThreadKey key{caller.organization_id, *id};
    std::vector<store::ThreadKey> keys{key};
    const auto positions = co_await store_.thread_positions(keys);
    if (positions.empty()) {
        co_return error_result(kUnknownThread);
    }
    const auto& position = positions.front();
    // From now on, unless the client names the last event it has.
    std::int64_t after = position.last_sequence;
    if (last_event_id) {
        const auto message_id = util::normalize_uuid(*last_event_id);
        std::optional<std::int64_t> sequence;
        if (message_id) {
            sequence = co_await store_.message_sequence(key, *message_id);
        }
        if (!sequence) {
            co_return error_result({ErrorCode::kBadRequest,
                                    "Last-Event-ID must be the id of a message of this thread"});
        }
        after = *sequence;
    }
    auto executor = co_await net::this_coro::executor;
    auto subscription =
        feed_->subscribe(key, after, position.last_sequence, position.is_active, executor);
    ApiResult result;
    result.events =
        std::make_shared<MessageStream>(feed_, std::move(subscription), settings_.stream_keepalive);
    co_return result;
}

void MessageApi::render_metrics(std::string& out) const {
    out +=
        "# HELP threadsd_messages_total Messages stored, by direction.\n"
        "# TYPE threadsd_messages_total counter\n";
    out +=
        "threadsd_messages_total{direction=\"inbound\"} " + std::to_string(inbound_.load()) + "\n";
    out += "threadsd_messages_total{direction=\"outbound\"} " + std::to_string(outbound_.load()) +
           "\n";
    util::append_metric(out, "threadsd_threads_expired_total",
                        "Threads this process closed because their conversation window ended.",
                        "counter", expired_.load());
    util::append_metric(out, "threadsd_streams_open", "Live streams (Server-Sent Events) open now.",
                        "gauge", feed_->open_streams());
    util::append_metric(out, "threadsd_stream_events_total",
                        "Events (messages and closes) sent on live streams.", "counter",
                        feed_->events_sent());
    // Reads made for a thread that streams follow, not for each stream: a post of this
    // process reaches every stream of its thread without one.
    util::append_metric(out, "threadsd_stream_thread_reads_total",
                        "Reads of the store made for the threads that live streams follow.",
                        "counter", feed_->topic_reads());
}

}  // namespace threadsd::api
