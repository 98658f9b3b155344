#pragma once
// A Server-Sent Events client over one TCP connection, for tests of the live stream: it
// reads the head, then the body as it comes (chunked or closed-delimited), and hands out
// one event at a time.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace threadsd::test {

/// One event of a stream, or one comment line.
struct StreamEvent {
    std::string id;        ///< The `id:` field ("" when none).
    std::string event;     ///< The `event:` field ("" when none: "message" by default).
    std::string data;      ///< The `data:` lines joined by newlines.
    bool comment = false;  ///< A comment (`: keep-alive`), whose text is in `data`.
};

/// A GET of a stream path, its answer and its events.
class EventStreamClient {
  public:
    /// Connects to 127.0.0.1:`port`, sends `GET target` with `headers` (name, value) and
    /// reads the head (fails the test when none comes within `timeout`).
    EventStreamClient(unsigned short port, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::chrono::milliseconds timeout = std::chrono::seconds(15));
    ~EventStreamClient();
    EventStreamClient(const EventStreamClient&) = delete;
    EventStreamClient& operator=(const EventStreamClient&) = delete;

    /// The status code.
    unsigned status() const { return status_; }
    /// A header's value, case-insensitive name ("" when absent).
    std::string header(const std::string& name) const;
    /// For an answer that is not a stream: its whole body (read until its length).
    std::string body();

    /// The next event or comment within `timeout`; nothing when none came in time or the
    /// stream ended (ended() then tells).
    std::optional<StreamEvent> next(std::chrono::milliseconds timeout = std::chrono::seconds(15));
    /// The next event that is not a comment.
    std::optional<StreamEvent> next_event(
        std::chrono::milliseconds timeout = std::chrono::seconds(15));
    /// True once the body ended: the last chunk came, or the server closed.
    bool ended() const { return ended_; }
    /// True once the server closed the connection.
    bool closed() const { return closed_; }
    /// Waits up to `timeout` for the server to close the connection.
    bool wait_closed(std::chrono::milliseconds timeout);

  private:
    /// Reads what the socket has within `timeout` into raw_; false on timeout or close.
    bool fill(std::chrono::milliseconds timeout);
    /// Moves decoded body bytes from raw_ to text_ (dechunking).
    void decode();

    int fd_ = -1;                                               ///< The socket.
    unsigned status_ = 0;                                       ///< Of the head.
    std::vector<std::pair<std::string, std::string>> headers_;  ///< Of the head.
    bool chunked_ = false;                                      ///< Transfer-Encoding: chunked.
    std::string raw_;                                           ///< Bytes read and not decoded yet.
    std::string text_;     ///< Decoded body not yet handed out.
    bool ended_ = false;   ///< See ended().
    bool closed_ = false;  ///< See closed().
};

}  // namespace threadsd::test
