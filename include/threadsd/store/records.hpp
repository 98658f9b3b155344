#pragma once
// Plain rows as the store reads and writes them; times are unix milliseconds.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
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

/// A share of a key's rate budget granted to one process for one window of the store's
/// clock (Store::lease_rate_budget()).
struct RateLease {
    std::int64_t window = 0;            ///< The window: the store clock's second since the epoch.
    std::uint32_t granted = 0;          ///< Requests granted, at most those asked for; 0: spent.
    std::chrono::milliseconds left{0};  ///< How long the window still runs, from the answer.
};

}  // namespace threadsd::store
