#include "threadsd/store/postgres/pg_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <stdexcept>
#include <variant>

#include "threadsd/store/postgres/migrations.hpp"
#include "threadsd/store/postgres/open.hpp"
#include "threadsd/store/write_metrics.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/log.hpp"
#include "threadsd/util/prometheus.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::store::postgres {

namespace net = boost::asio;

namespace {

// The SQLSTATE of a unique violation.
constexpr std::string_view kUniqueViolation = "23505";

// A thread's columns in the order read_thread() reads them: t the thread, a its agent, v
// the version it is bound to.
constexpr std::string_view kThreadColumns =
    "t.id, t.organization_id, t.to_phone_number, t.from_phone_number,"
    " t.from_phone_number_id, t.lead_id, t.is_active, t.created_at, t.updated_at,"
    " t.closed_at, t.closed_reason, t.metadata, t.variables,"
    " a.id, a.organization_id, a.name, a.description, a.agent_type, a.deleted,"
    " v.id, v.version, v.name, v.mode, v.sms_max_tokens, v.sms_temperature,"
    " v.discard_inbound_sms";

// A thread with its agent and version as they are now, in the columns read_thread() reads.
const std::string kSelectThread = "SELECT " + std::string(kThreadColumns) +
                                  "  FROM threads t"
                                  "  JOIN agents a ON a.id = t.agent_id"
                                  "  JOIN agent_versions v ON v.id = t.agent_version_id";

// The channel every post, close and expiry notifies (schema/postgres/0003_messages.sql).
constexpr std::string_view kThreadsChannel = "threadsd_threads";

// A message's columns in the order read_message() reads them, of messages m.
constexpr std::string_view kMessageColumns =
    "m.id, m.organization_id, m.thread_id, m.sequence, m.direction, m.body, m.created_at";

// The sequence of a message of a thread, named by its id ($3, NULL for no message).
constexpr std::string_view kSelectSequence =
    "SELECT sequence FROM messages WHERE organization_id = $1 AND thread_id = $2 AND id = $3";

// The catalog generation (schema/postgres/0001_initial.sql), read with a request's statement.
constexpr std::string_view kSelectGeneration =
    "SELECT generation FROM catalog_generation WHERE id = 1";

// The columns of an agent and its published version, from column `first` on.
constexpr std::string_view kAgentColumns =
    "a.id, a.organization_id, a.name, a.description, a.agent_type, a.deleted,"
    " v.id, v.version, v.name, v.mode, v.sms_max_tokens, v.sms_temperature,"
    " v.discard_inbound_sms";

std::optional<double> optional_double(const PgResult& result, int row, int column) {
    if (result.is_null(row, column)) {
        return std::nullopt;
    }
    const auto text = result.text(row, column);
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        throw std::runtime_error("PostgreSQL returned a number that is not one");
    }
    return value;
}

std::optional<std::int64_t> optional_integer(const PgResult& result, int row, int column) {
    if (result.is_null(row, column)) {
        return std::nullopt;
    }
    return result.integer(row, column);
}

AgentRecord read_agent(const PgResult& result, int row, int first) {
    AgentRecord agent;
    agent.id = result.text(row, first);
    agent.organization_id = result.text(row, first + 1);
    agent.name = result.text(row, first + 2);
    agent.description = result.optional_text(row, first + 3);
    agent.agent_type = result.text(row, first + 4);
    agent.deleted = result.integer(row, first + 5) != 0;
    return agent;
}

AgentVersionRecord read_version(const PgResult& result, int row, int first) {
    AgentVersionRecord version;
    version.id = result.text(row, first);
    version.version = result.integer(row, first + 1);
    version.name = result.text(row, first + 2);
    version.mode = result.text(row, first + 3);
    version.sms_max_tokens = optional_double(result, row, first + 4);
    version.sms_temperature = optional_double(result, row, first + 5);
    version.discard_inbound_sms = result.integer(row, first + 6) != 0;
    return version;
}

// The thread in kThreadColumns from column `first` on.
void read_thread(const PgResult& result, int row, ThreadRecord& thread, int first = 0) {
    thread.id = result.text(row, first);
    thread.organization_id = result.text(row, first + 1);
    thread.to_phone_number = result.text(row, first + 2);
    thread.from_phone_number = result.optional_text(row, first + 3);
    thread.from_phone_number_id = result.optional_text(row, first + 4);
    thread.lead_id = result.optional_text(row, first + 5);
    thread.is_active = result.integer(row, first + 6) != 0;
    thread.created_at = result.integer(row, first + 7);
    thread.updated_at = result.integer(row, first + 8);
    thread.closed_at = optional_integer(result, row, first + 9);
    thread.closed_reason = result.optional_text(row, first + 10);
    thread.metadata_json = result.optional_text(row, first + 11);
    thread.variables_json = result.optional_text(row, first + 12);
    thread.agent = read_agent(result, row, first + 13);
    thread.agent_version = read_version(result, row, first + 19);
}

std::string_view direction_text(MessageDirection direction) {
    return direction == MessageDirection::kInbound ? "INBOUND" : "OUTBOUND";
}

// The message in kMessageColumns.
MessageRecord read_message(const PgResult& result, int row) {
    MessageRecord message;
    message.id = result.text(row, 0);
    message.organization_id = result.text(row, 1);
    message.thread_id = result.text(row, 2);
    message.sequence = result.integer(row, 3);
    message.direction =
        result.text(row, 4) == "INBOUND" ? MessageDirection::kInbound : MessageDirection::kOutbound;
    message.body_json = result.text(row, 5);
    message.created_at = result.integer(row, 6);
    return message;
}

std::vector<MessageRecord> read_messages(const PgResult& result) {
    std::vector<MessageRecord> messages;
    messages.reserve(static_cast<std::size_t>(result.rows()));
    for (int i = 0; i < result.rows(); ++i) {
        messages.push_back(read_message(result, i));
    }
    return messages;
}

// What channel kThreadsChannel says of a thread: "<organization> <thread> <sequence>" for a
// message committed, "... closed" for a close.
std::string thread_payload(std::string_view organization_id, std::string_view thread_id,
                           std::string_view what) {
    std::string payload(organization_id);
    payload.append(" ").append(thread_id).append(" ").append(what);
    return payload;
}

// A number as a parameter's text (or NULL).
std::optional<std::string> param(std::int64_t value) {
    return std::to_string(value);
}
std::optional<std::string> param(const std::optional<std::int64_t>& value) {
    return value ? std::optional<std::string>(std::to_string(*value)) : std::nullopt;
}
std::optional<std::string> param(const std::optional<double>& value) {
    if (!value) {
        return std::nullopt;
    }
    // The shortest text that reads back as the same double.
    char text[32];
    const auto [end, error] = std::to_chars(text, text + sizeof text, *value);
    return std::string(text, end);
}
std::optional<std::string> flag(bool value) {
    return std::string(value ? "1" : "0");
}

// A SHA-256 as a bytea parameter.
std::string bytea(const SecretHash& hash) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text = "\\x";
    for (const auto byte : hash) {
        text.push_back(kHex[byte >> 4]);
        text.push_back(kHex[byte & 0xf]);
    }
    return text;
}

// The statement that stores what an edit changed: the maps alone when that is all, since
// an UPDATE maintains the index entries of every column it sets.
PgStatement update_statement(const ThreadRecord& thread, bool closing_changed) {
    if (!closing_changed) {
        return {
            "UPDATE threads SET metadata = $3, variables = $4, updated_at = $5"
            " WHERE organization_id = $1 AND id = $2",
            {thread.organization_id, thread.id, thread.metadata_json, thread.variables_json,
             param(thread.updated_at)}};
    }
    return {
        "UPDATE threads SET metadata = $3, variables = $4, updated_at = $5, is_active = $6,"
        " closed_at = $7, closed_reason = $8"
        " WHERE organization_id = $1 AND id = $2",
        {thread.organization_id, thread.id, thread.metadata_json, thread.variables_json,
         param(thread.updated_at), flag(thread.is_active), param(thread.closed_at),
         thread.closed_reason}};
}

}  // namespace

PgStore::PgStore(net::any_io_executor executor, std::string conninfo, std::size_t pool_size,
                 const StoreOptions& options)
    : description_(redact_conninfo(conninfo)),
      pool_(executor, std::move(conninfo), pool_size, std::chrono::seconds(5)),
      writer_(executor, pool_, options.max_queued_writes),
      executor_(executor) {}

net::awaitable<std::vector<PgResult>> PgStore::run(std::vector<PgStatement> batch) {
    auto connection = co_await pool_.acquire();
    try {
        co_return co_await connection->run(std::move(batch));
    } catch (const PgConnectionLost& lost) {
        util::log_error(std::string("lost a PostgreSQL connection: ") + lost.what());
    } catch (const PgError& refused) {
        util::log_error(std::string("PostgreSQL refused a statement: ") + refused.what());
        throw StoreFailure();
    }
    throw StoreUnavailable();
}

net::awaitable<std::vector<PgResult>> PgStore::run_change(std::vector<PgStatement> batch) {
    auto connection = co_await pool_.acquire();  // StoreUnavailable: nothing was sent
    try {
        co_return co_await connection->run(std::move(batch));
    } catch (const PgConnectionLost& lost) {
        // The commit may or may not have reached the server.
        util::log_error(std::string("lost a PostgreSQL connection during a change: ") +
                        lost.what());
    } catch (const PgError& refused) {
        util::log_error(std::string("PostgreSQL refused a change: ") + refused.what());
    }
    throw StoreFailure();
}

void PgStore::check_generation(const PgResult& result, std::int64_t expected) {
    const auto generation = result.integer(0, 0);
    catalog_.observe(generation);  // a newer one empties the cache, so the retry reloads
    if (generation != expected) {
        throw CatalogChanged();
    }
}

// --- The catalog ---

net::awaitable<AsOf<ApiKeyRecord>> PgStore::api_key(const SecretHash& hash) {
    if (auto cached = catalog_.find_api_key(hash)) {
        co_return std::move(*cached);
    }
    // The generation and the key in one snapshot: the entry is kept under the generation
    // it was current at, never an older one.
    std::vector<PgStatement> batch{
        {"SELECT g.generation, k.id, k.organization_id, k.revoked_at,"
         "       k.rate_limit"
         "  FROM catalog_generation g"
         "  LEFT JOIN api_keys k ON k.secret_hash = $1::bytea"
         " WHERE g.id = 1",
         {bytea(hash)}}};
    auto results = co_await run(std::move(batch));
    const auto& row = results[0];
    AsOf<ApiKeyRecord> answer;
    answer.generation = row.integer(0, 0);
    catalog_.observe(answer.generation);
    if (!row.is_null(0, 1)) {
        answer.value = ApiKeyRecord{std::string(row.text(0, 1)), std::string(row.text(0, 2)),
                                    optional_integer(row, 0, 3), optional_integer(row, 0, 4)};
        // Unknown keys are not kept: guessing cannot fill memory.
        catalog_.keep_api_key(hash, answer.generation, *answer.value);
    }
    co_return answer;
}

net::awaitable<AsOf<std::string>> PgStore::clerk_organization(
    const std::string& clerk_organization_id) {
    if (auto cached = catalog_.find_clerk_organization(clerk_organization_id)) {
        co_return std::move(*cached);
    }
    std::vector<PgStatement> batch{
        {"SELECT g.generation, c.organization_id"
         "  FROM catalog_generation g"
         "  LEFT JOIN clerk_organizations c"
         "    ON c.clerk_organization_id = $1"
         " WHERE g.id = 1",
         {clerk_organization_id}}};
    auto results = co_await run(std::move(batch));
    AsOf<std::string> answer;
    answer.generation = results[0].integer(0, 0);
    catalog_.observe(answer.generation);
    answer.value = results[0].optional_text(0, 1);
    if (answer.value) {
        catalog_.keep_clerk_organization(clerk_organization_id, answer.generation, *answer.value);
    }
    co_return answer;
}

net::awaitable<std::optional<AgentWithPublishedVersion>> PgStore::live_agent(
    std::string_view organization_id, std::string_view agent_id, std::int64_t generation) {
    if (auto cached = catalog_.find_live_agent(organization_id, agent_id, generation)) {
        co_return cached;
    }
    std::vector<PgStatement> batch{
        {"SELECT g.generation, " + std::string(kAgentColumns) +
             "  FROM catalog_generation g"
             "  LEFT JOIN agents a"
             "    ON a.id = $1 AND a.organization_id = $2 AND a.deleted = 0"
             "  LEFT JOIN agent_versions v ON v.agent_id = a.id AND v.published = 1"
             " WHERE g.id = 1",
         {std::string(agent_id), std::string(organization_id)}}};
    auto results = co_await run(std::move(batch));
    const auto& row = results[0];
    check_generation(row, generation);
    if (row.is_null(0, 1)) {
        co_return std::nullopt;  // not kept, like unknown keys
    }
    AgentWithPublishedVersion agent{read_agent(row, 0, 1), std::nullopt};
    if (!row.is_null(0, 7)) {
        agent.published = read_version(row, 0, 7);
    }
    catalog_.keep_live_agent(organization_id, agent_id, generation, agent);
    co_return agent;
}

net::awaitable<void> PgStore::confirm_catalog(std::int64_t generation) {
    std::vector<PgStatement> batch{{std::string(kSelectGeneration), {}}};
    auto results = co_await run(std::move(batch));
    check_generation(results[0], generation);
}

// --- Threads ---

net::awaitable<void> PgStore::create_thread(const ThreadRecord& thread, std::int64_t generation) {
    // Inserted only while the catalog is still at the generation the request was checked
    // at: then the key is live and the agent and version are as the cache has them. A
    // moved catalog changes no row, instead of failing the whole group transaction. The
    // conversation window starts with the thread.
    static const std::string sql =
        "INSERT INTO threads (organization_id, id, agent_id, agent_version_id, to_phone_number,"
        "  from_phone_number, from_phone_number_id, lead_id, is_active, created_at, updated_at,"
        "  closed_at, closed_reason, metadata, variables, window_started_at)"
        " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $10"
        "  WHERE (" +
        std::string(kSelectGeneration) + ") = $16";
    std::vector<PgStatement> insert{
        {sql,
         {thread.organization_id, thread.id, thread.agent.id, thread.agent_version.id,
          thread.to_phone_number, thread.from_phone_number, thread.from_phone_number_id,
          thread.lead_id, flag(thread.is_active), param(thread.created_at),
          param(thread.updated_at), param(thread.closed_at), thread.closed_reason,
          thread.metadata_json, thread.variables_json, param(generation)}}};
    bool skipped = false;
    try {
        co_await writer_.write(std::move(insert));
    } catch (const WriteSkipped&) {
        skipped = true;
    }
    if (skipped) {
        co_await confirm_catalog(generation);  // throws CatalogChanged, as it should
        util::log_error("a create changed no row although the catalog did not move");
        throw StoreFailure();
    }
}

net::awaitable<bool> PgStore::find_thread(std::string_view organization_id,
                                          std::string_view thread_id, std::int64_t generation,
                                          ThreadRecord& thread) {
    // The generation first: the row is then at least as new as the catalog it was checked
    // against. One round trip for both.
    std::vector<PgStatement> batch{
        {std::string(kSelectGeneration), {}},
        {std::string(kSelectThread) + " WHERE t.organization_id = $1 AND t.id = $2",
         {std::string(organization_id), std::string(thread_id)}}};
    auto results = co_await run(std::move(batch));
    check_generation(results[0], generation);
    if (results[1].rows() == 0) {
        co_return false;
    }
    read_thread(results[1], 0, thread);
    co_return true;
}

namespace {

// The parameters of a list page, in the order list_sql() numbers them: the organization,
// then each filter that is present, then the limit.
std::vector<std::optional<std::string>> list_params(std::string_view organization_id,
                                                    const ThreadFilter& filter, std::size_t limit) {
    std::vector<std::optional<std::string>> params{std::string(organization_id)};
    for (const auto* value : {&filter.agent_id, &filter.closed_reason, &filter.to_phone_number,
                              &filter.id_below, &filter.id_at_or_above}) {
        if (*value) {
            params.push_back(*value);
        }
    }
    if (filter.is_active) {
        params.push_back(flag(*filter.is_active));
    }
    params.push_back(std::to_string(limit));
    return params;
}

}  // namespace

std::string PgStore::list_sql(const ThreadFilter& filter) {
    std::string sql(kSelectThread);
    sql += " WHERE t.organization_id = $1";
    int next = 2;
    const auto condition = [&](bool present, std::string_view column, std::string_view op) {
        if (present) {
            sql.append(" AND t.").append(column).append(op).append("$").append(
                std::to_string(next++));
        }
    };
    condition(filter.agent_id.has_value(), "agent_id", " = ");
    condition(filter.closed_reason.has_value(), "closed_reason", " = ");
    condition(filter.to_phone_number.has_value(), "to_phone_number", " = ");
    condition(filter.id_below.has_value(), "id", " < ");
    condition(filter.id_at_or_above.has_value(), "id", " >= ");
    condition(filter.is_active.has_value(), "is_active", " = ");
    sql += " ORDER BY t.id DESC LIMIT $" + std::to_string(next);
    return sql;
}

net::awaitable<std::vector<ThreadRecord>> PgStore::list_threads(std::string_view organization_id,
                                                                const ThreadFilter& filter,
                                                                std::size_t limit,
                                                                std::int64_t generation) {
    std::vector<PgStatement> page{{std::string(kSelectGeneration), {}},
                                  {list_sql(filter), list_params(organization_id, filter, limit)}};
    auto results = co_await run(std::move(page));
    check_generation(results[0], generation);
    const auto& rows = results[1];
    std::vector<ThreadRecord> threads(static_cast<std::size_t>(rows.rows()));
    for (int i = 0; i < rows.rows(); ++i) {
        read_thread(rows, i, threads[static_cast<std::size_t>(i)]);
    }
    co_return threads;
}

net::awaitable<std::optional<ThreadRecord>> PgStore::update_thread(std::string_view organization_id,
                                                                   std::string_view thread_id,
                                                                   std::int64_t generation,
                                                                   ThreadEdit edit) {
    // Read under the row's lock, edit, write and commit: concurrent edits of one thread,
    // from this process or another, each see the one before.
    auto connection = co_await pool_.acquire();
    std::vector<PgStatement> lock{
        {"BEGIN", {}},
        {std::string(kSelectGeneration), {}},
        {std::string(kSelectThread) + " WHERE t.organization_id = $1 AND t.id = $2 FOR UPDATE OF t",
         {std::string(organization_id), std::string(thread_id)}}};
    std::optional<ThreadRecord> thread;
    std::exception_ptr refused;
    try {
        auto results = co_await connection->run(std::move(lock));
        try {
            check_generation(results[1], generation);
            if (results[2].rows() > 0) {
                thread.emplace();
                read_thread(results[2], 0, *thread);
            }
        } catch (const CatalogChanged&) {
            refused = std::current_exception();  // rolled back below, then thrown
        }
    } catch (const PgConnectionLost&) {
        throw StoreUnavailable();  // nothing was written
    } catch (const PgError& error) {
        util::log_error(std::string("PostgreSQL refused a read: ") + error.what());
        throw StoreFailure();
    }
    std::vector<PgStatement> finish;
    if (thread && !refused) {
        const ClosingColumns before(*thread);
        try {
            edit(*thread);
        } catch (...) {
            refused = std::current_exception();
        }
        if (!refused) {
            const bool closing_changed = !(ClosingColumns(*thread) == before);
            finish.push_back(update_statement(*thread, closing_changed));
            if (closing_changed && !thread->is_active) {
                // Delivered at commit: the live streams of every replica see the close.
                finish.push_back({"SELECT pg_notify('" + std::string(kThreadsChannel) + "', $1)",
                                  {thread_payload(thread->organization_id, thread->id, "closed")}});
            }
        }
    }
    finish.push_back({thread && !refused ? "COMMIT" : "ROLLBACK", {}});
    try {
        co_await connection->run(std::move(finish));
    } catch (const PgConnectionLost& lost) {
        // COMMIT may or may not have reached the server.
        util::log_error(std::string("lost a PostgreSQL connection during a change: ") +
                        lost.what());
        throw StoreFailure();
    } catch (const PgError& error) {
        util::log_error(std::string("PostgreSQL refused a change: ") + error.what());
        throw StoreFailure();
    }
    if (refused) {
        std::rethrow_exception(refused);
    }
    co_return thread;
}

// --- Messages ---

namespace {

// A post in one statement, so one round trip and one transaction. It locks the thread,
// only while the catalog is still at the request's generation (else nothing is locked or
// changed); then either takes the next sequence and stores the message (an inbound one
// starts the window again), or closes the thread whose window ended; and notifies either
// at commit. FOR UPDATE returns the row's newest version and the UPDATEs below then change
// that version, so two posts of one thread from anywhere get consecutive sequences in
// commit order (the primary key would refuse a duplicate). It answers with the generation,
// whether the thread was found, the post's sequence and window start (NULL unless posted),
// the notifications sent, then the thread as closed in kThreadColumns (NULL unless it
// expired). $1 organization, $2 thread, $3 generation, $4 window (ms), $5 created_at,
// $6 message id, $7 direction, $8 body, $9 the expired reason.
const std::string kPostMessage =
    "WITH locked AS ("
    "  SELECT last_sequence, window_started_at, is_active, updated_at FROM threads"
    "   WHERE organization_id = $1::uuid AND id = $2::uuid"
    "     AND (" +
    std::string(kSelectGeneration) +
    ") = $3::bigint"
    "   FOR UPDATE),"
    " posted AS ("
    "  UPDATE threads t SET last_sequence = l.last_sequence + 1,"
    "   window_started_at = CASE WHEN $7::text = 'INBOUND' THEN $5::bigint"
    "                            ELSE l.window_started_at END"
    "    FROM locked l"
    "   WHERE t.organization_id = $1::uuid AND t.id = $2::uuid AND l.is_active = 1"
    "     AND l.window_started_at + $4::bigint > $5::bigint"
    "  RETURNING t.organization_id, t.id, t.last_sequence, t.window_started_at),"
    " expired AS ("
    "  UPDATE threads t SET is_active = 0, closed_reason = $9::text,"
    "   closed_at = greatest($5::bigint, l.updated_at + 1),"
    "   updated_at = greatest($5::bigint, l.updated_at + 1)"
    "    FROM locked l"
    "   WHERE t.organization_id = $1::uuid AND t.id = $2::uuid AND l.is_active = 1"
    "     AND l.window_started_at + $4::bigint <= $5::bigint"
    "  RETURNING t.*),"
    " inserted AS ("
    "  INSERT INTO messages (organization_id, thread_id, sequence, id, direction, body,"
    "   created_at)"
    "  SELECT organization_id, id, last_sequence, $6::uuid, $7::text, $8::text, $5::bigint"
    "    FROM posted"
    "  RETURNING organization_id, thread_id, sequence),"
    " notified AS MATERIALIZED ("
    "  SELECT pg_notify('" +
    std::string(kThreadsChannel) +
    "', organization_id::text || ' ' || id::text || ' closed')"
    "    FROM expired)"
    " SELECT (" +
    std::string(kSelectGeneration) +
    "), (SELECT count(*) FROM locked), p.last_sequence, p.window_started_at,"
    "  (SELECT count(*) FROM notified), " +
    std::string(kThreadColumns) +
    "  FROM (SELECT 1) AS one"
    "  LEFT JOIN posted p ON true"
    "  LEFT JOIN expired t ON true"
    "  LEFT JOIN agents a ON a.id = t.agent_id"
    "  LEFT JOIN agent_versions v ON v.id = t.agent_version_id";

// Where kPostMessage's answer has the closed thread's columns.
constexpr int kClosedThreadColumn = 5;

}  // namespace

net::awaitable<PostOutcome> PgStore::post_message(const MessageRecord& message,
                                                  std::chrono::milliseconds window,
                                                  std::int64_t generation) {
    std::vector<PgStatement> batch{
        {kPostMessage,
         {message.organization_id, message.thread_id, param(generation), param(window.count()),
          param(message.created_at), message.id, std::string(direction_text(message.direction)),
          message.body_json, std::string(kExpiredReason)}}};
    auto results = co_await run_change(std::move(batch));
    const auto& row = results[0];
    check_generation(row, generation);  // when it moved, nothing was locked or changed
    PostOutcome outcome;
    if (row.integer(0, 1) == 0) {
        outcome.result = PostResult::kNoThread;
    } else if (!row.is_null(0, 2)) {
        outcome.result = PostResult::kPosted;
        outcome.sequence = row.integer(0, 2);
        outcome.window_started_at = row.integer(0, 3);
        co_await notify_posted(message, outcome.sequence);
    } else if (!row.is_null(0, kClosedThreadColumn)) {
        outcome.result = PostResult::kExpired;
        outcome.closed.emplace();
        read_thread(row, 0, *outcome.closed, kClosedThreadColumn);
    } else {
        outcome.result = PostResult::kClosed;
    }
    co_return outcome;
}

net::awaitable<void> PgStore::notify_posted(const MessageRecord& message, std::int64_t sequence) {
    // Not in the post's own transaction: PostgreSQL holds one lock for the whole database
    // from a notifying transaction's pre-commit until its commit is on disk, so durable
    // posts that notify commit one at a time (about 1,250 a second here, against 10,000
    // creates). A transaction of its own, committed without waiting for the disk, holds it
    // a moment. A notification lost to a crash in between costs a stream the poll's delay.
    std::vector<PgStatement> batch{
        {"BEGIN", {}},
        {"SET LOCAL synchronous_commit TO off", {}},
        {"SELECT pg_notify($1, $2)",
         {std::string(kThreadsChannel),
          message.organization_id + ' ' + message.thread_id + ' ' + std::to_string(sequence)}},
        {"COMMIT", {}}};
    try {
        co_await run(std::move(batch));
    } catch (const std::exception& error) {
        // The message is committed; streams elsewhere see it at their next poll.
        util::log_error(std::string("could not notify other replicas of a message: ") +
                        error.what());
    }
}

std::string PgStore::messages_sql(const MessageFilter& filter) {
    std::string sql = "SELECT ";
    sql.append(kMessageColumns)
        .append("  FROM messages m WHERE m.organization_id = $1 AND m.thread_id = $2");
    int next = 3;
    if (filter.direction) {
        sql.append(" AND m.direction = $").append(std::to_string(next++));
    }
    if (filter.before_id) {
        // One lookup in messages_by_id, then the page is a range of the index below it.
        sql.append(
               " AND m.sequence < (SELECT c.sequence FROM messages c"
               " WHERE c.organization_id = $1 AND c.thread_id = $2 AND c.id = $")
            .append(std::to_string(next++))
            .append(")");
    }
    sql.append(" ORDER BY m.sequence DESC LIMIT $").append(std::to_string(next));
    return sql;
}

net::awaitable<MessagePage> PgStore::list_messages(std::string_view organization_id,
                                                   std::string_view thread_id,
                                                   const MessageFilter& filter, std::size_t limit,
                                                   std::int64_t generation) {
    const std::string organization(organization_id);
    const std::string thread(thread_id);
    // A cursor that is not even a UUID names no message: NULL finds none.
    const auto cursor =
        filter.before_id ? util::normalize_uuid(*filter.before_id) : std::optional<std::string>();
    std::vector<std::optional<std::string>> page_params{organization, thread};
    if (filter.direction) {
        page_params.push_back(std::string(direction_text(*filter.direction)));
    }
    if (filter.before_id) {
        page_params.push_back(cursor);
    }
    page_params.push_back(std::to_string(limit));
    // The generation, the thread, the cursor and the page in one snapshot and one round trip.
    std::vector<PgStatement> batch{
        {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", {}},
        {std::string(kSelectGeneration), {}},
        {kSelectThread + " WHERE t.organization_id = $1 AND t.id = $2", {organization, thread}}};
    if (filter.before_id) {
        batch.push_back({std::string(kSelectSequence), {organization, thread, cursor}});
    }
    batch.push_back({messages_sql(filter), std::move(page_params)});
    batch.push_back({"COMMIT", {}});
    auto results = co_await run(std::move(batch));
    check_generation(results[1], generation);
    MessagePage page;
    if (results[2].rows() == 0) {
        page.thread_found = false;
        co_return page;
    }
    page.thread_found = true;
    read_thread(results[2], 0, page.thread);
    std::size_t next = 3;
    if (filter.before_id) {
        page.cursor_found = results[next++].rows() > 0;
    }
    page.messages = read_messages(results[next]);
    co_return page;
}

net::awaitable<std::optional<std::int64_t>> PgStore::message_sequence(const ThreadKey& thread,
                                                                      std::string_view message_id) {
    const auto id = util::normalize_uuid(message_id);
    if (!id) {
        co_return std::nullopt;  // not even a UUID
    }
    std::vector<PgStatement> batch{
        {std::string(kSelectSequence), {thread.organization_id, thread.thread_id, *id}}};
    auto results = co_await run(std::move(batch));
    if (results[0].rows() == 0) {
        co_return std::nullopt;
    }
    co_return results[0].integer(0, 0);
}

net::awaitable<std::vector<MessageRecord>> PgStore::outbound_after(const ThreadKey& thread,
                                                                   std::int64_t after_sequence,
                                                                   std::size_t limit) {
    // A range of messages_by_direction, oldest first.
    std::vector<PgStatement> batch{
        {"SELECT " + std::string(kMessageColumns) +
             "  FROM messages m"
             " WHERE m.organization_id = $1 AND m.thread_id = $2 AND m.direction = 'OUTBOUND'"
             "   AND m.sequence > $3"
             " ORDER BY m.sequence LIMIT $4",
         {thread.organization_id, thread.thread_id, param(after_sequence), std::to_string(limit)}}};
    auto results = co_await run(std::move(batch));
    co_return read_messages(results[0]);
}

net::awaitable<std::vector<ThreadPosition>> PgStore::thread_positions(
    const std::vector<ThreadKey>& threads) {
    // Two arrays, unnested side by side and joined to the threads' primary key.
    std::string organizations = "{";
    std::string ids = "{";
    bool any = false;
    for (const auto& key : threads) {
        if (!util::is_canonical_uuid(key.organization_id) ||
            !util::is_canonical_uuid(key.thread_id)) {
            continue;  // names no thread
        }
        organizations.append(any ? "," : "").append(key.organization_id);
        ids.append(any ? "," : "").append(key.thread_id);
        any = true;
    }
    std::vector<ThreadPosition> positions;
    if (!any) {
        co_return positions;
    }
    organizations += "}";
    ids += "}";
    std::vector<PgStatement> batch{
        {"SELECT t.organization_id, t.id, t.last_sequence, t.is_active"
         "  FROM unnest($1::uuid[], $2::uuid[]) AS k(organization_id, id)"
         "  JOIN threads t ON t.organization_id = k.organization_id AND t.id = k.id",
         {std::move(organizations), std::move(ids)}}};
    auto results = co_await run(std::move(batch));
    const auto& rows = results[0];
    positions.reserve(static_cast<std::size_t>(rows.rows()));
    for (int i = 0; i < rows.rows(); ++i) {
        positions.push_back({{std::string(rows.text(i, 0)), std::string(rows.text(i, 1))},
                             rows.integer(i, 2),
                             rows.integer(i, 3) != 0});
    }
    co_return positions;
}

net::awaitable<std::optional<ThreadRecord>> PgStore::current_thread(const ThreadKey& thread) {
    // No generation: the agent as the database has it now is the current catalog's.
    std::vector<PgStatement> batch{{kSelectThread + " WHERE t.organization_id = $1 AND t.id = $2",
                                    {thread.organization_id, thread.thread_id}}};
    auto results = co_await run(std::move(batch));
    if (results[0].rows() == 0) {
        co_return std::nullopt;
    }
    std::optional<ThreadRecord> found(std::in_place);
    read_thread(results[0], 0, *found);
    co_return found;
}

std::string PgStore::expire_sql(std::size_t limit) {
    // The open threads whose window ended, oldest window first: a range of the partial
    // index threads_by_window. SKIP LOCKED passes over the threads another sweep (or a
    // post) holds, and a row that another sweep closed after this statement's snapshot
    // is re-checked at its newest version and left out: each thread is closed once.
    // The limit is written into the text, not a parameter: the generic plan then knows
    // how few rows it closes and finds each by its primary key, where LIMIT $n would be
    // planned for a tenth of all due threads, a hash join over the whole table.
    return "WITH due AS ("
           "  SELECT organization_id, id FROM threads"
           "   WHERE is_active = 1 AND window_started_at <= $1::bigint"
           "   ORDER BY window_started_at LIMIT " +
           std::to_string(limit) +
           "   FOR UPDATE SKIP LOCKED),"
           " closed AS ("
           "  UPDATE threads t SET is_active = 0, closed_reason = $3::text,"
           "   closed_at = greatest($2::bigint, t.updated_at + 1),"
           "   updated_at = greatest($2::bigint, t.updated_at + 1)"
           "    FROM due"
           "   WHERE t.organization_id = due.organization_id AND t.id = due.id"
           "     AND t.is_active = 1"
           "  RETURNING t.organization_id, t.id),"
           " notified AS MATERIALIZED ("
           "  SELECT pg_notify('" +
           std::string(kThreadsChannel) +
           "', organization_id::text || ' ' || id::text || ' closed') FROM closed)"
           " SELECT organization_id, id, (SELECT count(*) FROM notified) FROM closed";
}

net::awaitable<std::vector<ThreadKey>> PgStore::expire_threads(std::int64_t now,
                                                               std::chrono::milliseconds window,
                                                               std::size_t limit) {
    std::vector<ThreadKey> keys;
    if (limit == 0) {
        co_return keys;
    }
    std::vector<PgStatement> batch{
        {expire_sql(limit),
         {param(now - window.count()), param(now), std::string(kExpiredReason)}}};
    auto results = co_await run_change(std::move(batch));
    const auto& rows = results[0];
    keys.reserve(static_cast<std::size_t>(rows.rows()));
    for (int i = 0; i < rows.rows(); ++i) {
        keys.push_back({std::string(rows.text(i, 0)), std::string(rows.text(i, 1))});
    }
    co_return keys;
}

// --- Signals of other processes' changes ---

namespace {

// Backoff between attempts to LISTEN again: doubled each time, from the first to the last.
constexpr std::chrono::milliseconds kFirstWatchBackoff{100};
constexpr std::chrono::milliseconds kLastWatchBackoff{5000};

// A notification's payload as a signal (thread_payload()); nothing when it is not one.
std::optional<ThreadSignal> parse_signal(std::string_view payload) {
    const auto first = payload.find(' ');
    const auto second = first == std::string_view::npos ? first : payload.find(' ', first + 1);
    if (second == std::string_view::npos) {
        return std::nullopt;
    }
    ThreadSignal signal;
    signal.key.organization_id = payload.substr(0, first);
    signal.key.thread_id = payload.substr(first + 1, second - first - 1);
    const auto what = payload.substr(second + 1);
    if (what == "closed") {
        signal.closed = true;
        return signal;
    }
    const auto [end, error] =
        std::from_chars(what.data(), what.data() + what.size(), signal.last_sequence);
    if (error != std::errc() || end != what.data() + what.size() || signal.last_sequence <= 0) {
        return std::nullopt;
    }
    return signal;
}

}  // namespace

/// LISTENs on kThreadsChannel on a connection of its own, on a strand, and hands each
/// notification to the callback; connects again with a backoff when the connection breaks,
/// until stop(). Everything but stop() runs on the strand.
class ThreadWatch : public std::enable_shared_from_this<ThreadWatch> {
  public:
    ThreadWatch(net::any_io_executor executor, std::string conninfo,
                std::function<void(ThreadSignal)> on_signal)
        : strand_(net::make_strand(executor)),
          conninfo_(std::move(conninfo)),
          on_signal_(std::move(on_signal)),
          stop_(strand_, std::chrono::steady_clock::time_point::max()) {}

    /// Spawns the loop; a failure it did not expect is logged.
    void start() {
        net::co_spawn(strand_, run(shared_from_this()), [](std::exception_ptr error) {
            if (!error) {
                return;
            }
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& failure) {
                util::log_error(std::string("stopped listening for thread changes: ") +
                                failure.what());
            }
        });
    }

    /// Ends the loop soon after, from any thread: the stop timer expires, which ends the
    /// wait it is in and every later one. Left to the io_context when it no longer runs.
    void stop() {
        net::post(strand_, [self = shared_from_this()] {
            self->stop_.expires_at(std::chrono::steady_clock::time_point::min());
        });
    }

  private:
    using Strand = net::strand<net::any_io_executor>;

    /// Listens, and again after each break, until stopped.
    static net::awaitable<void> run(std::shared_ptr<ThreadWatch> self) {
        using namespace net::experimental::awaitable_operators;
        for (;;) {
            // Neither side throws, so whichever ends first ends the race.
            const auto ended = co_await (self->listen() || self->until_stopped());
            if (ended.index() == 1) {
                co_return;
            }
            if (!self->outage_) {
                self->outage_ = true;
                util::log_error("stopped listening for thread changes on PostgreSQL (" +
                                std::get<0>(ended) + "); connecting again");
            }
            const auto paused = co_await (self->pause() || self->until_stopped());
            if (paused.index() == 1) {
                co_return;
            }
            self->backoff_ = std::min(self->backoff_ * 2, kLastWatchBackoff);
        }
    }

    /// Connects, LISTENs and delivers notifications until the connection breaks; why it
    /// broke, redacted.
    net::awaitable<std::string> listen() {
        std::string why;
        try {
            auto connection =
                co_await PgConnection::connect(strand_, conninfo_, std::chrono::seconds(5));
            co_await connection->query("LISTEN " + std::string(kThreadsChannel));
            backoff_ = kFirstWatchBackoff;
            if (outage_) {
                outage_ = false;
                util::log_info("listening for thread changes on PostgreSQL again");
            }
            for (;;) {
                const auto notification = co_await connection->wait_notification();
                deliver(notification.payload);
            }
        } catch (const PgFailure& failure) {
            why = failure.what();  // never holds the password
        } catch (const std::exception& failure) {
            why = failure.what();
        }
        co_return why;
    }

    /// Completes once stop() was called.
    net::awaitable<void> until_stopped() {
        co_await stop_.async_wait(net::as_tuple(net::use_awaitable));
    }

    /// Waits out the backoff.
    net::awaitable<void> pause() {
        net::steady_timer timer(strand_, backoff_);
        co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    }

    /// Hands a notification to the callback; a payload that is no signal is dropped.
    void deliver(std::string_view payload) {
        auto signal = parse_signal(payload);
        if (!signal) {
            util::log_error("ignored a notification on " + std::string(kThreadsChannel) +
                            " that is not a thread's change");
            return;
        }
        try {
            on_signal_(std::move(*signal));
        } catch (const std::exception& failure) {
            util::log_error(std::string("a thread change signal failed: ") + failure.what());
        } catch (...) {
            util::log_error("a thread change signal failed");
        }
    }

    Strand strand_;                                ///< Where everything but stop() runs.
    std::string conninfo_;                         ///< What to connect to (may hold a password).
    std::function<void(ThreadSignal)> on_signal_;  ///< The store's caller.
    net::steady_timer stop_;                       ///< Expires at stop(); until then never.
    std::chrono::milliseconds backoff_{kFirstWatchBackoff};  ///< Before the next attempt.
    bool outage_ = false;  ///< The connection broke and was not made again yet (logged).
};

PgStore::~PgStore() {
    if (watch_) {
        watch_->stop();
    }
}

void PgStore::watch_threads(std::function<void(ThreadSignal)> on_signal) {
    if (watch_) {
        throw std::logic_error("watch_threads() called twice");
    }
    watch_ = std::make_shared<ThreadWatch>(executor_, pool_.conninfo(), std::move(on_signal));
    watch_->start();
}

// --- Rate limits of a deployment ---

net::awaitable<RateLease> PgStore::lease_rate_budget(const std::string& key_id, std::uint32_t rate,
                                                     std::uint32_t want) {
    // One row per key, for the window of the database's clock: every replica counts in
    // the same window, whatever its own clock says. A new window starts the count again;
    // `claimed` may pass the rate (a claim is added in full), and what is granted is the
    // part of this claim that was still under it. The table is UNLOGGED: no WAL, so the
    // commit waits for no flush, and a crash only forgets counts of a second.
    std::vector<PgStatement> batch{
        {"INSERT INTO rate_budgets AS b (key_id, window_second, claimed)"
         " SELECT $1, clock.ms / 1000, $2::bigint FROM"
         "  (SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms) AS clock"
         " ON CONFLICT (key_id) DO UPDATE SET"
         "  claimed = CASE WHEN b.window_second >= excluded.window_second"
         "   THEN b.claimed + excluded.claimed ELSE excluded.claimed END,"
         "  window_second = greatest(b.window_second, excluded.window_second)"
         " RETURNING window_second,"
         "  greatest(0, least($2::bigint, $3::bigint - (claimed - $2::bigint))),"
         "  (window_second + 1) * 1000"
         "   - floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint",
         {key_id, std::to_string(want), std::to_string(rate)}}};
    auto results = co_await run(std::move(batch));
    const auto& row = results[0];
    RateLease lease;
    lease.window = row.integer(0, 0);
    lease.granted = static_cast<std::uint32_t>(row.integer(0, 1));
    lease.left = std::chrono::milliseconds(std::clamp<std::int64_t>(row.integer(0, 2), 0, 1000));
    co_return lease;
}

// --- Operations ---

net::awaitable<void> PgStore::probe_writable() {
    // Refused by a server in recovery (a standby): it cannot take writes.
    std::vector<PgStatement> batch{{"BEGIN READ WRITE", {}}, {"COMMIT", {}}};
    co_await run(std::move(batch));
}

bool PgStore::making_progress(std::chrono::microseconds limit) const {
    return writer_.making_progress(limit);
}

void PgStore::render_metrics(std::string& out) const {
    render_write_metrics(out, writer_.committed_batches(), writer_.queued_writes(),
                         writer_.commit_latency());
    util::append_metric(
        out, "threadsd_store_connections_made_total",
        "Connections made to PostgreSQL (more than the pool's size: reconnections).", "counter",
        pool_.connections_made());
}

int PgStore::schema_version() const {
    return latest_schema_version();
}

// --- The operator's commands ---

net::awaitable<bool> PgStore::organization_exists(const std::string& organization_id) {
    const auto id = util::normalize_uuid(organization_id);
    if (!id) {
        co_return false;  // not even a UUID
    }
    std::vector<PgStatement> batch{{"SELECT 1 FROM organizations WHERE id = $1", {*id}}};
    auto results = co_await run(std::move(batch));
    co_return results[0].rows() > 0;
}

net::awaitable<bool> PgStore::has_any_api_key() {
    std::vector<PgStatement> batch{{"SELECT EXISTS (SELECT 1 FROM api_keys)::int", {}}};
    auto results = co_await run(std::move(batch));
    co_return results[0].integer(0, 0) != 0;
}

net::awaitable<CreatedApiKey> PgStore::create_api_key(const std::string& organization_id,
                                                      const std::string& name,
                                                      std::optional<std::int64_t> rate_limit) {
    const auto key = generate_api_key();
    // One generator for the process, so that keys made within one millisecond still get
    // increasing ids and list_api_keys (created_at, id) shows them oldest first.
    static util::Uuid7Generator ids;
    CreatedApiKey created{ids.next(), key.secret};
    const auto organization = util::normalize_uuid(organization_id);
    if (organization) {
        // Inserted only when the organization exists: no row means it does not.
        std::vector<PgStatement> batch{
            {"INSERT INTO api_keys (id, organization_id, name, prefix, secret_hash, created_at,"
             " rate_limit)"
             " SELECT $1, $2, $3, $4, $5::bytea, $6, $7"
             "  WHERE EXISTS (SELECT 1 FROM organizations WHERE id = $2)",
             {created.id, *organization, name, key.prefix, bytea(key.hash),
              param(util::unix_millis_now()), param(rate_limit)}}};
        auto results = co_await run(std::move(batch));
        if (results[0].affected_rows() == 1) {
            co_return created;
        }
    }
    throw AdminError("unknown organization " + organization_id);
}

net::awaitable<std::vector<ApiKeyListing>> PgStore::list_api_keys() {
    std::vector<PgStatement> batch{
        {"SELECT id, organization_id, name, prefix, created_at, revoked_at, rate_limit"
         "  FROM api_keys ORDER BY created_at, id",
         {}}};
    auto results = co_await run(std::move(batch));
    const auto& rows = results[0];
    std::vector<ApiKeyListing> keys;
    for (int i = 0; i < rows.rows(); ++i) {
        keys.push_back({std::string(rows.text(i, 0)), std::string(rows.text(i, 1)),
                        std::string(rows.text(i, 2)), std::string(rows.text(i, 3)),
                        rows.integer(i, 4), optional_integer(rows, i, 5),
                        optional_integer(rows, i, 6)});
    }
    co_return keys;
}

net::awaitable<void> PgStore::revoke_api_key(const std::string& key_id) {
    const auto id = util::normalize_uuid(key_id);
    if (!id) {
        throw AdminError("unknown API key " + key_id);
    }
    // One statement: revokes a live key, and says which of the two refusals applies.
    std::vector<PgStatement> batch{
        {"WITH found AS (SELECT revoked_at FROM api_keys WHERE id = $1 FOR UPDATE),"
         " revoked AS (UPDATE api_keys SET revoked_at = $2"
         "              WHERE id = $1 AND revoked_at IS NULL RETURNING 1)"
         " SELECT (SELECT count(*) FROM found), (SELECT count(*) FROM revoked)",
         {*id, param(util::unix_millis_now())}}};
    auto results = co_await run(std::move(batch));
    if (results[0].integer(0, 0) == 0) {
        throw AdminError("unknown API key " + key_id);
    }
    if (results[0].integer(0, 1) == 0) {
        throw AdminError("API key " + key_id + " is already revoked");
    }
}

net::awaitable<bool> PgStore::map_clerk_organization(const std::string& clerk_organization_id,
                                                     const std::string& organization_id) {
    const auto organization = util::normalize_uuid(organization_id);
    if (organization) {
        std::vector<PgStatement> batch{
            {"WITH previous AS (SELECT 1 FROM clerk_organizations"
             "                   WHERE clerk_organization_id = $1),"
             " mapped AS (INSERT INTO clerk_organizations"
             "              (clerk_organization_id, organization_id, created_at)"
             "            SELECT $1, $2, $3 WHERE EXISTS"
             "              (SELECT 1 FROM organizations WHERE id = $2)"
             "            ON CONFLICT (clerk_organization_id) DO UPDATE"
             "            SET organization_id = excluded.organization_id,"
             "                created_at = excluded.created_at"
             "            RETURNING 1)"
             " SELECT (SELECT count(*) FROM mapped), (SELECT count(*) FROM previous)",
             {clerk_organization_id, *organization, param(util::unix_millis_now())}}};
        auto results = co_await run(std::move(batch));
        if (results[0].integer(0, 0) == 1) {
            co_return results[0].integer(0, 1) == 1;
        }
    }
    throw AdminError("unknown organization " + organization_id);
}

net::awaitable<std::vector<ClerkMapping>> PgStore::list_clerk_organizations() {
    std::vector<PgStatement> batch{
        {"SELECT clerk_organization_id, organization_id, created_at FROM clerk_organizations"
         " ORDER BY clerk_organization_id COLLATE \"C\"",
         {}}};
    auto results = co_await run(std::move(batch));
    const auto& rows = results[0];
    std::vector<ClerkMapping> mappings;
    for (int i = 0; i < rows.rows(); ++i) {
        mappings.push_back(
            {std::string(rows.text(i, 0)), std::string(rows.text(i, 1)), rows.integer(i, 2)});
    }
    co_return mappings;
}

net::awaitable<void> PgStore::unmap_clerk_organization(const std::string& clerk_organization_id) {
    std::vector<PgStatement> batch{
        {"DELETE FROM clerk_organizations WHERE clerk_organization_id = $1",
         {clerk_organization_id}}};
    auto results = co_await run(std::move(batch));
    if (results[0].affected_rows() == 0) {
        throw AdminError("Clerk organization " + clerk_organization_id + " is not mapped");
    }
}

net::awaitable<std::vector<AgentListing>> PgStore::list_agents() {
    // Names in byte order (COLLATE "C"), as SQLite sorts them.
    std::vector<PgStatement> batch{
        {"SELECT " + std::string(kAgentColumns) +
             "  FROM agents a"
             "  LEFT JOIN agent_versions v ON v.agent_id = a.id AND v.published = 1"
             " ORDER BY a.organization_id, a.name COLLATE \"C\", a.id",
         {}}};
    auto results = co_await run(std::move(batch));
    const auto& rows = results[0];
    std::vector<AgentListing> agents;
    for (int i = 0; i < rows.rows(); ++i) {
        agents.push_back({read_agent(rows, i, 0), rows.optional_text(i, 6)});
    }
    co_return agents;
}

namespace {

// Who owns the agent and version ids an import file names now.
struct ImportOwners {
    std::map<std::string, std::string> agent_organization;  ///< Agent id to organization id.
    std::map<std::string, std::string> version_agent;       ///< Version id to agent id.
};

// An import as the statements of one transaction, or why it is refused.
struct ImportPlan {
    std::vector<PgStatement> statements;  ///< Everything to run, COMMIT last.
    /// (agent, version) index of the file element each statement writes, for the message of
    /// a unique violation; (agents.size(), 0) for statements that write no version.
    std::vector<std::pair<std::size_t, std::size_t>> version_of_statement;
    std::vector<std::size_t> organization_statements;  ///< Indexes of the organization inserts.
    ImportSummary summary;                             ///< Agents and versions written.
    std::optional<std::string> refusal;                ///< Set when the file cannot be applied.
};

// Opens the import's transaction on `connection` and reads the owners of the ids `agents`
// names, locking their rows until it ends.
net::awaitable<ImportOwners> lock_import_owners(PgConnection& connection,
                                                const std::vector<ImportedAgent>& agents) {
    std::string agent_ids = "{";
    std::string version_ids = "{";
    for (const auto& agent : agents) {
        agent_ids += (agent_ids.size() > 1 ? "," : "") + agent.record.id;
        for (const auto& version : agent.versions) {
            version_ids += (version_ids.size() > 1 ? "," : "") + version.record.id;
        }
    }
    agent_ids += "}";
    version_ids += "}";
    std::vector<PgStatement> read{
        {"BEGIN", {}},
        {"SELECT id, organization_id FROM agents WHERE id = ANY($1::uuid[]) FOR UPDATE",
         {agent_ids}},
        {"SELECT id, agent_id FROM agent_versions WHERE id = ANY($1::uuid[]) FOR UPDATE",
         {version_ids}}};
    auto results = co_await connection.run(std::move(read));
    ImportOwners owners;
    for (int i = 0; i < results[1].rows(); ++i) {
        owners.agent_organization.emplace(results[1].text(i, 0), results[1].text(i, 1));
    }
    for (int i = 0; i < results[2].rows(); ++i) {
        owners.version_agent.emplace(results[2].text(i, 0), results[2].text(i, 1));
    }
    co_return owners;
}

// The statements that upsert `agents`, given who owns their ids now.
ImportPlan plan_import(const std::vector<ImportedAgent>& agents, const ImportOwners& owners) {
    ImportPlan plan;
    auto& write = plan.statements;
    const auto now = param(util::unix_millis_now());
    for (std::size_t i = 0; i < agents.size(); ++i) {
        const auto& agent = agents[i];
        const std::string where = "agents[" + std::to_string(i) + "]";
        if (const auto owner = owners.agent_organization.find(agent.record.id);
            owner != owners.agent_organization.end() &&
            owner->second != agent.record.organization_id) {
            plan.refusal = where +
                           ".organizationId differs from the organization that owns agent " +
                           agent.record.id;
            return plan;
        }
        plan.organization_statements.push_back(write.size());
        write.push_back(
            {"INSERT INTO organizations (id, name, created_at) VALUES ($1, $3, $2)"
             " ON CONFLICT (id) DO NOTHING",
             {agent.record.organization_id, now, agent.record.organization_id}});
        write.push_back(
            {"INSERT INTO agents (id, organization_id, name, description, agent_type,"
             " deleted) VALUES ($1, $2, $3, $4, $5, $6)"
             " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
             " description = excluded.description, agent_type = excluded.agent_type,"
             " deleted = excluded.deleted",
             {agent.record.id, agent.record.organization_id, agent.record.name,
              agent.record.description, agent.record.agent_type, flag(agent.record.deleted)}});
        // Cleared first, so the one-published index holds at every step.
        write.push_back(
            {"UPDATE agent_versions SET published = 0"
             " WHERE agent_id = $1 AND published = 1",
             {agent.record.id}});
        for (std::size_t j = 0; j < agent.versions.size(); ++j) {
            const auto& version = agent.versions[j];
            if (const auto owner = owners.version_agent.find(version.record.id);
                owner != owners.version_agent.end() && owner->second != agent.record.id) {
                plan.refusal =
                    where + ".versions[" + std::to_string(j) + "].id belongs to another agent";
                return plan;
            }
            plan.version_of_statement.resize(write.size() + 1, {agents.size(), 0});
            plan.version_of_statement[write.size()] = {i, j};
            write.push_back(
                {"INSERT INTO agent_versions (id, agent_id, version, name, mode, sms_max_tokens,"
                 " sms_temperature, discard_inbound_sms, published)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                 " ON CONFLICT (id) DO UPDATE SET version = excluded.version,"
                 " name = excluded.name, mode = excluded.mode,"
                 " sms_max_tokens = excluded.sms_max_tokens,"
                 " sms_temperature = excluded.sms_temperature,"
                 " discard_inbound_sms = excluded.discard_inbound_sms,"
                 " published = excluded.published",
                 {version.record.id, agent.record.id, param(version.record.version),
                  version.record.name, version.record.mode, param(version.record.sms_max_tokens),
                  param(version.record.sms_temperature), flag(version.record.discard_inbound_sms),
                  flag(version.published)}});
            ++plan.summary.versions;
        }
        ++plan.summary.agents;
    }
    write.push_back({"COMMIT", {}});
    return plan;
}

}  // namespace

net::awaitable<ImportSummary> PgStore::import_agents(const std::vector<ImportedAgent>& agents) {
    auto connection = co_await pool_.acquire();
    ImportOwners owners;
    try {
        owners = co_await lock_import_owners(*connection, agents);
    } catch (const PgConnectionLost&) {
        throw StoreUnavailable();
    }
    auto plan = plan_import(agents, owners);
    if (plan.refusal) {
        std::vector<PgStatement> batch{{"ROLLBACK", {}}};
        co_await connection->run(std::move(batch));
        throw AdminError(*plan.refusal);
    }
    std::vector<PgResult> results;
    try {
        results = co_await connection->run(std::move(plan.statements));
    } catch (const PgError& error) {
        const auto at = error.statement_index();
        const auto& where = plan.version_of_statement;
        if (error.sqlstate() == kUniqueViolation && at < where.size() &&
            where[at].first < agents.size()) {
            throw AdminError("agents[" + std::to_string(where[at].first) + "].versions[" +
                             std::to_string(where[at].second) +
                             "].version is already used by another version of this agent");
        }
        throw;
    } catch (const PgConnectionLost&) {
        throw StoreFailure();
    }
    for (const auto index : plan.organization_statements) {
        plan.summary.organizations_created +=
            static_cast<std::size_t>(results[index].affected_rows());
    }
    co_return plan.summary;
}

std::string redact_uri(std::string_view uri) {
    return redact_conninfo(uri);
}

bool is_postgres_uri(std::string_view database) {
    return database.starts_with("postgresql://") || database.starts_with("postgres://");
}

net::awaitable<std::unique_ptr<Store>> open_postgres_store(net::any_io_executor executor,
                                                           std::string uri, StoreOptions options) {
    const auto where = redact_conninfo(uri);
    std::unique_ptr<PgConnection> connection;
    try {
        connection = co_await PgConnection::connect(executor, uri, std::chrono::seconds(10));
    } catch (const PgFailure& failure) {
        throw std::runtime_error(failure.what());  // already without the password
    }
    // A 200 promises a durable commit: PostgreSQL must not acknowledge before its WAL
    // flush, unless the operator chose otherwise.
    auto setting = co_await connection->query("SHOW synchronous_commit");
    if (setting.text(0, 0) == "off" && options.durability == Durability::kFull) {
        throw std::runtime_error(
            "PostgreSQL at " + where +
            " has synchronous_commit off, so a commit could be lost after its 200; turn it on,"
            " or accept that with --durability normal");
    }
    co_await migrate(*connection, options.seed);
    connection.reset();
    co_return std::make_unique<PgStore>(executor, std::move(uri), PgStore::kDefaultPoolSize,
                                        options);
}

}  // namespace threadsd::store::postgres
