#include "threadsd/http/request_reader.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <iterator>

#include "threadsd/util/text.hpp"

namespace threadsd::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using api::ErrorCode;

namespace {

const std::string kBadChunking = "the request body's chunked framing is invalid";

/// A tchar of RFC 9110 section 5.6.2: what a field name is made of.
bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || u <= 0x20 || u == 0x7f) {
        return false;
    }
    return std::string_view("\"(),/:;<=>?@[\\]{}").find(c) == std::string_view::npos;
}

/// A control byte other than HTAB: never part of a field value or chunk extension.
bool is_control(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

/// How many fields of `head` are named `name`.
std::size_t count_fields(const Request& head, std::string_view name) {
    const auto [first, last] = head.equal_range(name);
    return static_cast<std::size_t>(std::distance(first, last));
}

/// An absolute-form target (`http://host/path?q`) in origin form (`/path?q`): a server
/// must accept the absolute form (RFC 9112 section 3.2.2), and routes know paths only.
std::optional<std::string> origin_form(std::string_view target) {
    std::size_t scheme = 0;
    if (util::starts_with_ascii_nocase(target, "http://")) {
        scheme = 7;
    } else if (util::starts_with_ascii_nocase(target, "https://")) {
        scheme = 8;
    } else {
        return std::nullopt;
    }
    const std::string_view rest = target.substr(scheme);
    const auto end_of_authority = rest.find_first_of("/?");
    if (end_of_authority == std::string_view::npos) {
        return std::string("/");
    }
    // Built by appending: g++ 12 at -O3 warns (-Wrestrict) about "/" + std::string.
    std::string path;
    if (rest[end_of_authority] == '?') {
        path.push_back('/');
    }
    path.append(rest.substr(end_of_authority));
    return path;
}

/// What a client is told when Beast refuses the head.
std::string head_error_message(const beast::error_code& ec) {
    if (ec == bhttp::error::bad_transfer_encoding) {
        return "Transfer-Encoding must be chunked alone, without Content-Length";
    }
    if (ec == bhttp::error::bad_content_length || ec == bhttp::error::multiple_content_length) {
        return "Content-Length must be one decimal number, without Transfer-Encoding";
    }
    return "the request is not valid HTTP/1.1";
}

}  // namespace

RequestReader::RequestReader(const HttpLimits& limits) : limits_(limits) {
    // The body is read here, not by Beast: Beast must not refuse a long Content-Length at
    // the head (the contract answers route and credentials first).
    parser_.body_limit(boost::none);
    parser_.eager(false);
}

std::size_t RequestReader::feed(std::string_view input) {
    switch (state_) {
        case ReadState::kHead:
            return feed_head(input);
        case ReadState::kBody:
            return chunked_ ? feed_chunked(input) : feed_sized(input);
        case ReadState::kHeadDone:
        case ReadState::kDone:
        case ReadState::kFailed:
            break;
    }
    return 0;
}

void RequestReader::fail(ErrorCode code, std::string message) {
    state_ = ReadState::kFailed;
    error_ = {code, std::move(message)};
}

std::size_t RequestReader::feed_head(std::string_view input) {
    const std::size_t limit = limits_.max_header_bytes;
    std::size_t used = 0;
    if (!parser_.got_some()) {
        // Empty lines before the request line are ignored (RFC 9112 section 2.2); they
        // count against the head limit like any other byte.
        while (used < input.size()) {
            if (input[used] == '\n') {
                ++used;
            } else if (input[used] == '\r' && used + 1 < input.size() && input[used + 1] == '\n') {
                used += 2;
            } else {
                break;
            }
        }
        head_bytes_ += used;
        if (head_bytes_ >= limit) {
            fail(ErrorCode::kHeaderFieldsTooLarge,
                 "request line and headers exceed " + std::to_string(limit) + " bytes");
            return used;
        }
        if (used == input.size() || (input[used] == '\r' && used + 1 == input.size())) {
            return used;  // Only empty lines so far, or a CR whose LF is yet to come.
        }
    }
    const std::string_view rest = input.substr(used);
    // Beast counts its limit per call; the budget passed each time makes it per request.
    parser_.header_limit(static_cast<std::uint32_t>(limit - head_bytes_));
    beast::error_code ec;
    const std::size_t parsed = parser_.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    used += parsed;
    head_bytes_ += parsed;
    if (ec == bhttp::error::need_more) {
        // What Beast has not taken yet is still part of the head.
        if (head_bytes_ + (rest.size() - parsed) >= limit) {
            fail(ErrorCode::kHeaderFieldsTooLarge,
                 "request line and headers exceed " + std::to_string(limit) + " bytes");
        }
        return used;
    }
    if (ec == bhttp::error::header_limit) {
        fail(ErrorCode::kHeaderFieldsTooLarge,
             "request line and headers exceed " + std::to_string(limit) + " bytes");
        return used;
    }
    if (ec) {
        fail(ErrorCode::kBadRequest, head_error_message(ec));
        return used;
    }
    check_head();
    if (state_ != ReadState::kFailed) {
        state_ = ReadState::kHeadDone;
    }
    return used;
}

void RequestReader::check_head() {
    Request& head = parser_.get();
    const bool http11 = head.version() >= 11;

    // RFC 9112 section 3.2: exactly one Host in HTTP/1.1, never two.
    const std::size_t hosts = count_fields(head, "Host");
    if (hosts > 1) {
        return fail(ErrorCode::kBadRequest, "the Host header is repeated");
    }
    if (hosts == 0 && http11) {
        return fail(ErrorCode::kBadRequest, "the Host header is required in HTTP/1.1");
    }
    // Two credentials or two media types are ambiguous: never guess which one counts.
    for (const std::string_view name : {"X-API-Key", "Authorization", "Content-Type"}) {
        if (count_fields(head, name) > 1) {
            return fail(ErrorCode::kBadRequest, "the " + std::string(name) + " header is repeated");
        }
    }

    // Only one framing is trusted: a single `chunked` coding. Anything else could be read
    // differently by a proxy in front, which is how request smuggling starts.
    const std::size_t codings = count_fields(head, "Transfer-Encoding");
    if (codings > 0) {
        if (!http11) {
            return fail(ErrorCode::kBadRequest, "Transfer-Encoding is not allowed in HTTP/1.0");
        }
        if (codings > 1 ||
            !util::iequals_ascii(trim_header_value(head[bhttp::field::transfer_encoding]),
                                 "chunked")) {
            return fail(ErrorCode::kBadRequest,
                        "Transfer-Encoding other than one chunked coding is not supported");
        }
        chunked_ = true;
    }
    if (const auto declared = parser_.content_length()) {
        length_ = *declared;
    }

    // RFC 9110 section 10.1.1: an HTTP/1.0 client cannot expect an interim answer.
    const bool body_follows = chunked_ || (length_ && *length_ > 0);
    expects_continue_ =
        http11 && body_follows &&
        util::iequals_ascii(trim_header_value(head[bhttp::field::expect]), "100-continue");

    if (auto origin = origin_form(head.target())) {
        head.target(*origin);
    }
}

void RequestReader::start_body(bool keep) {
    if (state_ != ReadState::kHeadDone) {
        return;
    }
    keep_body_ = keep;
    if (chunked_) {
        state_ = ReadState::kBody;
        return;
    }
    if (!length_ || *length_ == 0) {
        state_ = ReadState::kDone;
        return;
    }
    if (*length_ > limits_.max_body_bytes) {
        return fail(ErrorCode::kPayloadTooLarge,
                    "request body exceeds " + std::to_string(limits_.max_body_bytes) + " bytes");
    }
    if (keep) {
        request().body().reserve(static_cast<std::size_t>(*length_));
    }
    state_ = ReadState::kBody;
}

void RequestReader::take_body(std::string_view bytes) {
    body_bytes_ += bytes.size();
    if (keep_body_) {
        request().body().append(bytes);
    }
}

std::size_t RequestReader::feed_sized(std::string_view input) {
    const std::uint64_t left = *length_ - body_bytes_;
    const std::size_t used = static_cast<std::size_t>(std::min<std::uint64_t>(left, input.size()));
    take_body(input.substr(0, used));
    if (body_bytes_ == *length_) {
        state_ = ReadState::kDone;
    }
    return used;
}

bool RequestReader::count_framing() {
    if (++framing_bytes_ > limits_.max_framing_bytes) {
        fail(ErrorCode::kPayloadTooLarge,
             "the request body's chunked framing (chunk sizes, extensions and trailers) exceeds " +
                 std::to_string(limits_.max_framing_bytes) + " bytes");
        return false;
    }
    return true;
}

std::size_t RequestReader::feed_chunked(std::string_view input) {
    std::size_t i = 0;
    while (i < input.size() && state_ == ReadState::kBody) {
        if (chunk_ == Chunk::kData) {
            const auto take =
                static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, input.size() - i));
            take_body(input.substr(i, take));
            i += take;
            chunk_left_ -= take;
            if (chunk_left_ == 0) {
                chunk_ = Chunk::kDataCr;
            }
            continue;
        }
        // Every byte that is not chunk data is framing, counted against its allowance.
        const char c = input[i++];
        if (!count_framing()) {
            break;
        }
        bool ok = true;
        switch (chunk_) {
            case Chunk::kSize: {
                const int digit = util::hex_digit_value(c);
                if (digit >= 0) {
                    chunk_has_digit_ = true;
                    // chunk_left_ stays within the body limit, so this cannot overflow.
                    chunk_left_ = chunk_left_ * 16 + static_cast<unsigned>(digit);
                    if (chunk_left_ > limits_.max_body_bytes - body_bytes_) {
                        fail(ErrorCode::kPayloadTooLarge,
                             "request body exceeds " + std::to_string(limits_.max_body_bytes) +
                                 " bytes");
                    }
                } else if (!chunk_has_digit_) {
                    ok = false;
                } else if (c == ';') {
                    chunk_ = Chunk::kExtension;
                } else if (c == ' ' || c == '\t') {
                    chunk_ = Chunk::kSizeSpace;
                } else if (c == '\r') {
                    chunk_ = Chunk::kSizeLf;
                } else {
                    ok = false;
                }
                break;
            }
            case Chunk::kSizeSpace:
                if (c == ';') {
                    chunk_ = Chunk::kExtension;
                } else if (c == '\r') {
                    chunk_ = Chunk::kSizeLf;
                } else {
                    ok = c == ' ' || c == '\t';
                }
                break;
            case Chunk::kExtension:
                // Extensions mean nothing to threadsd: checked for control bytes, dropped.
                if (c == '\r') {
                    chunk_ = Chunk::kSizeLf;
                } else {
                    ok = !is_control(c);
                }
                break;
            case Chunk::kSizeLf:
                ok = c == '\n';
                chunk_has_digit_ = false;
                chunk_ = chunk_left_ == 0 ? Chunk::kTrailerStart : Chunk::kData;
                break;
            case Chunk::kDataCr:
                ok = c == '\r';
                chunk_ = Chunk::kDataLf;
                break;
            case Chunk::kDataLf:
                ok = c == '\n';
                chunk_ = Chunk::kSize;
                break;
            case Chunk::kTrailerStart:
                // Trailer fields are read and dropped, never merged into the headers.
                if (c == '\r') {
                    chunk_ = Chunk::kEndLf;
                } else {
                    ok = is_token_char(c);
                    chunk_ = Chunk::kTrailerName;
                }
                break;
            case Chunk::kTrailerName:
                if (c == ':') {
                    chunk_ = Chunk::kTrailerValue;
                } else {
                    ok = is_token_char(c);
                }
                break;
            case Chunk::kTrailerValue:
                if (c == '\r') {
                    chunk_ = Chunk::kTrailerLf;
                } else {
                    ok = !is_control(c);
                }
                break;
            case Chunk::kTrailerLf:
                ok = c == '\n';
                chunk_ = Chunk::kTrailerStart;
                break;
            case Chunk::kEndLf:
                ok = c == '\n';
                state_ = ReadState::kDone;
                break;
            case Chunk::kData:
                break;  // Handled above.
        }
        if (!ok) {
            fail(ErrorCode::kBadRequest, kBadChunking);
        }
    }
    return i;
}

}  // namespace threadsd::http
