#pragma once
// Plain rows as the store reads and writes them; times are unix milliseconds.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace threadsd::store {

/// An agent as the thread object's `agentDetails` shows it.
struct AgentRecord {
    std::string id;                          ///< Agent id.
    std::string organization_id;             ///< Owner.
    std::string name;                        ///< Display name.
    std::optional<std::string> description;  ///< Free text, or null.
    std::string agent_type;                  ///< "CALL" or "TEXT".
    bool deleted = false;                    ///< Soft-deleted agents take no new threads.
};

/// One version of an agent, as `agentVersionDetails` shows it.
struct AgentVersionRecord {
    std::string id;                         ///< Version id.
    std::int64_t version = 0;               ///< Version number.
    std::string name;                       ///< Version name.
    std::string mode;                       ///< "FLOW" or "PROMPT".
    std::optional<double> sms_max_tokens;   ///< Or null.
    std::optional<double> sms_temperature;  ///< Or null.
    bool discard_inbound_sms = false;       ///< Whether inbound SMS is ignored.
};

/// A thread with the agent and version details its JSON needs.
struct ThreadRecord {
    std::string id;                                   ///< UUIDv7.
    std::string organization_id;                      ///< Owner.
    std::string to_phone_number;                      ///< "" for web threads.
    std::optional<std::string> from_phone_number;     ///< Null for web threads.
    std::optional<std::string> from_phone_number_id;  ///< Null for web threads.
    std::optional<std::string> lead_id;               ///< Null for web threads.
    bool is_active = true;                            ///< False once closed.
    std::int64_t created_at = 0;                      ///< Creation instant.
    std::int64_t updated_at = 0;                      ///< Last change.
    std::optional<std::int64_t> closed_at;            ///< When closed.
    std::optional<std::string> closed_reason;         ///< Why closed.
    std::optional<std::string> metadata_json;         ///< JSON object text, or null.
    std::optional<std::string> variables_json;        ///< JSON object text, or null.
    AgentRecord agent;                                ///< The agent as it is now.
    AgentVersionRecord agent_version;                 ///< The version the thread is bound to.
};

/// The columns a close sets, apart from the maps: an edit that leaves them as they were
/// touched the maps alone, and the stores then skip the closing columns' indexes.
struct ClosingColumns {
    /// The closing columns of `thread`.
    explicit ClosingColumns(const ThreadRecord& thread)
        : is_active(thread.is_active),
          closed_at(thread.closed_at),
          closed_reason(thread.closed_reason) {}
    bool operator==(const ClosingColumns&) const = default;

    bool is_active;                            ///< ThreadRecord::is_active.
    std::optional<std::int64_t> closed_at;     ///< ThreadRecord::closed_at.
    std::optional<std::string> closed_reason;  ///< ThreadRecord::closed_reason.
};

/// An agent that can take threads, with its published version if it has one.
struct AgentWithPublishedVersion {
    AgentRecord agent;                            ///< The agent (never deleted here).
    std::optional<AgentVersionRecord> published;  ///< Nothing when no version is published.
};

/// Which threads a list page may hold; empty members do not filter.
struct ThreadFilter {
    std::optional<std::string> agent_id;         ///< Canonical UUID.
    std::optional<bool> is_active;               ///< Open or closed threads only.
    std::optional<std::string> closed_reason;    ///< Exact reason.
    std::optional<std::string> to_phone_number;  ///< Exact number.
    std::optional<std::string> id_below;  ///< Exclusive upper bound on id (cursor, createdBefore).
    std::optional<std::string> id_at_or_above;  ///< Inclusive lower bound on id (createdAfter).
};

/// An API key as the auth check needs it.
struct ApiKeyRecord {
    std::string id;                          ///< Key id (not secret).
    std::string organization_id;             ///< The organization it acts for.
    std::optional<std::int64_t> revoked_at;  ///< Set once revoked.
    std::optional<std::int64_t> rate_limit;  ///< Requests per second; none: the default.
};

/// A catalog lookup's answer and the catalog generation it is current for. A request
/// passes the generation to its later lookups (its agent), so all of them see one catalog.
template <typename T>
struct AsOf {
    std::int64_t generation = 0;  ///< The catalog generation read before the lookup.
    std::optional<T> value;       ///< What was found, if anything.
};

/// The closedReason of a thread closed by the server when its conversation window ended.
inline constexpr std::string_view kExpiredReason = "EXPIRED";

/// Who wrote a message: the end user (through the integrating backend) or the agent.
enum class MessageDirection {
    kInbound,   ///< "INBOUND": from the end user; status "RECEIVED".
    kOutbound,  ///< "OUTBOUND": the agent's reply; status "SENT".
};

/// "INBOUND" or "OUTBOUND", as the API and both stores spell it.
constexpr std::string_view direction_name(MessageDirection direction) {
    return direction == MessageDirection::kInbound ? "INBOUND" : "OUTBOUND";
}

/// A thread's identity: every read and write of one names its organization too.
struct ThreadKey {
    std::string organization_id;  ///< Owner.
    std::string thread_id;        ///< The thread.
    bool operator==(const ThreadKey&) const = default;
};

/// One message of a thread. Everything else of the message object (status, sentAt, the
/// SMS-only fields) follows from these.
struct MessageRecord {
    std::string id;               ///< UUIDv7, lowercase.
    std::string organization_id;  ///< The thread's owner.
    std::string thread_id;        ///< The thread.
    /// Its place in the thread's commit order: 1, 2, 3... assigned under the thread's row
    /// lock, so it is the order lists, streams and resumption use (never the id's order).
    std::int64_t sequence = 0;
    MessageDirection direction = MessageDirection::kInbound;  ///< Who wrote it.
    /// messageBody as a JSON string literal, quotes included (`"hi\u0000"`): what the
    /// message object shows, copied as it is, and text both stores can hold (PostgreSQL's
    /// text cannot hold U+0000).
    std::string body_json;
    std::int64_t created_at = 0;  ///< Commit-time instant (unix ms); also updatedAt.
};

/// How a post of a message ended (Store::post_message()).
enum class PostResult {
    kPosted,    ///< Stored with the next sequence number.
    kNoThread,  ///< The organization has no such thread: nothing stored.
    kClosed,    ///< The thread is closed: nothing stored.
    /// The thread's conversation window had ended: the thread was closed with
    /// kExpiredReason in this same transaction, and the message was not stored.
    kExpired,
};

/// A post's outcome and what the answer needs.
struct PostOutcome {
    PostResult result = PostResult::kNoThread;  ///< What happened.
    std::int64_t sequence = 0;                  ///< The message's place (kPosted).
    /// When the thread's conversation window began after this post: the instant of its
    /// last inbound message, or of its creation (kPosted).
    std::int64_t window_started_at = 0;
    std::optional<ThreadRecord> closed;  ///< The thread as closed (kExpired).
};

/// Which messages a page of a thread's messages may hold; empty members do not filter.
struct MessageFilter {
    std::optional<MessageDirection> direction;  ///< One direction only.
    /// Only messages before this message in the thread's order (the page cursor).
    std::optional<std::string> before_id;
};

/// A page of a thread's messages, newest first, and the thread itself.
struct MessagePage {
    bool thread_found = false;            ///< False: no such thread of the organization.
    bool cursor_found = true;             ///< False: before_id names no message of the thread.
    ThreadRecord thread;                  ///< The thread, with details as find_thread() has them.
    std::vector<MessageRecord> messages;  ///< At most the limit asked for.
};

/// Where a thread stands, for live streams that check what they may have missed.
struct ThreadPosition {
    ThreadKey key;                   ///< The thread.
    std::int64_t last_sequence = 0;  ///< Its newest message's sequence; 0: none yet.
    bool is_active = true;           ///< False once closed.
};

/// What a store tells the live streams of this process about a change it did not make:
/// another process posted to a thread, or closed it.
struct ThreadSignal {
    ThreadKey key;                   ///< The thread.
    std::int64_t last_sequence = 0;  ///< A message with this sequence is committed; 0: none.
    bool closed = false;             ///< The thread was closed.
};

/// A share of a key's rate budget granted to one process for one window of the store's
/// clock (Store::lease_rate_budget()).
struct RateLease {
    std::int64_t window = 0;            ///< The window: the store clock's second since the epoch.
    std::uint32_t granted = 0;          ///< Requests granted, at most those asked for; 0: spent.
    std::chrono::milliseconds left{0};  ///< How long the window still runs, from the answer.
};

}  // namespace threadsd::store
