#include "threadsd/api/thread_api.hpp"

#include "threadsd/api/thread_json.hpp"
#include "threadsd/api/validation.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/log.hpp"

namespace threadsd::api {

namespace net = boost::asio;

ApiResult error_result(const ApiError& error) {
    return {http_status(error.code), error_body(error)};
}

ThreadApi::ThreadApi(store::Store& store, InputLimits limits) : store_(store), limits_(limits) {}

net::awaitable<ApiResult> ThreadApi::create_web_thread(const auth::Caller& caller,
                                                       std::string_view body) {
    auto parsed = parse_create_request(body, limits_);
    if (auto* error = std::get_if<ApiError>(&parsed)) {
        co_return error_result(*error);
    }
    auto& request = std::get<CreateThreadRequest>(parsed);

    std::optional<store::AgentWithPublishedVersion> agent;
    {
        auto session = store_.read();
        agent = session->catalog.find_live_agent(caller.organization_id, request.agent_id);
    }
    if (!agent) {
        co_return error_result(
            {ErrorCode::kNotFound, "agentId names no agent of this organization"});
    }
    if (!agent->published) {
        co_return error_result(
            {ErrorCode::kConflict, "agentId names an agent with no published version"});
    }

    store::ThreadRecord thread;
    const std::int64_t now = util::unix_millis_now();
    thread.id = ids_.next(now);
    thread.organization_id = caller.organization_id;
    thread.created_at = now;
    thread.updated_at = now;
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

}  // namespace threadsd::api
