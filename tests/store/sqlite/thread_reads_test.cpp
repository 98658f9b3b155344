// ThreadReads (find, list, list_sql), ThreadWrites::update_maps and update, the list indexes of
// migration 0002 and the upgrade of a version-1 store.

#include "threadsd/store/sqlite/thread_reads.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/import_file.hpp"
#include "support/process.hpp"
#include "support/store_fixture.hpp"
#include "threadsd/store/agent_import.hpp"
#include "threadsd/store/records.hpp"
#include "threadsd/store/sqlite/admin.hpp"
#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/migrations.hpp"
#include "threadsd/store/sqlite/schema_sources.hpp"
#include "threadsd/store/sqlite/thread_writes.hpp"
#include "threadsd/util/uuid.hpp"

// Optional columns print as their value or "null" in failure messages.
namespace boost::test_tools::tt_detail {
template <typename T>
struct print_log_value<std::optional<T>> {
    void operator()(std::ostream& out, const std::optional<T>& value) {
        if (value) {
            out << *value;
        } else {
            out << "null";
        }
    }
};
}  // namespace boost::test_tools::tt_detail

namespace {

namespace json = boost::json;
using threadsd::store::DemoSeed;
using threadsd::store::ThreadFilter;
using threadsd::store::ThreadRecord;
using threadsd::store::sqlite::apply_agent_import;
using threadsd::store::sqlite::Connection;
using threadsd::store::sqlite::OpenMode;
using threadsd::store::sqlite::ThreadReads;
using threadsd::store::sqlite::ThreadWrites;
using threadsd::store::sqlite::Transaction;
using threadsd::test::import_agent;
using threadsd::test::import_version;
using threadsd::test::parse_import_ok;
using threadsd::test::query_int;
using threadsd::test::StoreFixture;
using threadsd::test::TempDir;
namespace demo = threadsd::test::demo;

constexpr const char* kOtherOrg = "bbbbbbbb-0000-4000-8000-000000000002";
constexpr const char* kOtherAgent = "a2a2a2a2-2222-4222-8222-000000000002";
constexpr const char* kOtherV1 = "e2e2e2e2-2222-4222-8222-000000000021";
constexpr const char* kOtherV2 = "e2e2e2e2-2222-4222-8222-000000000022";
constexpr const char* kSupportBotV1 = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e11";
constexpr std::int64_t kBaseMs = 1'795'895'673'123;  // 2026-11-28T19:54:33.123Z

const std::vector<std::string> kIndexes = {"threads_by_agent", "threads_by_activity",
                                           "threads_by_closed_reason",
                                           "threads_by_to_phone_number"};

/// The index made for each equality filter, in the bit order of filter_for().
const std::vector<std::string> kFilterIndexes = {"threads_by_agent", "threads_by_activity",
                                                 "threads_by_closed_reason",
                                                 "threads_by_to_phone_number"};

/// A thread of `organization` for `agent` bound to `version`, created at `ms`.
ThreadRecord make_thread(threadsd::util::Uuid7Generator& ids, std::int64_t ms,
                         const std::string& organization, const std::string& agent,
                         const std::string& version) {
    ThreadRecord thread;
    thread.id = ids.next(ms);
    thread.organization_id = organization;
    thread.created_at = ms;
    thread.updated_at = ms;
    thread.agent.id = agent;
    thread.agent_version.id = version;
    return thread;
}

void insert_all(Connection& connection, const std::vector<ThreadRecord>& threads) {
    ThreadWrites writes(connection);
    Transaction transaction(connection);
    for (const auto& thread : threads) {
        writes.insert(thread);
    }
    transaction.commit();
}

/// Imports one agent of kOtherOrg (creating the organization) named `name`, with version 1
/// published, or version 2 published when `second_version` (version 1 then kept unpublished).
void import_other_agent(Connection& connection, const std::string& name, bool second_version,
                        const std::string& agent_type = "TEXT") {
    json::array versions{import_version(kOtherV1, 1, !second_version)};
    if (second_version) {
        versions.push_back(import_version(kOtherV2, 2, true));
    }
    json::object agent = import_agent(kOtherAgent, kOtherOrg, name, std::move(versions));
    agent["agentType"] = agent_type;
    if (second_version) {
        agent["description"] = "now described";
    }
    apply_agent_import(connection, parse_import_ok(json::serialize(json::array{agent})));
}

std::vector<std::string> ids_of(const std::vector<ThreadRecord>& threads) {
    std::vector<std::string> ids;
    for (const auto& thread : threads) {
        ids.push_back(thread.id);
    }
    return ids;
}

/// What list() must return: `all` filtered as the contract says, newest first, at most `limit`.
std::vector<std::string> expected_ids(const std::vector<ThreadRecord>& all,
                                      const std::string& organization, const ThreadFilter& filter,
                                      std::size_t limit) {
    std::vector<std::string> ids;
    for (const auto& t : all) {
        if (t.organization_id != organization)
            continue;
        if (filter.agent_id && t.agent.id != *filter.agent_id)
            continue;
        if (filter.is_active && t.is_active != *filter.is_active)
            continue;
        if (filter.closed_reason && t.closed_reason != filter.closed_reason)
            continue;
        if (filter.to_phone_number && t.to_phone_number != *filter.to_phone_number)
            continue;
        if (filter.id_below && !(t.id < *filter.id_below))
            continue;
        if (filter.id_at_or_above && !(t.id >= *filter.id_at_or_above))
            continue;
        ids.push_back(t.id);
    }
    std::sort(ids.rbegin(), ids.rend());
    if (ids.size() > limit) {
        ids.resize(limit);
    }
    return ids;
}

/// The filter whose members are present where `mask` has the bit (order as in list_sql).
ThreadFilter filter_for(unsigned mask, const ThreadFilter& values) {
    ThreadFilter filter;
    if (mask & 1u)
        filter.agent_id = values.agent_id;
    if (mask & 2u)
        filter.is_active = values.is_active;
    if (mask & 4u)
        filter.closed_reason = values.closed_reason;
    if (mask & 8u)
        filter.to_phone_number = values.to_phone_number;
    if (mask & 16u)
        filter.id_below = values.id_below;
    if (mask & 32u)
        filter.id_at_or_above = values.id_at_or_above;
    return filter;
}

std::string describe(unsigned mask) {
    std::ostringstream out;
    out << "mask " << mask << ":";
    const char* names[] = {"agentId",       "isActive", "closedReason",
                           "toPhoneNumber", "idBelow",  "idAtOrAbove"};
    for (unsigned bit = 0; bit < 6; ++bit) {
        if (mask & (1u << bit))
            out << " " << names[bit];
    }
    return out.str();
}

/// The rows of EXPLAIN QUERY PLAN for `sql`, one `detail` text each.
std::vector<std::string> query_plan(Connection& connection, const std::string& sql) {
    auto statement = connection.prepare("EXPLAIN QUERY PLAN " + sql);
    std::vector<std::string> details;
    while (statement.step()) {
        details.push_back(statement.text(3));
    }
    return details;
}

/// A store with the demo data and ~60 threads over two organizations, in a shuffled
/// insertion order so that row order is not id order.
struct SeededThreads {
    SeededThreads() : fixture(DemoSeed::kWhenCreated, "reads.db") {
        import_other_agent(fixture.connection, "Other bot", false);
        threadsd::util::Uuid7Generator ids;
        const std::vector<std::string> phones = {"", "+15550001", "+15550002"};
        for (int i = 0; i < 48; ++i) {
            const bool support = i % 3 != 0;
            ThreadRecord t = make_thread(ids, kBaseMs + i * 7, demo::kOrganization,
                                         support ? demo::kSupportBot : demo::kVoiceAgent,
                                         support ? demo::kSupportBotV2 : demo::kVoiceAgentV1);
            t.to_phone_number = phones[static_cast<std::size_t>(i / 2) % phones.size()];
            if (i % 4 == 1 || i % 5 == 2) {
                t.is_active = false;
                t.closed_at = t.created_at + 1;
                t.updated_at = t.created_at + 1;
                t.closed_reason = i % 2 == 0 ? "ENDED" : "USER_LEFT";
            }
            if (i % 6 == 0) {
                t.metadata_json = R"({"i":")" + std::to_string(i) + "\"}";
            }
            all.push_back(t);
        }
        // The other organization: the same filter values, so scoping alone keeps them out.
        for (int i = 0; i < 12; ++i) {
            ThreadRecord t =
                make_thread(ids, kBaseMs + i * 7 + 3, kOtherOrg, kOtherAgent, kOtherV1);
            t.to_phone_number = phones[static_cast<std::size_t>(i) % phones.size()];
            if (i % 2 == 1) {
                t.is_active = false;
                t.closed_at = t.created_at;
                t.closed_reason = "USER_LEFT";
            }
            all.push_back(t);
        }
        std::vector<ThreadRecord> shuffled = all;
        // Deterministic shuffle: a fixed stride through the vector.
        std::vector<ThreadRecord> order;
        for (std::size_t k = 0, n = shuffled.size(); k < n; ++k) {
            order.push_back(shuffled[(k * 37) % n]);
        }
        BOOST_TEST_REQUIRE(order.size() == all.size());
        insert_all(fixture.connection, order);
        sorted_ids = ids_of(all);
        std::sort(sorted_ids.rbegin(), sorted_ids.rend());
    }
    StoreFixture fixture;
    std::vector<ThreadRecord> all;
    std::vector<std::string> sorted_ids;  ///< Every id, newest first.
};

}  // namespace

BOOST_AUTO_TEST_SUITE(store_thread_reads)

BOOST_AUTO_TEST_CASE(find_returns_every_column_of_the_thread) {
    StoreFixture fixture(DemoSeed::kWhenCreated, "find.db");
    threadsd::util::Uuid7Generator ids;
    ThreadRecord thread =
        make_thread(ids, kBaseMs, demo::kOrganization, demo::kVoiceAgent, demo::kVoiceAgentV1);
    thread.to_phone_number = "+15551234567";
    thread.from_phone_number = "+15557654321";
    thread.from_phone_number_id = "pn_1";
    thread.lead_id = "lead_1";
    thread.is_active = false;
    thread.updated_at = kBaseMs + 5;
    thread.closed_at = kBaseMs + 4;
    thread.closed_reason = "USER_LEFT";
    thread.metadata_json = std::string("{\"k\":\"a\\u0000b\"}");
    thread.variables_json = R"({"z":"1","a":"2"})";
    insert_all(fixture.connection, {thread});

    ThreadReads reads(fixture.connection);
    const auto found = reads.find(demo::kOrganization, thread.id);
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->id == thread.id);
    BOOST_TEST(found->organization_id == demo::kOrganization);
    BOOST_TEST(found->to_phone_number == "+15551234567");
    BOOST_TEST(found->from_phone_number == thread.from_phone_number);
    BOOST_TEST(found->from_phone_number_id == thread.from_phone_number_id);
    BOOST_TEST(found->lead_id == thread.lead_id);
    BOOST_TEST(found->is_active == false);
    BOOST_TEST(found->created_at == kBaseMs);
    BOOST_TEST(found->updated_at == kBaseMs + 5);
    BOOST_TEST(found->closed_at == thread.closed_at);
    BOOST_TEST(found->closed_reason == thread.closed_reason);
    BOOST_TEST(found->metadata_json == thread.metadata_json);
    BOOST_TEST(found->variables_json == thread.variables_json);
    // The agent and version from their tables (the seed's voice agent: CALL/FLOW, nulls).
    BOOST_TEST(found->agent.id == demo::kVoiceAgent);
    BOOST_TEST(found->agent.organization_id == demo::kOrganization);
    BOOST_TEST(found->agent.name == "Front desk voice agent");
    BOOST_TEST(!found->agent.description.has_value());
    BOOST_TEST(found->agent.agent_type == "CALL");
    BOOST_TEST(!found->agent.deleted);
    BOOST_TEST(found->agent_version.id == demo::kVoiceAgentV1);
    BOOST_TEST(found->agent_version.version == 1);
    BOOST_TEST(found->agent_version.name == "Reception flow");
    BOOST_TEST(found->agent_version.mode == "FLOW");
    BOOST_TEST(!found->agent_version.sms_max_tokens.has_value());
    BOOST_TEST(!found->agent_version.sms_temperature.has_value());
    BOOST_TEST(found->agent_version.discard_inbound_sms == true);

    // A web thread's nulls stay null.
    ThreadRecord web =
        make_thread(ids, kBaseMs + 1, demo::kOrganization, demo::kSupportBot, demo::kSupportBotV2);
    insert_all(fixture.connection, {web});
    const auto found_web = reads.find(demo::kOrganization, web.id);
    BOOST_TEST_REQUIRE(found_web.has_value());
    BOOST_TEST(found_web->to_phone_number == "");
    BOOST_TEST(!found_web->from_phone_number.has_value());
    BOOST_TEST(!found_web->from_phone_number_id.has_value());
    BOOST_TEST(!found_web->lead_id.has_value());
    BOOST_TEST(found_web->is_active);
    BOOST_TEST(!found_web->closed_at.has_value());
    BOOST_TEST(!found_web->closed_reason.has_value());
    BOOST_TEST(!found_web->metadata_json.has_value());
    BOOST_TEST(!found_web->variables_json.has_value());
}

BOOST_AUTO_TEST_CASE(find_is_scoped_by_organization) {
    StoreFixture fixture(DemoSeed::kWhenCreated, "scope.db");
    import_other_agent(fixture.connection, "Other bot", false);
    threadsd::util::Uuid7Generator ids;
    const ThreadRecord mine =
        make_thread(ids, kBaseMs, demo::kOrganization, demo::kSupportBot, demo::kSupportBotV2);
    const ThreadRecord theirs = make_thread(ids, kBaseMs, kOtherOrg, kOtherAgent, kOtherV1);
    insert_all(fixture.connection, {mine, theirs});

    ThreadReads reads(fixture.connection);
    BOOST_TEST(reads.find(demo::kOrganization, mine.id).has_value());
    BOOST_TEST(reads.find(kOtherOrg, theirs.id).has_value());
    BOOST_TEST(!reads.find(kOtherOrg, mine.id).has_value());
    BOOST_TEST(!reads.find(demo::kOrganization, theirs.id).has_value());
    BOOST_TEST(!reads.find(demo::kOrganization, ids.next(kBaseMs + 1)).has_value());
    BOOST_TEST(!reads.find("00000000-0000-0000-0000-000000000000", mine.id).has_value());
    // The prepared statement is reusable after a miss and after a hit.
    BOOST_TEST(reads.find(demo::kOrganization, mine.id)->id == mine.id);
    BOOST_TEST(reads.find(demo::kOrganization, mine.id)->id == mine.id);
}

BOOST_AUTO_TEST_CASE(find_and_list_show_the_agent_as_it_is_now_and_the_bound_version) {
    StoreFixture fixture(DemoSeed::kWhenCreated, "now.db");
    import_other_agent(fixture.connection, "Other bot", false);
    threadsd::util::Uuid7Generator ids;
    const ThreadRecord thread = make_thread(ids, kBaseMs, kOtherOrg, kOtherAgent, kOtherV1);
    insert_all(fixture.connection, {thread});

    ThreadReads reads(fixture.connection);
    const auto before = reads.find(kOtherOrg, thread.id);
    BOOST_TEST_REQUIRE(before.has_value());
    BOOST_TEST(before->agent.name == "Other bot");
    BOOST_TEST(before->agent.agent_type == "TEXT");
    BOOST_TEST(!before->agent.description.has_value());
    BOOST_TEST(before->agent_version.id == kOtherV1);

    // Rename the agent, change its type and publish version 2.
    import_other_agent(fixture.connection, "Renamed bot", true, "CALL");
    BOOST_TEST(query_int(fixture.connection,
                         std::string("SELECT published FROM agent_versions WHERE id = '") +
                             kOtherV2 + "'") == 1);

    const auto after = reads.find(kOtherOrg, thread.id);
    BOOST_TEST_REQUIRE(after.has_value());
    BOOST_TEST(after->agent.name == "Renamed bot");
    BOOST_TEST(after->agent.agent_type == "CALL");
    BOOST_TEST(after->agent.description == std::optional<std::string>("now described"));
    // Still the version the thread was bound to, not the newly published one.
    BOOST_TEST(after->agent_version.id == kOtherV1);
    BOOST_TEST(after->agent_version.version == 1);
    BOOST_TEST(after->agent_version.name == "v1");

    const auto listed = reads.list(kOtherOrg, ThreadFilter{}, 10);
    BOOST_TEST_REQUIRE(listed.size() == 1u);
    BOOST_TEST(listed[0].agent.name == "Renamed bot");
    BOOST_TEST(listed[0].agent.agent_type == "CALL");
    BOOST_TEST(listed[0].agent_version.id == kOtherV1);

    // A demo thread bound to Support bot's unpublished version 1 shows that version.
    const ThreadRecord old =
        make_thread(ids, kBaseMs + 1, demo::kOrganization, demo::kSupportBot, kSupportBotV1);
    insert_all(fixture.connection, {old});
    const auto found_old = reads.find(demo::kOrganization, old.id);
    BOOST_TEST_REQUIRE(found_old.has_value());
    BOOST_TEST(found_old->agent_version.id == kSupportBotV1);
    BOOST_TEST(found_old->agent_version.version == 1);
    BOOST_TEST(found_old->agent_version.name == "v1");
    BOOST_TEST(found_old->agent_version.sms_max_tokens == std::optional<double>(128));
    BOOST_TEST(found_old->agent_version.sms_temperature == std::optional<double>(0.5));
    BOOST_TEST(found_old->agent.name == "Support bot");
}

// The server hands ThreadReads its catalog cache: the details come from there, each
// distinct agent and version asked for once per page, and the table is not joined.
BOOST_AUTO_TEST_CASE(details_come_from_the_source_given_once_per_agent_and_version) {
    SeededThreads data;
    ThreadReads reads(data.fixture.connection);
    std::map<std::string, int> asked;
    threadsd::store::sqlite::AgentDetailsSource source;
    source.agent = [&](const std::string& id) {
        ++asked["agent " + id];
        return std::optional<threadsd::store::AgentRecord>(threadsd::store::AgentRecord{
            id, "org", "from the source", std::nullopt, "TEXT", false});
    };
    source.version = [&](const std::string& id) {
        ++asked["version " + id];
        threadsd::store::AgentVersionRecord version;
        version.id = id;
        version.name = "source version";
        return std::optional<threadsd::store::AgentVersionRecord>(version);
    };

    const auto page = reads.list(demo::kOrganization, ThreadFilter{}, 30, &source);
    BOOST_TEST_REQUIRE(page.size() == 30u);
    for (const auto& thread : page) {
        BOOST_TEST(thread.agent.name == "from the source");
        BOOST_TEST(thread.agent_version.name == "source version");
        BOOST_TEST((thread.agent.id == demo::kSupportBot || thread.agent.id == demo::kVoiceAgent));
    }
    // Two agents and two versions on the page, each asked for once.
    BOOST_TEST(asked.size() == 4u);
    for (const auto& [what, times] : asked) {
        BOOST_TEST(times == 1, what);
    }

    const auto one = reads.find(demo::kOrganization, data.all[1].id, &source);
    BOOST_TEST_REQUIRE(one.has_value());
    BOOST_TEST(one->agent.name == "from the source");
    BOOST_TEST(one->agent_version.id == data.all[1].agent_version.id);

    // A source that does not know the agent: the store is damaged, and the read says so.
    source.agent = [](const std::string&) { return std::optional<threadsd::store::AgentRecord>(); };
    BOOST_CHECK_THROW(reads.find(demo::kOrganization, data.all[1].id, &source), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(list_is_newest_first_and_respects_the_limit) {
    SeededThreads data;
    ThreadReads reads(data.fixture.connection);
    const auto everything = reads.list(demo::kOrganization, ThreadFilter{}, 100);
    const auto expected = expected_ids(data.all, demo::kOrganization, ThreadFilter{}, 100);
    BOOST_TEST(expected.size() == 48u);
    const auto got = ids_of(everything);
    BOOST_TEST(got == expected);
    BOOST_TEST(std::is_sorted(got.rbegin(), got.rend()));
    for (const auto& thread : everything) {
        BOOST_TEST(thread.organization_id == demo::kOrganization);
    }

    for (const std::size_t limit : {std::size_t{1}, std::size_t{2}, std::size_t{10},
                                    std::size_t{47}, std::size_t{48}, std::size_t{49}}) {
        const auto page = ids_of(reads.list(demo::kOrganization, ThreadFilter{}, limit));
        BOOST_TEST(page == expected_ids(data.all, demo::kOrganization, ThreadFilter{}, limit));
        BOOST_TEST(page.size() == std::min<std::size_t>(limit, 48));
    }
    // The other organization sees only its own.
    const auto other = ids_of(reads.list(kOtherOrg, ThreadFilter{}, 100));
    BOOST_TEST(other.size() == 12u);
    BOOST_TEST(other == expected_ids(data.all, kOtherOrg, ThreadFilter{}, 100));
    BOOST_TEST(reads.list("00000000-0000-0000-0000-000000000000", ThreadFilter{}, 100).empty());
}

BOOST_AUTO_TEST_CASE(list_items_carry_the_thread_columns) {
    SeededThreads data;
    ThreadReads reads(data.fixture.connection);
    const auto listed = reads.list(demo::kOrganization, ThreadFilter{}, 100);
    for (const auto& thread : listed) {
        const auto it = std::find_if(data.all.begin(), data.all.end(),
                                     [&](const ThreadRecord& t) { return t.id == thread.id; });
        BOOST_TEST_REQUIRE((it != data.all.end()));
        BOOST_TEST(thread.to_phone_number == it->to_phone_number);
        BOOST_TEST(thread.is_active == it->is_active);
        BOOST_TEST(thread.closed_reason == it->closed_reason);
        BOOST_TEST(thread.closed_at == it->closed_at);
        BOOST_TEST(thread.created_at == it->created_at);
        BOOST_TEST(thread.updated_at == it->updated_at);
        BOOST_TEST(thread.metadata_json == it->metadata_json);
        BOOST_TEST(thread.agent.id == it->agent.id);
        BOOST_TEST(thread.agent_version.id == it->agent_version.id);
        BOOST_TEST(!thread.agent.name.empty());
        BOOST_TEST(!thread.agent_version.name.empty());
    }
}

BOOST_AUTO_TEST_CASE(list_each_filter_alone) {
    SeededThreads data;
    ThreadReads reads(data.fixture.connection);
    auto check = [&](const ThreadFilter& filter, const std::string& what) {
        const auto got = ids_of(reads.list(demo::kOrganization, filter, 100));
        const auto expected = expected_ids(data.all, demo::kOrganization, filter, 100);
        BOOST_TEST(!expected.empty(), what << ": the data set should exercise this filter");
        BOOST_TEST(expected.size() < 48u, what << ": the filter should leave some out");
        BOOST_TEST(got == expected, what);
        return got;
    };
    ThreadFilter agent;
    agent.agent_id = demo::kVoiceAgent;
    for (const auto& t : reads.list(demo::kOrganization, agent, 100)) {
        BOOST_TEST(t.agent.id == demo::kVoiceAgent);
    }
    check(agent, "agentId");
    ThreadFilter active;
    active.is_active = true;
    check(active, "isActive=true");
    ThreadFilter inactive;
    inactive.is_active = false;
    check(inactive, "isActive=false");
    ThreadFilter reason;
    reason.closed_reason = "USER_LEFT";
    check(reason, "closedReason");
    ThreadFilter phone;
    phone.to_phone_number = "+15550002";
    check(phone, "toPhoneNumber");
    ThreadFilter empty_phone;
    empty_phone.to_phone_number = "";
    check(empty_phone, "toPhoneNumber empty");

    // Values that match nothing.
    ThreadFilter unknown_agent;
    unknown_agent.agent_id = kOtherAgent;  // exists, but in the other organization
    BOOST_TEST(reads.list(demo::kOrganization, unknown_agent, 100).empty());
    ThreadFilter unknown_reason;
    unknown_reason.closed_reason = "ended";  // exact, case-sensitive
    BOOST_TEST(reads.list(demo::kOrganization, unknown_reason, 100).empty());
}

BOOST_AUTO_TEST_CASE(list_id_bounds_are_exclusive_below_and_inclusive_above) {
    SeededThreads data;
    ThreadReads reads(data.fixture.connection);
    const auto& all = expected_ids(data.all, demo::kOrganization, ThreadFilter{}, 100);
    ThreadFilter below;
    below.id_below = all[5];
    const auto under = ids_of(reads.list(demo::kOrganization, below, 100));
    BOOST_TEST_REQUIRE(!under.empty());
    BOOST_TEST(under.front() == all[6]);  // exclusive
    BOOST_TEST(under.size() == all.size() - 6);

    ThreadFilter above;
    above.id_at_or_above = all[5];
    const auto over = ids_of(reads.list(demo::kOrganization, above, 100));
    BOOST_TEST(over.size() == 6u);  // inclusive
    BOOST_TEST(over.back() == all[5]);
    BOOST_TEST(over.front() == all[0]);

    ThreadFilter both;
    both.id_below = all[5];
    both.id_at_or_above = all[9];
    const std::vector<std::string> middle(all.begin() + 6, all.begin() + 10);
    BOOST_TEST(ids_of(reads.list(demo::kOrganization, both, 100)) == middle);
    // An empty range.
    ThreadFilter empty;
    empty.id_below = all[9];
    empty.id_at_or_above = all[5];
    BOOST_TEST(reads.list(demo::kOrganization, empty, 100).empty());

    // Bounds from uuid7_floor select by creation millisecond.
    const std::int64_t ms = threadsd::util::uuid7_unix_millis(all[20]);
    ThreadFilter created_before;
    created_before.id_below = threadsd::util::uuid7_floor(ms);
    const auto earlier = ids_of(reads.list(demo::kOrganization, created_before, 100));
    BOOST_TEST_REQUIRE(!earlier.empty());
    BOOST_TEST(earlier.front() == all[21]);
    ThreadFilter created_after;
    created_after.id_at_or_above = threadsd::util::uuid7_floor(ms + 1);
    const auto later = ids_of(reads.list(demo::kOrganization, created_after, 100));
    BOOST_TEST_REQUIRE(!later.empty());
    BOOST_TEST(later.back() == all[19]);
}

BOOST_AUTO_TEST_CASE(list_every_filter_combination_matches_a_reference_filter) {
    SeededThreads data;
    ThreadReads reads(data.fixture.connection);
    const auto& all = data.sorted_ids;
    std::vector<ThreadFilter> value_sets(2);
    value_sets[0].agent_id = demo::kSupportBot;
    value_sets[0].is_active = false;
    value_sets[0].closed_reason = "USER_LEFT";
    value_sets[0].to_phone_number = "+15550001";
    value_sets[0].id_below = all[40];
    value_sets[0].id_at_or_above = all[8];
    value_sets[1].agent_id = demo::kVoiceAgent;
    value_sets[1].is_active = true;
    value_sets[1].closed_reason = "ENDED";
    value_sets[1].to_phone_number = "";
    value_sets[1].id_below = threadsd::util::uuid7_floor(kBaseMs + 300);
    value_sets[1].id_at_or_above = threadsd::util::uuid7_floor(kBaseMs + 20);
    std::size_t non_empty = 0;
    for (const auto& values : value_sets) {
        for (unsigned mask = 0; mask < 64; ++mask) {
            const ThreadFilter filter = filter_for(mask, values);
            for (const std::size_t limit : {std::size_t{100}, std::size_t{3}}) {
                const auto got = ids_of(reads.list(demo::kOrganization, filter, limit));
                const auto expected = expected_ids(data.all, demo::kOrganization, filter, limit);
                BOOST_TEST(got == expected, describe(mask) << " limit " << limit);
                non_empty += expected.empty() ? 0 : 1;
                const auto other = ids_of(reads.list(kOtherOrg, filter, limit));
                BOOST_TEST(other == expected_ids(data.all, kOtherOrg, filter, limit),
                           "other org " << describe(mask));
            }
        }
    }
    // The data set is rich enough for most combinations to return something.
    BOOST_TEST(non_empty > 100u);
}

BOOST_AUTO_TEST_CASE(paging_by_cursor_visits_every_thread_once) {
    SeededThreads data;
    ThreadReads reads(data.fixture.connection);
    for (const bool by_agent : {false, true}) {
        ThreadFilter filter;
        if (by_agent) {
            filter.agent_id = demo::kSupportBot;
        }
        std::vector<std::string> walked;
        for (int pages = 0; pages < 100; ++pages) {
            const auto page = ids_of(reads.list(demo::kOrganization, filter, 5));
            walked.insert(walked.end(), page.begin(), page.end());
            if (page.size() < 5) {
                break;
            }
            filter.id_below = page.back();
        }
        ThreadFilter reference;
        if (by_agent) {
            reference.agent_id = demo::kSupportBot;
        }
        BOOST_TEST(walked == expected_ids(data.all, demo::kOrganization, reference, 100));
    }
}

BOOST_AUTO_TEST_CASE(list_sql_uses_one_statement_per_filter_mask) {
    // Different values with the same mask give the same SQL; bound, not spliced in.
    ThreadFilter a;
    a.agent_id = "x";
    a.closed_reason = "'; DROP TABLE threads; --";
    ThreadFilter b;
    b.agent_id = "y";
    b.closed_reason = "ENDED";
    BOOST_TEST(ThreadReads::list_sql(a) == ThreadReads::list_sql(b));
    BOOST_TEST(ThreadReads::list_sql(a).find("DROP") == std::string::npos);
    ThreadFilter every = a;
    every.is_active = false;
    every.to_phone_number = "";
    every.id_below = "b";
    every.id_at_or_above = "a";
    std::set<std::string> distinct;
    for (unsigned mask = 0; mask < 64; ++mask) {
        distinct.insert(ThreadReads::list_sql(filter_for(mask, every)));
    }
    BOOST_TEST(distinct.size() == 64u);
}

BOOST_AUTO_TEST_CASE(list_with_hostile_filter_values_binds_them) {
    SeededThreads data;
    ThreadReads reads(data.fixture.connection);
    ThreadFilter filter;
    filter.closed_reason = "' OR 1=1 --";
    filter.to_phone_number = "%";
    BOOST_TEST(reads.list(demo::kOrganization, filter, 100).empty());
    BOOST_TEST(query_int(data.fixture.connection, "SELECT count(*) FROM threads") == 60);
}

BOOST_AUTO_TEST_CASE(every_filter_combination_is_an_index_range_scan) {
    StoreFixture fixture(DemoSeed::kWhenCreated, "plans.db");
    ThreadFilter values;
    values.agent_id = demo::kSupportBot;
    values.is_active = true;
    values.closed_reason = "ENDED";
    values.to_phone_number = "+15550001";
    values.id_below = "01a223b9-4123-0000-0000-000000000000";
    values.id_at_or_above = "01a223b9-0000-0000-0000-000000000000";
    for (unsigned mask = 0; mask < 64; ++mask) {
        const std::string sql = ThreadReads::list_sql(filter_for(mask, values));
        const auto plan = query_plan(fixture.connection, sql);
        std::string text;
        for (const auto& row : plan) {
            text += row + "\n";
        }
        BOOST_TEST_CONTEXT(describe(mask) << "\n" << sql << "\nplan:\n" << text) {
            BOOST_TEST(!plan.empty());
            std::string thread_row;
            for (const auto& row : plan) {
                if (row.rfind("SEARCH t USING INDEX threads_by_", 0) == 0 ||
                    row.rfind("SEARCH t USING PRIMARY KEY", 0) == 0) {
                    thread_row = row;
                }
                BOOST_TEST(row.rfind("SCAN", 0) != 0, "a scan: " << row);
                BOOST_TEST(row.find("TEMP B-TREE") == std::string::npos, "a sort: " << row);
            }
            BOOST_TEST_REQUIRE(!thread_row.empty(),
                               "no range scan of the table or a threads_by_* index");
            // The range is at least within the organization.
            BOOST_TEST(thread_row.find("(organization_id=?") != std::string::npos);
            // With an equality filter, the range is that of an index made for one of them
            // (not the whole organization's, filtered row by row).
            const unsigned equality = mask & 15u;
            if (equality != 0) {
                bool filter_index = false;
                for (unsigned bit = 0; bit < 4; ++bit) {
                    if ((equality & (1u << bit)) &&
                        thread_row.rfind("SEARCH t USING INDEX " + kFilterIndexes[bit] + " (", 0) ==
                            0) {
                        filter_index = true;
                    }
                }
                BOOST_TEST(filter_index, "not the index of a filter: " << thread_row);
            } else {
                // The table itself is keyed by (organization_id, id).
                BOOST_TEST(thread_row.rfind("SEARCH t USING PRIMARY KEY (", 0) == 0);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(update_maps_persists_maps_and_updated_at_only) {
    SeededThreads data;
    ThreadRecord original = data.all[3];
    ThreadRecord changed = original;
    changed.metadata_json = R"({"b":"2","a":"1"})";
    changed.variables_json = std::string("{\"v\":\"x\\u0000y\"}");
    changed.updated_at = original.updated_at + 1000;
    // Columns update_maps must not touch, changed in the record on purpose.
    changed.is_active = !original.is_active;
    changed.closed_reason = "SHOULD_NOT_BE_STORED";
    changed.to_phone_number = "+19999999999";
    changed.created_at = 1;
    {
        ThreadWrites writes(data.fixture.connection);
        Transaction transaction(data.fixture.connection);
        writes.update_maps(changed);
        transaction.commit();
    }
    ThreadReads reads(data.fixture.connection);
    const auto found = reads.find(demo::kOrganization, original.id);
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->metadata_json == changed.metadata_json);
    BOOST_TEST(found->variables_json == changed.variables_json);
    BOOST_TEST(found->updated_at == original.updated_at + 1000);
    BOOST_TEST(found->created_at == original.created_at);
    BOOST_TEST(found->is_active == original.is_active);
    BOOST_TEST(found->closed_reason == original.closed_reason);
    BOOST_TEST(found->to_phone_number == original.to_phone_number);

    // Maps set back to null are stored as NULL; other threads are untouched.
    ThreadRecord nulled = changed;
    nulled.metadata_json.reset();
    nulled.variables_json.reset();
    nulled.updated_at += 1;
    {
        ThreadWrites writes(data.fixture.connection);
        Transaction transaction(data.fixture.connection);
        writes.update_maps(nulled);
        transaction.commit();
    }
    BOOST_TEST(query_int(data.fixture.connection,
                         "SELECT count(*) FROM threads WHERE id = '" + original.id +
                             "' AND metadata IS NULL AND variables IS NULL") == 1);
    BOOST_TEST(reads.find(demo::kOrganization, original.id)->updated_at == nulled.updated_at);
    BOOST_TEST(reads.find(demo::kOrganization, data.all[0].id)->metadata_json ==
               data.all[0].metadata_json);
    BOOST_TEST(reads.find(demo::kOrganization, data.all[0].id)->updated_at ==
               data.all[0].updated_at);
}

BOOST_AUTO_TEST_CASE(update_persists_a_closing) {
    SeededThreads data;
    ThreadRecord original;
    for (const auto& t : data.all) {
        if (t.is_active && t.organization_id == demo::kOrganization && t.metadata_json) {
            original = t;
            break;
        }
    }
    BOOST_TEST_REQUIRE(!original.id.empty());
    ThreadReads reads(data.fixture.connection);
    ThreadFilter inactive;
    inactive.is_active = false;
    const std::size_t inactive_before = reads.list(demo::kOrganization, inactive, 100).size();

    ThreadRecord closed = original;
    closed.is_active = false;
    closed.closed_at = original.created_at + 500;
    closed.updated_at = original.created_at + 500;
    closed.closed_reason = "USER_LEFT";
    closed.metadata_json = R"({"also":"stored"})";
    // Columns update() must not touch, changed in the record on purpose.
    closed.created_at = 1;
    closed.to_phone_number = "+19999999999";
    {
        ThreadWrites writes(data.fixture.connection);
        Transaction transaction(data.fixture.connection);
        writes.update(closed);
        transaction.commit();
    }
    const auto found = reads.find(demo::kOrganization, original.id);
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(!found->is_active);
    BOOST_TEST(found->closed_at == std::optional<std::int64_t>(original.created_at + 500));
    BOOST_TEST(found->updated_at == original.created_at + 500);
    BOOST_TEST(found->closed_reason == std::optional<std::string>("USER_LEFT"));
    BOOST_TEST(found->metadata_json == closed.metadata_json);
    BOOST_TEST(found->created_at == original.created_at);
    BOOST_TEST(found->to_phone_number == original.to_phone_number);
    // The list filters see the change at once.
    BOOST_TEST(reads.list(demo::kOrganization, inactive, 100).size() == inactive_before + 1);
}

BOOST_AUTO_TEST_CASE(a_version_1_store_upgrades_in_place) {
    const auto& migrations = threadsd::store::sqlite::embedded_migrations();
    BOOST_TEST_REQUIRE(migrations.size() >= 2u);
    BOOST_TEST_REQUIRE(migrations[0].version == 1);
    BOOST_TEST(threadsd::store::sqlite::latest_schema_version() >= 2);

    TempDir dir;
    const std::string path = dir.file("v1.db");
    threadsd::util::Uuid7Generator ids;
    const std::string thread_id = ids.next(kBaseMs);
    {
        Connection connection(path, OpenMode::kReadWrite);
        connection.exec(migrations[0].sql);
        connection.exec("PRAGMA user_version = 1");
        connection.exec(
            "INSERT INTO organizations (id, name, created_at) VALUES"
            " ('" +
            std::string(kOtherOrg) +
            "', 'Old org', 1);"
            "INSERT INTO agents (id, organization_id, name, description, agent_type, deleted)"
            " VALUES ('" +
            std::string(kOtherAgent) + "', '" + kOtherOrg +
            "', 'Old bot', NULL,"
            " 'TEXT', 0);"
            "INSERT INTO agent_versions (id, agent_id, version, name, mode, sms_max_tokens,"
            " sms_temperature, discard_inbound_sms, published) VALUES ('" +
            kOtherV1 + "', '" + kOtherAgent +
            "', 1, 'v1', 'PROMPT', NULL, 0.7, 0, 1);"
            "INSERT INTO threads (id, organization_id, agent_id, agent_version_id, created_at,"
            " updated_at, metadata) VALUES ('" +
            thread_id + "', '" + kOtherOrg + "', '" + kOtherAgent + "', '" + kOtherV1 + "', " +
            std::to_string(kBaseMs) + ", " + std::to_string(kBaseMs) + ", '{\"old\":\"yes\"}');");
        BOOST_TEST(query_int(connection,
                             "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name "
                             "LIKE 'threads_by_%'") == 0);
    }

    Connection connection(path, OpenMode::kReadWrite);
    const auto result = threadsd::store::sqlite::migrate(connection, DemoSeed::kWhenCreated);
    BOOST_TEST(result.from_version == 1);
    BOOST_TEST(result.to_version == threadsd::store::sqlite::latest_schema_version());
    BOOST_TEST(!result.seeded);  // an existing store gets no demo data
    BOOST_TEST(query_int(connection, "PRAGMA user_version") ==
               threadsd::store::sqlite::latest_schema_version());
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM organizations") == 1);
    for (const auto& index : kIndexes) {
        BOOST_TEST(query_int(connection,
                             "SELECT count(*) FROM sqlite_master WHERE type = "
                             "'index' AND tbl_name = 'threads' AND name = '" +
                                 index + "'") == 1,
                   index);
    }

    // The old thread is still there and is served by the new queries.
    ThreadReads reads(connection);
    const auto found = reads.find(kOtherOrg, thread_id);
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->metadata_json == std::optional<std::string>(R"({"old":"yes"})"));
    BOOST_TEST(found->to_phone_number == "");
    BOOST_TEST(found->is_active);
    BOOST_TEST(found->agent.name == "Old bot");
    const auto listed = reads.list(kOtherOrg, ThreadFilter{}, 10);
    BOOST_TEST_REQUIRE(listed.size() == 1u);
    BOOST_TEST(listed[0].id == thread_id);
    const auto plan = query_plan(connection, ThreadReads::list_sql(ThreadFilter{}));
    BOOST_TEST_REQUIRE(!plan.empty());
    BOOST_TEST(plan[0].rfind("SEARCH t USING PRIMARY KEY", 0) == 0, plan[0]);

    // Migrating again changes nothing.
    const auto again = threadsd::store::sqlite::migrate(connection, DemoSeed::kWhenCreated);
    BOOST_TEST(again.from_version == again.to_version);
    BOOST_TEST(query_int(connection, "SELECT count(*) FROM threads") == 1);
}

BOOST_AUTO_TEST_CASE(a_new_store_has_the_list_indexes) {
    StoreFixture fixture(DemoSeed::kNever, "fresh.db");
    for (const auto& index : kIndexes) {
        BOOST_TEST(query_int(fixture.connection,
                             "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                             "tbl_name = 'threads' AND name = '" +
                                 index + "'") == 1,
                   index);
    }
}

BOOST_AUTO_TEST_SUITE_END()
