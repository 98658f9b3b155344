#include "threadsd/store/postgres/pg_connection.hpp"

#include <poll.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <limits>
#include <utility>

namespace threadsd::store::postgres {
namespace {

namespace net = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

/// How long a wait trusts the reactor before looking at the socket itself. Asio's epoll
/// reactor is edge-triggered and does not replay an edge that another I/O thread took
/// before our wait was queued; this bounds what such a lost wakeup costs.
constexpr auto kRecheck = std::chrono::seconds(1);

/// The readiness (POLLIN, POLLOUT, POLLERR, POLLHUP) of `fd` among `events`, now.
short ready_now(int fd, short events) {
    pollfd entry{fd, events, 0};
    int rc = 0;
    do {
        rc = ::poll(&entry, 1, 0);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        return POLLERR;  // Let libpq's next call find out what is wrong with the socket.
    }
    return entry.revents;
}

/// A stream_descriptor over a socket libpq owns: it must never close it, only release it.
class BorrowedSocket {
  public:
    /// Registers `fd` with the executor's reactor.
    BorrowedSocket(const net::any_io_executor& executor, int fd) : descriptor_(executor, fd) {}
    /// Deregisters the socket and leaves it open, whatever way the wait ended.
    ~BorrowedSocket() { descriptor_.release(); }
    BorrowedSocket(const BorrowedSocket&) = delete;
    BorrowedSocket& operator=(const BorrowedSocket&) = delete;
    /// The descriptor to wait on.
    net::posix::stream_descriptor& get() { return descriptor_; }

  private:
    net::posix::stream_descriptor descriptor_;  ///< Released, never closed.
};

/// Suspends until `fd` is ready for one of `events` (POLLIN, POLLOUT or both) and returns
/// what it is ready for, or 0 once `deadline` has passed. The socket is wrapped afresh for
/// each wait because libpq may replace it (during connect) and owns it.
net::awaitable<short> wait_socket(net::any_io_executor executor, int fd, short events,
                                  std::optional<Clock::time_point> deadline) {
    net::steady_timer timer(executor);
    for (;;) {
        const short ready = ready_now(fd, events);
        if (ready != 0) {
            co_return ready;
        }
        const auto now = Clock::now();
        if (deadline && now >= *deadline) {
            co_return 0;
        }
        auto until = now + kRecheck;
        if (deadline && *deadline < until) {
            until = *deadline;
        }
        timer.expires_at(until);
        BorrowedSocket socket(executor, fd);
        auto& descriptor = socket.get();
        if (events == (POLLIN | POLLOUT)) {
            co_await (
                descriptor.async_wait(net::posix::descriptor_base::wait_read, net::use_awaitable) ||
                descriptor.async_wait(net::posix::descriptor_base::wait_write,
                                      net::use_awaitable) ||
                timer.async_wait(net::use_awaitable));
        } else {
            const auto type = (events & POLLOUT) != 0 ? net::posix::descriptor_base::wait_write
                                                      : net::posix::descriptor_base::wait_read;
            co_await (descriptor.async_wait(type, net::use_awaitable) ||
                      timer.async_wait(net::use_awaitable));
        }
    }
}

/// Drops server notices: libpq's default prints them on stderr, which is not our log.
void ignore_notice(void*, const char*) {}

bool starts_with_nocase(std::string_view text, std::size_t at, std::string_view prefix) {
    if (text.size() - at < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[at + i])) != prefix[i]) {
            return false;
        }
    }
    return true;
}

bool ends_with_nocase(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() &&
           starts_with_nocase(text, text.size() - suffix.size(), suffix);
}

bool is_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

/// A range [begin, end) of a conninfo that holds a secret.
struct Span {
    std::size_t begin;  ///< First character of the secret.
    std::size_t end;    ///< One past its last character.
    bool uri;           ///< True when percent-encoded (a URI), false for key=value quoting.
};

/// Length of the URI scheme at `at` ("postgresql://" or "postgres://"), 0 when none.
std::size_t uri_scheme_at(std::string_view text, std::size_t at) {
    if (starts_with_nocase(text, at, "postgresql://")) {
        return 13;
    }
    if (starts_with_nocase(text, at, "postgres://")) {
        return 11;
    }
    return 0;
}

/// The password spans of the URI text[begin, end) whose authority starts at `start`.
void uri_secrets(std::string_view text, std::size_t start, std::size_t end,
                 std::vector<Span>& spans) {
    const std::string_view uri = text.substr(0, end);
    const std::size_t query = std::min(uri.find('?', start), end);
    // libpq takes the first '@' before a '/' as the end of user:password; an unencoded
    // '@', '/' or '?' in a password makes that guess differ from the last '@' before the
    // query. Redacting up to the later of the two covers what either reading calls secret.
    std::size_t at = std::string_view::npos;
    const std::size_t slash = std::min(uri.find('/', start), end);
    const std::size_t first_at = uri.find('@', start);
    if (first_at < slash) {
        at = first_at;
    }
    const std::size_t last_at = uri.substr(0, query).rfind('@');
    if (last_at != std::string_view::npos && last_at >= start &&
        (at == std::string_view::npos || last_at > at)) {
        at = last_at;
    }
    if (at != std::string_view::npos) {
        const std::size_t colon = uri.find(':', start);
        if (colon < at && colon + 1 < at) {
            spans.push_back({colon + 1, at, true});
        }
    }
    if (query >= end) {
        return;
    }
    std::size_t param = query + 1;
    while (param < end) {
        std::size_t param_end = std::min(uri.find('&', param), end);
        const std::size_t eq = uri.find('=', param);
        if (eq < param_end) {
            const std::string_view key = uri.substr(param, eq - param);
            // "sslpassword" is a secret too; a percent-encoded key is taken as one.
            if ((ends_with_nocase(key, "password") || key.find('%') != std::string_view::npos) &&
                eq + 1 < param_end) {
                spans.push_back({eq + 1, param_end, true});
            }
        }
        param = param_end + 1;
    }
}

/// Every range of `text` (a conninfo, or a message that may quote one) holding a
/// password: URI userinfo and ?password=, and key=value password=, quoted or not.
std::vector<Span> secret_spans(std::string_view text) {
    std::vector<Span> spans;
    std::size_t i = 0;
    while (i < text.size()) {
        if (const std::size_t scheme = uri_scheme_at(text, i); scheme != 0) {
            std::size_t end = i + scheme;
            while (end < text.size() && !is_space(text[end]) && text[end] != '"' &&
                   text[end] != '\'') {
                ++end;
            }
            uri_secrets(text, i + scheme, end, spans);
            i = end;
            continue;
        }
        if (!starts_with_nocase(text, i, "password")) {
            ++i;
            continue;
        }
        std::size_t j = i + 8;
        while (j < text.size() && is_space(text[j])) {
            ++j;
        }
        if (j >= text.size() || text[j] != '=') {
            i += 8;
            continue;
        }
        ++j;
        while (j < text.size() && is_space(text[j])) {
            ++j;
        }
        const std::size_t value = j;
        if (j < text.size() && text[j] == '\'') {
            // libpq's quoting: up to the next quote not escaped by a backslash.
            ++j;
            while (j < text.size() && text[j] != '\'') {
                j += text[j] == '\\' ? 2 : 1;
            }
            j = std::min(j + 1, text.size());
        } else {
            while (j < text.size() && !is_space(text[j])) {
                j += text[j] == '\\' ? 2 : 1;
            }
            j = std::min(j, text.size());
        }
        if (j > value) {
            spans.push_back({value, j, false});
        }
        i = j;
    }
    return spans;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/// A secret as the server and libpq see it: percent-decoded, or unquoted and unescaped.
std::string decode_secret(std::string_view raw, bool uri) {
    std::string out;
    if (uri) {
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '%' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 &&
                hex_value(raw[i + 2]) >= 0) {
                out += static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2]));
                i += 2;
            } else {
                out += raw[i];
            }
        }
        return out;
    }
    if (raw.size() >= 2 && raw.front() == '\'' && raw.back() == '\'') {
        raw = raw.substr(1, raw.size() - 2);
    }
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size()) {
            ++i;
        }
        out += raw[i];
    }
    return out;
}

/// The passwords of `conninfo`, as written and as decoded, to scrub from libpq's text.
std::vector<std::string> secrets_of(std::string_view conninfo) {
    std::vector<std::string> secrets;
    for (const auto& span : secret_spans(conninfo)) {
        const auto raw = conninfo.substr(span.begin, span.end - span.begin);
        secrets.emplace_back(raw);
        secrets.push_back(decode_secret(raw, span.uri));
    }
    // Longest first, so a secret that contains another is replaced whole.
    std::sort(secrets.begin(), secrets.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    return secrets;
}

/// `message` (libpq's text) on one line, with every known secret and every password= or
/// URI password replaced by "***". libpq adds hints on lines of their own ("\n\tIs the
/// server running locally..."), and an error is one log line.
std::string scrub(std::string_view message, const std::vector<std::string>& secrets) {
    std::string text;
    text.reserve(message.size());
    bool at_break = false;
    for (const char c : message) {
        if (c == '\n' || c == '\r' || (at_break && (c == '\t' || c == ' '))) {
            at_break = true;
            continue;
        }
        if (at_break && !text.empty()) {
            text += ' ';
        }
        at_break = false;
        text += c;
    }
    for (const auto& secret : secrets) {
        if (secret.empty()) {
            continue;
        }
        for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
            text.replace(at, secret.size(), "***");
        }
    }
    return redact_conninfo(text);
}

/// libpq's last error on `connection`, scrubbed.
std::string error_text(PGconn* connection, const std::vector<std::string>& secrets = {}) {
    if (connection == nullptr) {
        return "out of memory";
    }
    const char* message = PQerrorMessage(connection);
    return scrub(message != nullptr ? message : "", secrets);
}

}  // namespace

PgError::PgError(std::string sqlstate, std::string message, std::size_t statement_index)
    : PgFailure("statement " + std::to_string(statement_index) + " failed: SQLSTATE " + sqlstate +
                ": " + redact_conninfo(message)),
      sqlstate_(std::move(sqlstate)),
      message_(std::move(message)),
      statement_index_(statement_index) {}

// ---- PgResult ----

void PgResult::Clear::operator()(PGresult* result) const {
    PQclear(result);
}

PgResult::PgResult(PGresult* result) : result_(result) {}

ExecStatusType PgResult::status() const {
    return PQresultStatus(result_.get());
}

int PgResult::rows() const {
    return PQntuples(result_.get());
}

int PgResult::columns() const {
    return PQnfields(result_.get());
}

void PgResult::check(int row, int column) const {
    if (row < 0 || row >= rows() || column < 0 || column >= columns()) {
        throw std::out_of_range("no value at row " + std::to_string(row) + ", column " +
                                std::to_string(column) + " of a result of " +
                                std::to_string(rows()) + " rows and " + std::to_string(columns()) +
                                " columns");
    }
}

bool PgResult::is_null(int row, int column) const {
    check(row, column);
    return PQgetisnull(result_.get(), row, column) != 0;
}

std::string_view PgResult::text(int row, int column) const {
    check(row, column);
    return {PQgetvalue(result_.get(), row, column),
            static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

std::optional<std::string> PgResult::optional_text(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    return std::string(text(row, column));
}

std::int64_t PgResult::integer(int row, int column) const {
    if (is_null(row, column)) {
        throw PgFailure("NULL at row " + std::to_string(row) + ", column " +
                        std::to_string(column) + " where an integer was expected");
    }
    const auto value = text(row, column);
    std::int64_t number = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (error != std::errc() || end != value.data() + value.size()) {
        throw PgFailure("not an integer at row " + std::to_string(row) + ", column " +
                        std::to_string(column));
    }
    return number;
}

std::string PgResult::error_field(int field) const {
    const char* value = PQresultErrorField(result_.get(), field);
    return value != nullptr ? value : "";
}

std::int64_t PgResult::affected_rows() const {
    const std::string_view count = PQcmdTuples(result_.get());
    std::int64_t number = 0;
    std::from_chars(count.data(), count.data() + count.size(), number);
    return number;
}

// ---- PgConnection ----

/// Marks the connection busy for one operation, and broken if the operation ends by an
/// exception other than PgError or by its coroutine being destroyed midway: the pipeline
/// would be out of step with the results still on their way.
class PgConnection::Operation {
  public:
    /// Starts an operation on `connection`; `interruptible` when stopping midway leaves
    /// nothing in flight (waiting for a notification).
    explicit Operation(PgConnection& connection, bool interruptible = false)
        : connection_(connection), interruptible_(interruptible) {
        connection_.enter();
    }
    /// Frees the connection; breaks it unless complete() was called.
    ~Operation() {
        connection_.busy_ = false;
        if (!completed_ && !interruptible_) {
            connection_.healthy_ = false;
        }
    }
    Operation(const Operation&) = delete;
    Operation& operator=(const Operation&) = delete;
    /// The pipeline is back in step: the connection may be used again.
    void complete() { completed_ = true; }

  private:
    PgConnection& connection_;  ///< The connection in use.
    bool interruptible_;        ///< Stopping midway does not break the connection.
    bool completed_ = false;    ///< Set once the operation ran to its end.
};

void PgConnection::Finish::operator()(PGconn* connection) const {
    PQfinish(connection);
}

PgConnection::PgConnection(net::any_io_executor executor, Handle connection,
                           std::string redacted_conninfo)
    : executor_(std::move(executor)),
      connection_(std::move(connection)),
      conninfo_(std::move(redacted_conninfo)) {}

PgConnection::~PgConnection() = default;

net::awaitable<std::unique_ptr<PgConnection>> PgConnection::connect(
    net::any_io_executor executor, std::string conninfo, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    const std::string shown = redact_conninfo(conninfo);
    const std::vector<std::string> secrets = secrets_of(conninfo);

    Handle connection(PQconnectStart(conninfo.c_str()));
    if (!connection || PQstatus(connection.get()) == CONNECTION_BAD) {
        throw PgConnectionLost("cannot connect to " + shown + ": " +
                               error_text(connection.get(), secrets));
    }
    // Right after PQconnectStart, libpq's documentation says to act as if PQconnectPoll
    // had asked for writability.
    PostgresPollingStatusType state = PGRES_POLLING_WRITING;
    while (state != PGRES_POLLING_OK) {
        if (state == PGRES_POLLING_FAILED) {
            throw PgConnectionLost("cannot connect to " + shown + ": " +
                                   error_text(connection.get(), secrets));
        }
        if (state == PGRES_POLLING_READING || state == PGRES_POLLING_WRITING) {
            // The socket may change between polls (another host or address is tried), so
            // it is looked up, and wrapped, again each time.
            const int fd = PQsocket(connection.get());
            if (fd < 0) {
                throw PgConnectionLost("cannot connect to " + shown + ": no socket");
            }
            const short events = state == PGRES_POLLING_READING ? POLLIN : POLLOUT;
            const short ready = co_await wait_socket(executor, fd, events, deadline);
            if (ready == 0) {
                throw PgConnectionLost("cannot connect to " + shown + ": no answer within " +
                                       std::to_string(timeout.count()) + " ms");
            }
        }
        state = PQconnectPoll(connection.get());
    }
    PQsetNoticeProcessor(connection.get(), ignore_notice, nullptr);
    if (PQsetnonblocking(connection.get(), 1) != 0 || PQenterPipelineMode(connection.get()) != 1) {
        throw PgConnectionLost("cannot use the connection to " + shown + ": " +
                               error_text(connection.get(), secrets));
    }
    co_return std::unique_ptr<PgConnection>(
        new PgConnection(std::move(executor), std::move(connection), shown));
}

bool PgConnection::healthy() const {
    return healthy_ && PQstatus(connection_.get()) == CONNECTION_OK;
}

bool PgConnection::probe_alive() {
    if (!healthy() || busy_) {
        return healthy();
    }
    // Only what already arrived is read: a server that went away has sent its goodbye (or
    // closed the socket), and the connection is dropped before a statement is sent on it.
    // A server that shut down sends its FATAL message and closes the socket: the peer's
    // half-close (POLLRDHUP) is what tells it apart from a notice or a notification.
    pollfd ready{PQsocket(connection_.get()), POLLIN | POLLRDHUP, 0};
    if (::poll(&ready, 1, 0) > 0) {
        if ((ready.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0 ||
            PQconsumeInput(connection_.get()) == 0) {
            healthy_ = false;
        }
    }
    return healthy();
}

int PgConnection::backend_pid() const {
    return PQbackendPID(connection_.get());
}

void PgConnection::enter() {
    if (busy_) {
        throw std::logic_error("a PgConnection is used by two coroutines at once");
    }
    if (!healthy()) {
        healthy_ = false;
        throw PgConnectionLost("the connection to " + conninfo_ + " was lost earlier");
    }
    busy_ = true;
}

PgConnectionLost PgConnection::lost(std::string_view what) {
    healthy_ = false;
    return PgConnectionLost(std::string(what) + " (" + conninfo_ +
                            "): " + error_text(connection_.get()));
}

net::awaitable<void> PgConnection::flush() {
    PGconn* connection = connection_.get();
    for (;;) {
        const int rc = PQflush(connection);
        if (rc == 0) {
            co_return;
        }
        if (rc < 0) {
            throw lost("cannot send to the server");
        }
        // The server may be blocked writing results we have not read: read while waiting
        // to write, or both sides wait on each other.
        const short ready =
            co_await wait_socket(executor_, PQsocket(connection), POLLIN | POLLOUT, std::nullopt);
        if ((ready & (POLLIN | POLLERR | POLLHUP)) != 0 && PQconsumeInput(connection) == 0) {
            throw lost("the server closed the connection");
        }
    }
}

net::awaitable<void> PgConnection::wait_readable() {
    PGconn* connection = connection_.get();
    co_await wait_socket(executor_, PQsocket(connection), POLLIN, std::nullopt);
    if (PQconsumeInput(connection) == 0) {
        throw lost("the server closed the connection");
    }
}

net::awaitable<void> PgConnection::exchange(const std::vector<PgStatement>& batch,
                                            std::vector<PgResult>& results) {
    PGconn* connection = connection_.get();
    // What each result the server sends answers: a statement's Parse (prepare) or its run.
    struct Answer {
        std::size_t statement;  ///< Index in `batch`.
        bool prepare;           ///< True for the Parse of a newly prepared statement.
    };
    std::vector<Answer> answers;
    answers.reserve(batch.size());
    // Names prepared by this batch, kept only if the whole batch succeeds. A failed batch
    // may still have created some on the server: names are never reused, so none collides.
    std::vector<std::pair<const std::string*, std::string>> new_names;
    const auto name_of = [&](const std::string& sql) -> const std::string* {
        if (const auto found = prepared_.find(sql); found != prepared_.end()) {
            return &found->second;
        }
        for (const auto& [text, name] : new_names) {
            if (*text == sql) {
                return &name;
            }
        }
        return nullptr;
    };
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto& statement = batch[i];
        std::vector<const char*> values;
        values.reserve(statement.params.size());
        for (const auto& param : statement.params) {
            values.push_back(param ? param->c_str() : nullptr);
        }
        const int count = static_cast<int>(values.size());
        const std::string* name = name_of(statement.sql);
        if (name == nullptr && prepared_.size() + new_names.size() < kMaxPrepared &&
            statement.sql.size() <= kMaxPreparedLength) {
            new_names.emplace_back(&statement.sql, "t" + std::to_string(next_statement_name_++));
            name = &new_names.back().second;
            if (PQsendPrepare(connection, name->c_str(), statement.sql.c_str(), count, nullptr) !=
                1) {
                throw lost("cannot queue a statement");
            }
            answers.push_back({i, true});
        }
        const int sent = name != nullptr
                             ? PQsendQueryPrepared(connection, name->c_str(), count, values.data(),
                                                   nullptr, nullptr, 0)
                             : PQsendQueryParams(connection, statement.sql.c_str(), count, nullptr,
                                                 values.data(), nullptr, nullptr, 0);
        if (sent != 1) {
            throw lost("cannot queue a statement");
        }
        answers.push_back({i, false});
    }
    if (PQpipelineSync(connection) != 1) {
        throw lost("cannot queue the pipeline's sync");
    }
    co_await flush();

    // Each Parse and each statement answers with one result then a NULL; the Sync answers
    // with PGRES_PIPELINE_SYNC and no NULL. After a failure the server skips to the Sync
    // and libpq reports PGRES_PIPELINE_ABORTED for each skipped one.
    std::string fatal;  // A FATAL the server sent before closing, to say why we lost it.
    std::size_t answered = 0;
    bool failed = false;
    int nulls_in_a_row = 0;
    for (;;) {
        if (PQconsumeInput(connection) == 0) {
            throw lost("the server closed the connection" + fatal);
        }
        while (PQisBusy(connection) == 0) {
            PGresult* raw = PQgetResult(connection);
            if (raw == nullptr) {
                if (PQstatus(connection) == CONNECTION_BAD) {
                    throw lost("the server closed the connection" + fatal);
                }
                if (++nulls_in_a_row > 1) {
                    throw lost("the pipeline is out of step with its results");
                }
                continue;
            }
            nulls_in_a_row = 0;
            PgResult result(raw);
            const auto status = result.status();
            if (status == PGRES_PIPELINE_SYNC) {
                if (answered != answers.size() || results.size() != batch.size()) {
                    throw lost("the pipeline returned " + std::to_string(answered) +
                               " results for " + std::to_string(answers.size()) + " messages");
                }
                if (!failed) {
                    for (auto& [text, name] : new_names) {
                        prepared_.emplace(*text, std::move(name));
                    }
                }
                co_return;
            }
            if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
                throw lost("COPY is not supported in a batch");
            }
            if (answered >= answers.size()) {
                throw lost("the pipeline returned more results than it was sent messages");
            }
            const auto answer = answers[answered++];
            if (status == PGRES_FATAL_ERROR) {
                failed = true;
                if (result.error_field(PG_DIAG_SEVERITY_NONLOCALIZED) == "FATAL") {
                    fatal = " after: " + scrub(result.error_field(PG_DIAG_MESSAGE_PRIMARY), {});
                }
            }
            if (answer.prepare) {
                // A Parse that failed stands for its statement (whose run is then skipped);
                // one that succeeded or was skipped has nothing to report.
                if (status == PGRES_FATAL_ERROR) {
                    results.push_back(std::move(result));
                }
            } else if (results.size() == answer.statement) {
                results.push_back(std::move(result));
            }  // else its Parse failed and already stands for it
        }
        co_await wait_readable();
    }
}

net::awaitable<std::vector<PgResult>> PgConnection::run(std::vector<PgStatement> batch) {
    for (const auto& statement : batch) {
        if (statement.params.size() >
            static_cast<std::size_t>(std::numeric_limits<std::uint16_t>::max())) {
            // The protocol counts parameters in 16 bits; refused before anything is sent.
            throw PgFailure("a statement has more than 65535 parameters");
        }
    }
    Operation operation(*this);
    std::vector<PgResult> results;
    results.reserve(batch.size());
    if (batch.empty()) {
        operation.complete();
        co_return results;
    }
    co_await exchange(batch, results);

    const auto failed = std::find_if(results.begin(), results.end(), [](const PgResult& result) {
        return result.status() == PGRES_FATAL_ERROR;
    });
    if (failed == results.end()) {
        operation.complete();
        co_return results;
    }
    PgError error(failed->error_field(PG_DIAG_SQLSTATE),
                  failed->error_field(PG_DIAG_MESSAGE_PRIMARY),
                  static_cast<std::size_t>(failed - results.begin()));
    // A batch that opened a transaction with BEGIN leaves it aborted at the Sync (an
    // implicit one is rolled back by the server): roll it back, so the next caller starts
    // clean and the batch is all or nothing.
    if (PQtransactionStatus(connection_.get()) == PQTRANS_INERROR) {
        const std::vector<PgStatement> rollback{{"ROLLBACK", {}}};
        std::vector<PgResult> rolled_back;
        co_await exchange(rollback, rolled_back);
        if (rolled_back.front().status() != PGRES_COMMAND_OK) {
            throw lost("cannot roll back a failed batch");
        }
    }
    operation.complete();
    throw error;
}

net::awaitable<PgResult> PgConnection::query(std::string sql,
                                             std::vector<std::optional<std::string>> params) {
    std::vector<PgStatement> batch;
    batch.push_back({std::move(sql), std::move(params)});
    auto results = co_await run(std::move(batch));
    co_return std::move(results.front());
}

net::awaitable<PgNotification> PgConnection::wait_notification() {
    Operation operation(*this, true);
    PGconn* connection = connection_.get();
    for (;;) {
        if (PQconsumeInput(connection) == 0) {
            throw lost("the server closed the connection");
        }
        // PQnotifies parses what PQconsumeInput read; it never reads by itself.
        if (PGnotify* notify = PQnotifies(connection); notify != nullptr) {
            PgNotification notification{notify->relname,
                                        notify->extra != nullptr ? notify->extra : ""};
            PQfreemem(notify);
            operation.complete();
            co_return notification;
        }
        co_await wait_socket(executor_, PQsocket(connection), POLLIN, std::nullopt);
    }
}

std::string scrub_libpq_message(std::string_view message, std::string_view conninfo) {
    return scrub(message, secrets_of(conninfo));
}

std::string redact_conninfo(std::string_view conninfo) {
    std::string out;
    out.reserve(conninfo.size());
    std::size_t copied = 0;
    for (const auto& span : secret_spans(conninfo)) {
        out.append(conninfo.substr(copied, span.begin - copied));
        out += "***";
        copied = span.end;
    }
    out.append(conninfo.substr(copied));
    return out;
}

}  // namespace threadsd::store::postgres
