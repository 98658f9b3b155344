#pragma once
// A plain POSIX loopback connection and a response parser, for what the Beast client cannot
// do: keep writing after the server stopped reading, and read until the server closes.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/http_client.hpp"

namespace threadsd::test {

/// One TCP connection to 127.0.0.1:port that tolerates a server that stops reading.
class RawConnection {
  public:
    /// Connects (fails the test when it cannot); reads and writes time out after the seconds.
    explicit RawConnection(unsigned short port, int timeout_seconds = 10);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    /// Writes until done or the peer refuses more; true when everything was written.
    bool write(const std::string& bytes);

    /// True once the peer has closed (or reset) the connection; never waits. Bytes the
    /// peer sent before closing are not consumed.
    bool closed_by_peer();

    /// What read_until_closed() got.
    struct Received {
        std::string bytes;    ///< Everything read.
        bool closed = false;  ///< Ended by the peer (close or reset), not by our timeout.
    };
    /// Reads until the peer closes (or resets) the connection, or the read times out.
    Received read_until_closed();

    /// Reads, appending to `into`, until `into` holds `marker`; false when the peer closed
    /// the connection or a read timed out first. For answers that come in pieces, such as
    /// an event stream.
    bool read_until(std::string& into, std::string_view marker);

  private:
    int fd_ = -1;  ///< The socket.
};

/// Parses one response from the front of `bytes` (nullopt when it is not a whole one). For a
/// response to HEAD, `head` says there is no body whatever the headers say; `used` (if given)
/// gets the number of bytes the response took.
std::optional<HttpResult> parse_response(std::string_view bytes, bool head = false,
                                         std::size_t* used = nullptr);

/// Parses the responses in `bytes`, in order; stops at the first incomplete one. `left` (if
/// given) gets the number of bytes after the last whole response.
std::vector<HttpResult> parse_responses(std::string_view bytes, std::size_t* left = nullptr);

}  // namespace threadsd::test
