#pragma once
// The body of a long-lived response (a Server-Sent Events stream), as the API produces it
// and the HTTP session sends it: the session knows no threads, the API no sockets.

#include <boost/asio/awaitable.hpp>

#include <string>

namespace threadsd::api {

/// Text of an event stream, produced piece by piece until it ends.
class EventSource {
  public:
    virtual ~EventSource() = default;

    /// Waits for the next piece of the stream and appends it to `out`: events, or a
    /// keep-alive comment when nothing happened for the keep-alive interval. False when the
    /// stream has ended (`out` may hold its last words, such as `event: closed`); call it no
    /// more then. Supports per-operation cancellation (the terminal kind): the session
    /// cancels the wait when the client leaves or the server drains, and ends the stream.
    virtual boost::asio::awaitable<bool> next(std::string& out) = 0;
};

}  // namespace threadsd::api
