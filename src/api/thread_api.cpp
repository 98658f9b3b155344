#include "threadsd/api/thread_api.hpp"

#include <algorithm>

#include "threadsd/api/list_query.hpp"
#include "threadsd/api/thread_json.hpp"
#include "threadsd/api/validation.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/log.hpp"

namespace threadsd::api {

namespace net = boost::asio;

ApiResult error_result(const ApiError& error) {
    return {http_status(error.code), error_body(error)};
}

namespace {

const ApiError kBadThreadId{ErrorCode::kBadRequest, "threadId must be a UUID"};
const ApiError kUnknownThread{ErrorCode::kNotFound,
                              "threadId names no thread of this organization"};

// Every write moves updatedAt, even within the millisecond of the previous one.
std::int64_t next_update_time(const store::ThreadRecord& thread) {
    return std::max(util::unix_millis_now(), thread.updated_at + 1);
}

}  // namespace

ThreadApi::ThreadApi(store::Store& store, InputLimits limits, std::shared_ptr<ThreadFeed> feed)
    : store_(store), limits_(limits), feed_(std::move(feed)) {}

net::awaitable<ApiResult> ThreadApi::create_web_thread(const auth::Caller& caller,
                                                       std::string_view body) {
    auto parsed = parse_create_request(body, limits_);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        co_return error_result(*error);
    }
    auto& request = std::get<CreateThreadRequest>(parsed);

    auto agent = co_await store_.live_agent(caller.organization_id, request.agent_id,
                                            caller.catalog_generation);
    if (!agent) {
        co_return error_result(
            {ErrorCode::kNotFound, "agentId names no agent of this organization"});
    }
    if (!agent->published) {
        co_return error_result(
            {ErrorCode::kConflict, "agentId names an agent with no published version"});
    }

    store::ThreadRecord thread;
    thread.id = ids_.next();
    // createdAt is the id's own timestamp, so created-time filters are ranges of ids.
    thread.created_at = util::uuid7_unix_millis(thread.id);
    thread.updated_at = thread.created_at;
    thread.organization_id = caller.organization_id;
    thread.metadata_json = std::move(request.metadata_json);
    thread.variables_json = std::move(request.variables_json);
    thread.agent = std::move(agent->agent);
    thread.agent_version = std::move(*agent->published);

    co_await store_.create_thread(thread, caller.catalog_generation);
    co_return ApiResult{200, thread_body(thread)};
}

net::awaitable<ApiResult> ThreadApi::get_thread(const auth::Caller& caller,
                                                std::string_view thread_id) {
    const auto id = util::normalize_uuid(thread_id);
    if (!id) {
        co_return error_result(kBadThreadId);
    }
    store::ThreadRecord thread;
    const bool found =
        co_await store_.find_thread(caller.organization_id, *id, caller.catalog_generation, thread);
    if (!found) {
        co_return error_result(kUnknownThread);
    }
    co_return ApiResult{200, thread_body(thread)};
}

net::awaitable<ApiResult> ThreadApi::list_threads(const auth::Caller& caller,
                                                  std::string_view query) {
    auto parsed = parse_list_query(query);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        co_return error_result(*error);
    }
    const auto& request = std::get<ListQuery>(parsed);
    // One row more than the page tells whether another page exists.
    auto threads = co_await store_.list_threads(caller.organization_id, request.filter,
                                                request.limit + 1, caller.catalog_generation);
    const bool more = threads.size() > request.limit;
    if (more) {
        threads.resize(request.limit);
    }
    util::JsonWriter out;
    out.begin_object();
    out.key("threads").begin_array();
    for (const auto& thread : threads) {
        write_thread(out, thread);
    }
    out.end_array();
    out.key("pagination").begin_object();
    out.key("limit").number(static_cast<std::int64_t>(request.limit));
    out.key("nextCursor");
    more ? out.string(threads.back().id) : out.null();
    out.end_object();
    out.end_object();
    co_return ApiResult{200, out.take()};
}

net::awaitable<ApiResult> ThreadApi::patch_thread(const auth::Caller& caller,
                                                  std::string_view thread_id,
                                                  std::string_view body) {
    const auto id = util::normalize_uuid(thread_id);
    if (!id) {
        co_return error_result(kBadThreadId);
    }
    auto parsed = parse_patch_request(body, limits_);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        co_return error_result(*error);
    }
    const auto& patch = std::get<PatchThreadRequest>(parsed);

    store::ThreadEdit edit = [&](store::ThreadRecord& thread) {
        const auto merge = [&](std::optional<std::string>& stored,
                               const std::optional<boost::json::object>& changes,
                               std::string_view field) {
            if (!changes) {
                return;
            }
            auto merged = merge_string_map(stored, *changes, field, limits_);
            if (auto* error = std::get_if<ApiError>(&merged)) {
                throw ApiFailure(std::move(*error));
            }
            stored = std::move(std::get<0>(merged));
        };
        merge(thread.metadata_json, patch.metadata, "metadata");
        merge(thread.variables_json, patch.variables, "variables");
        if (auto error = check_maps_size(thread.metadata_json, thread.variables_json, limits_)) {
            throw ApiFailure(std::move(*error));
        }
        thread.updated_at = next_update_time(thread);
    };
    co_return co_await update_or_answer(caller, *id, std::move(edit));
}

net::awaitable<ApiResult> ThreadApi::close_thread(const auth::Caller& caller,
                                                  std::string_view thread_id,
                                                  std::string_view body) {
    const auto id = util::normalize_uuid(thread_id);
    if (!id) {
        co_return error_result(kBadThreadId);
    }
    auto reason = parse_close_request(body);
    if (auto* error = std::get_if<ApiError>(&reason)) {
        co_return error_result(*error);
    }

    store::ThreadEdit edit = [&](store::ThreadRecord& thread) {
        if (!thread.is_active) {
            throw ApiFailure({ErrorCode::kConflict, "the thread is already closed"});
        }
        thread.is_active = false;
        thread.updated_at = next_update_time(thread);
        thread.closed_at = thread.updated_at;
        thread.closed_reason = std::get<std::string>(reason);
    };
    std::optional<store::ThreadRecord> closed;
    auto result = co_await update_or_answer(caller, *id, std::move(edit), &closed);
    if (closed && feed_) {
        feed_->publish_closed(*closed);
    }
    co_return result;
}

net::awaitable<ApiResult> ThreadApi::update_or_answer(const auth::Caller& caller,
                                                      const std::string& thread_id,
                                                      store::ThreadEdit edit,
                                                      std::optional<store::ThreadRecord>* stored) {
    // The edit refuses with an ApiFailure; the store has then written nothing.
    std::optional<store::ThreadRecord> updated;
    try {
        updated = co_await store_.update_thread(caller.organization_id, thread_id,
                                                caller.catalog_generation, std::move(edit));
    } catch (const ApiFailure& failure) {
        co_return error_result(failure.error);
    }
    if (!updated) {
        co_return error_result(kUnknownThread);
    }
    auto body = thread_body(*updated);
    if (stored != nullptr) {
        *stored = std::move(updated);
    }
    co_return ApiResult{200, std::move(body)};
}

}  // namespace threadsd::api
