#pragma once
// The thread object of the upstream schema, written from a stored row.

#include <string>

#include "threadsd/store/records.hpp"
#include "threadsd/util/json_writer.hpp"

namespace threadsd::api {

/// Writes the thread object with every field of the upstream schema, in schema order.
void write_thread(util::JsonWriter& out, const store::ThreadRecord& thread);

/// Writes the thread object's fields into an object the caller opened and closes (a page
/// of messages adds its own fields after them).
void write_thread_fields(util::JsonWriter& out, const store::ThreadRecord& thread);

/// `{"thread": {...}}`, the body of a single-thread response.
std::string thread_body(const store::ThreadRecord& thread);

}  // namespace threadsd::api
