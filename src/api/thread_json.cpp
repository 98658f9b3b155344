#include "threadsd/api/thread_json.hpp"

#include "threadsd/util/clock.hpp"

namespace threadsd::api {
namespace {

void optional_string(util::JsonWriter& out, const std::optional<std::string>& value) {
    if (value) {
        out.string(*value);
    } else {
        out.null();
    }
}

void optional_number(util::JsonWriter& out, const std::optional<double>& value) {
    if (value) {
        out.number(*value);
    } else {
        out.null();
    }
}

void timestamp(util::JsonWriter& out, std::int64_t unix_ms) {
    std::string buffer;
    buffer.reserve(24);
    util::append_rfc3339_millis(buffer, unix_ms);
    out.string(buffer);
}

}  // namespace

void write_thread(util::JsonWriter& out, const store::ThreadRecord& thread) {
    out.begin_object();
    write_thread_fields(out, thread);
    out.end_object();
}

void write_thread_fields(util::JsonWriter& out, const store::ThreadRecord& thread) {
    out.key("id").string(thread.id);
    out.key("organizationId").string(thread.organization_id);
    out.key("agentVersionId").string(thread.agent_version.id);
    out.key("toPhoneNumber").string(thread.to_phone_number);
    out.key("fromPhoneNumber");
    optional_string(out, thread.from_phone_number);
    out.key("fromPhoneNumberId");
    optional_string(out, thread.from_phone_number_id);
    out.key("leadId");
    optional_string(out, thread.lead_id);
    out.key("isActive").boolean(thread.is_active);
    out.key("createdAt");
    timestamp(out, thread.created_at);
    out.key("updatedAt");
    timestamp(out, thread.updated_at);
    out.key("closedAt");
    if (thread.closed_at) {
        timestamp(out, *thread.closed_at);
    } else {
        out.null();
    }
    out.key("closedReason");
    optional_string(out, thread.closed_reason);
    // Stored maps are JSON text already, serialized once when they were written.
    out.key("metadata");
    thread.metadata_json ? out.raw(*thread.metadata_json) : out.null();
    out.key("variables");
    thread.variables_json ? out.raw(*thread.variables_json) : out.null();
    out.key("agentId").string(thread.agent.id);

    out.key("agentDetails").begin_object();
    out.key("id").string(thread.agent.id);
    out.key("name").string(thread.agent.name);
    out.key("description");
    optional_string(out, thread.agent.description);
    out.key("agentType").string(thread.agent.agent_type);
    out.end_object();

    const auto& version = thread.agent_version;
    out.key("agentVersionDetails").begin_object();
    out.key("id").string(version.id);
    out.key("version").number(version.version);
    out.key("name").string(version.name);
    out.key("mode").string(version.mode);
    out.key("smsMaxTokens");
    optional_number(out, version.sms_max_tokens);
    out.key("smsTemperature");
    optional_number(out, version.sms_temperature);
    out.key("discardInboundSms").boolean(version.discard_inbound_sms);
    out.end_object();
}

std::string thread_body(const store::ThreadRecord& thread) {
    util::JsonWriter out;
    out.begin_object();
    out.key("thread");
    write_thread(out, thread);
    out.end_object();
    return out.take();
}

}  // namespace threadsd::api
