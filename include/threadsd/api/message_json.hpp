#pragma once
// The message object of contract section 9 and the Server-Sent Events that carry it.

#include <string>

#include "threadsd/store/records.hpp"
#include "threadsd/util/json_writer.hpp"

namespace threadsd::api {

/// Writes the message object with every field, the SMS-only ones null.
void write_message(util::JsonWriter& out, const store::MessageRecord& message);

/// The stream event of an outbound message: `id:`, `event: message`, `data:` one JSON line.
std::string message_event(const store::MessageRecord& message);

/// The stream's last event when the thread closes: `event: closed` with the thread object.
std::string closed_event(const store::ThreadRecord& thread);

/// The comment that keeps proxies from closing a quiet stream.
inline constexpr std::string_view kKeepAliveComment = ": keep-alive\n\n";

}  // namespace threadsd::api
