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

// The caller's thread as the write transaction sees it; a 404 when it is not theirs.
store::ThreadRecord load_for_write(store::WriteContext& context, const auth::Caller& caller,
                                   const std::string& thread_id) {
    auto thread = context.thread_reads.find(caller.organization_id, thread_id);
    if (!thread) {
        throw ApiFailure(kUnknownThread);
    }
    return std::move(*thread);
}

// Every write moves updatedAt, even within the millisecond of the previous one.
std::int64_t next_update_time(const store::ThreadRecord& thread) {
    return std::max(util::unix_millis_now(), thread.updated_at + 1);
}

}  // namespace

ThreadApi::ThreadApi(store::Store& store, InputLimits limits) : store_(store), limits_(limits) {}

net::awaitable<ApiResult> ThreadApi::create_web_thread(const auth::Caller& caller,
                                                       std::string_view body) {
    auto parsed = parse_create_request(body, limits_);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        co_return error_result(*error);
    }
    auto& request = std::get<CreateThreadRequest>(parsed);

    auto agent =
        store_.live_agent(caller.organization_id, request.agent_id, caller.catalog_generation);
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

    // The job runs on the writer's thread while this coroutine is suspended, so the
    // reference to `thread` stays valid until the commit completes.
    store::WriteJob job = [&thread](store::WriteContext& context) {
        context.threads.insert(thread);
    };
    co_await store_.writer().write(std::move(job));
    co_return ApiResult{200, thread_body(thread)};
}

ApiResult ThreadApi::get_thread(const auth::Caller& caller, std::string_view thread_id) {
    const auto id = util::normalize_uuid(thread_id);
    if (!id) {
        return error_result(kBadThreadId);
    }
    const auto details = store_.agent_details(caller.catalog_generation);
    auto session = store_.read();
    const auto thread = session->threads.find(caller.organization_id, *id, &details);
    if (!thread) {
        return error_result(kUnknownThread);
    }
    return {200, thread_body(*thread)};
}

ApiResult ThreadApi::list_threads(const auth::Caller& caller, std::string_view query) {
    auto parsed = parse_list_query(query);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        return error_result(*error);
    }
    const auto& request = std::get<ListQuery>(parsed);
    std::vector<store::ThreadRecord> threads;
    {
        const auto details = store_.agent_details(caller.catalog_generation);
        auto session = store_.read();
        // One row more than the page tells whether another page exists.
        threads = session->threads.list(caller.organization_id, request.filter, request.limit + 1,
                                        &details);
    }
    const bool more = threads.size() > request.limit;
    if (more) {
        threads.resize(request.limit);
    }
    JsonWriter out;
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
    return {200, out.take()};
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

    store::ThreadRecord thread;
    store::WriteJob job = [&](store::WriteContext& context) {
        thread = load_for_write(context, caller, *id);
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
        context.threads.update_maps(thread);
    };
    co_return co_await commit_or_answer(std::move(job), thread);
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

    store::ThreadRecord thread;
    store::WriteJob job = [&](store::WriteContext& context) {
        thread = load_for_write(context, caller, *id);
        if (!thread.is_active) {
            throw ApiFailure({ErrorCode::kConflict, "the thread is already closed"});
        }
        thread.is_active = false;
        thread.updated_at = next_update_time(thread);
        thread.closed_at = thread.updated_at;
        thread.closed_reason = std::get<std::string>(reason);
        context.threads.close(thread);
    };
    co_return co_await commit_or_answer(std::move(job), thread);
}

net::awaitable<ApiResult> ThreadApi::commit_or_answer(store::WriteJob job,
                                                      const store::ThreadRecord& thread) {
    // The job fills `thread`; the writer has undone the job's changes when it threw.
    try {
        co_await store_.writer().write(std::move(job));
    } catch (const ApiFailure& failure) {
        co_return error_result(failure.error);
    }
    co_return ApiResult{200, thread_body(thread)};
}

}  // namespace threadsd::api
