#pragma once
// Turns the bytes of one request into its head and body, counting every byte against the
// limits. The session owns the framing: Beast's parser only parses the head (within the
// head limit, counted for the whole request), and the body, chunked or not, is read here,
// so chunk extensions and trailers are bounded and trailers never become headers.
// Pure and synchronous: the session feeds it what it reads; tests and fuzzers feed it
// bytes directly.

#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "threadsd/api/error.hpp"
#include "threadsd/http/limits.hpp"
#include "threadsd/http/message.hpp"

namespace threadsd::http {

/// How far a RequestReader has come with its request.
enum class ReadState {
    kHead,      ///< Reading the request line and header fields.
    kHeadDone,  ///< The head is complete and passed its checks; start_body() comes next.
    kBody,      ///< Reading the body.
    kDone,      ///< The whole request is read.
    kFailed,    ///< The bytes broke a rule or a limit: error() says which; the connection
                ///< cannot be used for another request.
};

/// Reads one request. A new reader for each request: it is never reused.
class RequestReader {
  public:
    /// Reads within `limits`, which must outlive the reader.
    explicit RequestReader(const HttpLimits& limits);

    /// Uses what it can of `input`: the head while in kHead (stopping right after it), body
    /// bytes while in kBody. Returns how many bytes it used; the rest belongs to a later
    /// call (or, after kDone, to the next request).
    std::size_t feed(std::string_view input);

    /// Where the request stands.
    ReadState state() const { return state_; }

    /// The request: its head from kHeadDone on, its body too once kDone.
    Request& request() { return parser_.get(); }
    /// The request (read-only).
    const Request& request() const { return parser_.get(); }

    /// Why the request is refused; meaningful in kFailed only.
    const api::ApiError& error() const { return error_; }

    /// True when an HTTP/1.1 client waits for `100 Continue` before sending its body.
    bool expects_continue() const { return expects_continue_; }

    /// After the head: begins reading the body, keeping it (`keep`) or counting and dropping
    /// it (the body of a refused request, read only to keep the connection usable). Goes to
    /// kDone for a request without a body, kFailed when the declared length is over the body
    /// limit, else kBody.
    void start_body(bool keep);

    /// Body bytes received so far, kept or not.
    std::size_t body_bytes() const { return body_bytes_; }

  private:
    /// The states of the chunked decoder (RFC 9112 section 7.1).
    enum class Chunk {
        kSize,          ///< Hex digits of a chunk size.
        kSizeSpace,     ///< Blanks after the size, before `;` or CR.
        kExtension,     ///< A chunk extension: counted, checked for control bytes, dropped.
        kSizeLf,        ///< The LF ending a chunk-size line.
        kData,          ///< Chunk data.
        kDataCr,        ///< The CR after chunk data.
        kDataLf,        ///< The LF after chunk data.
        kTrailerStart,  ///< The first byte of a trailer line, or the CR of the final CRLF.
        kTrailerName,   ///< A trailer field's name.
        kTrailerValue,  ///< A trailer field's value.
        kTrailerLf,     ///< The LF ending a trailer line.
        kEndLf,         ///< The LF of the final CRLF.
    };

    /// feed() in kHead.
    std::size_t feed_head(std::string_view input);
    /// feed() in kBody for a Content-Length body.
    std::size_t feed_sized(std::string_view input);
    /// feed() in kBody for a chunked body.
    std::size_t feed_chunked(std::string_view input);
    /// The checks of a complete head that Beast does not make (RFC 9112 and the contract).
    void check_head();
    /// Adds body bytes, kept or not.
    void take_body(std::string_view bytes);
    /// Counts one byte of chunked framing against its allowance; false when over it.
    bool count_framing();
    /// Goes to kFailed with `code` and `message`.
    void fail(api::ErrorCode code, std::string message);

    /// The head parser; after the head it only holds the request.
    boost::beast::http::request_parser<boost::beast::http::string_body> parser_;
    const HttpLimits& limits_;             ///< Head, body and framing limits.
    ReadState state_ = ReadState::kHead;   ///< Where the request stands.
    api::ApiError error_;                  ///< Why it failed, in kFailed.
    std::size_t head_bytes_ = 0;           ///< Head bytes used, leading empty lines included.
    bool chunked_ = false;                 ///< Transfer-Encoding: chunked.
    std::optional<std::uint64_t> length_;  ///< Content-Length, when declared.
    bool expects_continue_ = false;        ///< See expects_continue().
    bool keep_body_ = true;                ///< Store the body (false: count and drop it).
    std::size_t body_bytes_ = 0;           ///< Body bytes received.
    std::size_t framing_bytes_ = 0;        ///< Chunk-size lines, extensions, CRLFs, trailers.
    Chunk chunk_ = Chunk::kSize;           ///< The chunked decoder's state.
    std::uint64_t chunk_left_ = 0;         ///< Size of the chunk being read, then what is left.
    bool chunk_has_digit_ = false;         ///< The size line has at least one hex digit.
};

}  // namespace threadsd::http
