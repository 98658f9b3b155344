#include "threadsd/api/message_json.hpp"

#include "threadsd/api/thread_json.hpp"
#include "threadsd/util/clock.hpp"

namespace threadsd::api {
namespace {

void timestamp(util::JsonWriter& out, std::int64_t unix_ms) {
    std::string buffer;
    buffer.reserve(24);
    util::append_rfc3339_millis(buffer, unix_ms);
    out.string(buffer);
}

// The fields of an SMS message, which a web chat message never has.
constexpr std::string_view kSmsOnlyFields[] = {
    "twilioMessageSid",    "twilioAccountSid", "twilioNumSegments", "twilioPrice",
    "twilioPriceCurrency", "twilioErrorCode",  "twilioErrorMessage"};

}  // namespace

void write_message(util::JsonWriter& out, const store::MessageRecord& message) {
    const bool outbound = message.direction == store::MessageDirection::kOutbound;
    out.begin_object();
    out.key("id").string(message.id);
    out.key("threadId").string(message.thread_id);
    out.key("direction").string(store::direction_name(message.direction));
    out.key("messageBody").raw(message.body_json);
    out.key("status").string(outbound ? "SENT" : "RECEIVED");
    out.key("createdAt");
    timestamp(out, message.created_at);
    out.key("updatedAt");
    timestamp(out, message.created_at);
    out.key("sentAt");
    if (outbound) {
        timestamp(out, message.created_at);
    } else {
        out.null();
    }
    out.key("deliveredAt").null();
    out.key("readAt").null();
    for (const auto field : kSmsOnlyFields) {
        out.key(field).null();
    }
    out.end_object();
}

std::string message_event(const store::MessageRecord& message) {
    // The JSON writer escapes every control character, so the object is one line.
    util::JsonWriter data;
    write_message(data, message);
    std::string event;
    event.reserve(data.str().size() + message.id.size() + 32);
    event.append("id: ").append(message.id).append("\nevent: message\ndata: ");
    event.append(data.str()).append("\n\n");
    return event;
}

std::string closed_event(const store::ThreadRecord& thread) {
    util::JsonWriter data;
    write_thread(data, thread);
    std::string event = "event: closed\ndata: ";
    event.append(data.str()).append("\n\n");
    return event;
}

}  // namespace threadsd::api
