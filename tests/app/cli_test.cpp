// The command line (docs/configuration.md), run as the real build/threadsd: every
// subcommand, its output, its errors, and how `serve` starts and stops.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/import_file.hpp"
#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/test_store.hpp"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using boost::beast::http::verb;
using threadsd::test::CommandResult;
using threadsd::test::create_body;
using threadsd::test::create_demo_key;
using threadsd::test::create_key;
using threadsd::test::HttpClient;
using threadsd::test::import_agent;
using threadsd::test::import_agents;
using threadsd::test::import_version;
using threadsd::test::new_store;
using threadsd::test::on_postgres;
using threadsd::test::only_on;
using threadsd::test::postgres_cluster;
using threadsd::test::run_ok;
using threadsd::test::run_threadsd;
using threadsd::test::run_threadsd_bounded;
using threadsd::test::ServerProcess;
using threadsd::test::store_created;
using threadsd::test::StoreKind;
using threadsd::test::StoreRows;
using threadsd::test::TempDir;
using threadsd::test::write_file;
namespace demo = threadsd::test::demo;

/// An organization and agents that are not part of the demo seed.
constexpr const char* kImportOrg = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeee01";
constexpr const char* kImportTextAgent = "11111111-2222-4333-8444-555555555501";
constexpr const char* kImportTextV1 = "11111111-2222-4333-8444-5555555555a1";
constexpr const char* kImportTextV2 = "11111111-2222-4333-8444-5555555555a2";
constexpr const char* kImportCallAgent = "11111111-2222-4333-8444-555555555502";

/// True when `text` is exactly one non-empty line that ends in a newline.
bool is_one_line(const std::string& text) {
    return text.size() > 1 && text.back() == '\n' && text.find('\n') == text.size() - 1;
}

/// Removes the trailing newline of a one-line output.
std::string chomp(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

/// Checks the shape of a refused command: non-zero exit (not a crash), exactly one line
/// on stderr, nothing on stdout.
void expect_one_line_failure(const CommandResult& result, const std::string& what) {
    BOOST_TEST_CONTEXT(what << " -> exit " << result.exit_code << ", stderr [" << result.err
                            << "], stdout [" << result.out << "]") {
        BOOST_TEST(result.exit_code > 0);    // -1: still running, see run_threadsd_bounded
        BOOST_TEST(result.exit_code < 128);  // not killed by a signal (abort, segfault)
        BOOST_TEST(is_one_line(result.err));
        BOOST_TEST(result.out.empty());
        BOOST_TEST(result.err.find("terminate called") == std::string::npos);
    }
}

/// `agents list --db db` parsed.
json::array agents_list(const std::string& db) {
    const auto out = run_ok({"agents", "list", "--db", db});
    const auto value = json::parse(out);
    BOOST_REQUIRE_MESSAGE(value.is_array(), "agents list is not a JSON array: " << out);
    return value.as_array();
}

/// `keys list --db db` parsed.
json::array keys_list(const std::string& db) {
    const auto out = run_ok({"keys", "list", "--db", db});
    const auto value = json::parse(out);
    BOOST_REQUIRE_MESSAGE(value.is_array(), "keys list is not a JSON array: " << out);
    return value.as_array();
}

/// The element of `array` whose "id" is `id`, or null.
const json::object* find_by_id(const json::array& array, const std::string& id) {
    for (const auto& element : array) {
        if (element.is_object() && element.as_object().contains("id") &&
            element.as_object().at("id") == json::value(id)) {
            return &element.as_object();
        }
    }
    return nullptr;
}

/// The member names of an object.
std::set<std::string> member_names(const json::object& object) {
    std::set<std::string> names;
    for (const auto& member : object) {
        names.insert(std::string(member.key()));
    }
    return names;
}

/// RFC 3339 UTC with exactly three fractional digits and `Z`.
bool is_rfc3339_millis(const json::value& value) {
    static const std::regex pattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
    return value.is_string() && std::regex_match(std::string(value.as_string()), pattern);
}

/// An import file with a TEXT agent (published version `published`) and a CALL agent
/// without versions, both in kImportOrg.
std::string import_file(const std::string& published = kImportTextV1) {
    auto caller = import_agent(kImportCallAgent, kImportOrg, "Imported caller", json::array{});
    caller["description"] = "Rings back";
    caller["agentType"] = "CALL";
    const json::array file{
        import_agent(kImportTextAgent, kImportOrg, "Imported bot",
                     json::array{import_version(kImportTextV1, 1, published == kImportTextV1),
                                 import_version(kImportTextV2, 2, published == kImportTextV2)}),
        caller};
    return json::serialize(file);
}

/// Sets (or unsets) an environment variable for the scope, then restores it.
class ScopedEnv {
  public:
    ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
        if (const char* old = std::getenv(name_.c_str())) {
            old_ = old;
        }
        if (value) {
            setenv(name_.c_str(), value->c_str(), 1);
        } else {
            unsetenv(name_.c_str());
        }
    }
    ~ScopedEnv() {
        if (old_) {
            setenv(name_.c_str(), old_->c_str(), 1);
        } else {
            unsetenv(name_.c_str());
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

  private:
    std::string name_;                ///< The variable.
    std::optional<std::string> old_;  ///< Its value before, if it had one.
};

/// Changes the working directory for the scope, then restores it.
class ScopedCwd {
  public:
    explicit ScopedCwd(const fs::path& directory) : old_(fs::current_path()) {
        fs::current_path(directory);
    }
    ~ScopedCwd() {
        std::error_code ignored;
        fs::current_path(old_, ignored);
    }
    ScopedCwd(const ScopedCwd&) = delete;
    ScopedCwd& operator=(const ScopedCwd&) = delete;

  private:
    fs::path old_;  ///< Where we were.
};

/// A TCP socket listening on 127.0.0.1 and a free port, so that the port is busy.
class BusyPort {
  public:
    BusyPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        BOOST_REQUIRE(fd_ >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = 0;
        BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        BOOST_REQUIRE(::listen(fd_, 1) == 0);
        socklen_t size = sizeof address;
        BOOST_REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
        port_ = ntohs(address.sin_port);
    }
    ~BusyPort() { ::close(fd_); }
    BusyPort(const BusyPort&) = delete;
    BusyPort& operator=(const BusyPort&) = delete;
    /// The busy port.
    unsigned short port() const { return port_; }
    /// `127.0.0.1:port`.
    std::string listen() const { return "127.0.0.1:" + std::to_string(port_); }

  private:
    int fd_;                   ///< The listening socket.
    unsigned short port_ = 0;  ///< Its port.
};

/// The lines of `text`.
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        lines.push_back(text.substr(start, end == std::string::npos ? end : end - start));
        if (end == std::string::npos) {
            break;
        }
        start = end + 1;
    }
    return lines;
}

/// Number of non-overlapping occurrences of `needle` in `text`.
std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + needle.size())) {
        ++count;
    }
    return count;
}

/// The key from the demo-key banner's curl line, or "" when there is none.
std::string printed_demo_key(const std::string& stderr_text) {
    static const std::regex curl_key(R"(X-API-Key: ([^'\s]+)')");
    std::smatch match;
    return std::regex_search(stderr_text, match, curl_key) ? std::string(match[1]) : "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

// ---------------------------------------------------------------- migrate

BOOST_AUTO_TEST_CASE(migrate_creates_the_store_prints_its_version_and_seeds_the_demo) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto result = run_threadsd({"migrate", "--db", db});
    BOOST_TEST(result.exit_code == 0);
    BOOST_TEST(is_one_line(result.out), "migrate output: " << result.out);
    BOOST_TEST(std::regex_search(result.out, std::regex("schema version [0-9]+")),
               "migrate output: " << result.out);
    BOOST_TEST(store_created(db));

    const auto agents = agents_list(db);
    BOOST_TEST(agents.size() == 4u);
    for (const char* id :
         {demo::kSupportBot, demo::kVoiceAgent, demo::kBooker, demo::kDraftAgent}) {
        BOOST_TEST(find_by_id(agents, id) != nullptr, "demo agent " << id << " is listed");
    }

    // A second migrate is a no-op that still succeeds and reports the same version.
    const auto again = run_threadsd({"migrate", "--db", db});
    BOOST_TEST(again.exit_code == 0);
    BOOST_TEST(again.out == result.out);
    BOOST_TEST(agents_list(db) == agents);
}

BOOST_AUTO_TEST_CASE(migrate_no_demo_leaves_no_agents_and_no_demo_organization) {
    TempDir dir;
    const auto db = new_store(dir, "empty.db");
    const auto result = run_threadsd({"migrate", "--db", db, "--no-demo"});
    BOOST_TEST(result.exit_code == 0);
    BOOST_TEST(std::regex_search(result.out, std::regex("schema version [0-9]+")));
    BOOST_TEST(agents_list(db).empty());  // other subcommands do not seed an existing store
    expect_one_line_failure(
        run_threadsd({"keys", "create", "--org", demo::kOrganization, "--db", db}),
        "keys create for the unseeded demo organization");
}

BOOST_AUTO_TEST_CASE(migrate_seeds_the_demo_into_an_existing_empty_store) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    run_ok({"migrate", "--no-demo", "--db", db});
    BOOST_REQUIRE(agents_list(db).empty());
    run_ok({"migrate", "--db", db});
    const auto agents = agents_list(db);
    BOOST_TEST(agents.size() == 4u);
    BOOST_TEST(find_by_id(agents, demo::kSupportBot) != nullptr);
}

BOOST_AUTO_TEST_CASE(any_subcommand_creates_and_seeds_a_missing_store) {
    TempDir dir;
    const auto db = new_store(dir, "first-use.db");
    BOOST_TEST(keys_list(db).empty());  // keys list is the first use
    BOOST_TEST(store_created(db));
    BOOST_TEST(agents_list(db).size() == 4u);

    const auto other = new_store(dir, "first-use-no-demo.db");
    run_ok({"keys", "list", "--no-demo", "--db", other});
    BOOST_TEST(agents_list(other).empty());
}

// ---------------------------------------------------------------- agents list

BOOST_AUTO_TEST_CASE(agents_list_has_exactly_the_contract_fields) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto agents = agents_list(db);
    BOOST_REQUIRE(agents.size() == 4u);
    const std::set<std::string> expected{
        "id",      "organizationId",    "name", "description", "agentType",
        "deleted", "publishedVersionId"};
    for (const auto& element : agents) {
        BOOST_REQUIRE(element.is_object());
        const auto& agent = element.as_object();
        BOOST_TEST((member_names(agent) == expected), "agent fields: " << json::serialize(agent));
        BOOST_TEST(agent.at("id").is_string());
        BOOST_TEST(agent.at("organizationId") == json::value(demo::kOrganization));
        BOOST_TEST(agent.at("name").is_string());
        BOOST_TEST((agent.at("description").is_string() || agent.at("description").is_null()));
        BOOST_TEST((agent.at("agentType") == json::value("TEXT") ||
                    agent.at("agentType") == json::value("CALL")));
        BOOST_TEST(agent.at("deleted") == json::value(false));
    }

    const auto* support = find_by_id(agents, demo::kSupportBot);
    BOOST_REQUIRE(support != nullptr);
    BOOST_TEST(support->at("name") == json::value("Support bot"));
    BOOST_TEST(support->at("agentType") == json::value("TEXT"));
    BOOST_TEST(support->at("publishedVersionId") == json::value(demo::kSupportBotV2));

    const auto* voice = find_by_id(agents, demo::kVoiceAgent);
    BOOST_REQUIRE(voice != nullptr);
    BOOST_TEST(voice->at("agentType") == json::value("CALL"));
    BOOST_TEST(voice->at("description").is_null());
    BOOST_TEST(voice->at("publishedVersionId") == json::value(demo::kVoiceAgentV1));

    const auto* draft = find_by_id(agents, demo::kDraftAgent);
    BOOST_REQUIRE(draft != nullptr);
    BOOST_TEST(draft->at("publishedVersionId").is_null());
}

// ---------------------------------------------------------------- agents import

BOOST_AUTO_TEST_CASE(agents_import_adds_agents_and_reimport_changes_nothing) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto file = dir.file("agents.json");
    write_file(file, import_file());

    const auto first = run_threadsd({"agents", "import", file, "--db", db});
    BOOST_TEST(first.exit_code == 0, "import failed: " << first.err);
    const auto after_first = agents_list(db);
    BOOST_TEST(after_first.size() == 6u);  // the four demo agents and the two imported

    const auto* text = find_by_id(after_first, kImportTextAgent);
    BOOST_REQUIRE(text != nullptr);
    BOOST_TEST(text->at("organizationId") == json::value(kImportOrg));
    BOOST_TEST(text->at("name") == json::value("Imported bot"));
    BOOST_TEST(text->at("description").is_null());
    BOOST_TEST(text->at("agentType") == json::value("TEXT"));
    BOOST_TEST(text->at("deleted") == json::value(false));
    BOOST_TEST(text->at("publishedVersionId") == json::value(kImportTextV1));

    const auto* call = find_by_id(after_first, kImportCallAgent);
    BOOST_REQUIRE(call != nullptr);
    BOOST_TEST(call->at("description") == json::value("Rings back"));
    BOOST_TEST(call->at("agentType") == json::value("CALL"));
    BOOST_TEST(call->at("publishedVersionId").is_null());

    // The organization of the file now exists: keys can be made for it.
    const auto key = run_threadsd({"keys", "create", "--org", kImportOrg, "--db", db});
    BOOST_TEST(key.exit_code == 0, "keys create for the imported organization: " << key.err);

    const auto second = run_threadsd({"agents", "import", file, "--db", db});
    BOOST_TEST(second.exit_code == 0, "re-import failed: " << second.err);
    BOOST_TEST(agents_list(db) == after_first);
}

BOOST_AUTO_TEST_CASE(agents_import_of_a_changed_file_is_seen_by_a_running_server) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto file = dir.file("agents.json");
    import_agents(db, file, import_file(kImportTextV1));
    const auto key = create_key(db, kImportOrg);

    ServerProcess server(db);
    HttpClient client(server.port());
    const auto before = client.post_json("/api/v1/threads/web", create_body(kImportTextAgent), key);
    BOOST_TEST_REQUIRE(before.status() == 200u, before.message.body());
    BOOST_TEST(before.json().at("thread").at("agentVersionId") == json::value(kImportTextV1));

    import_agents(db, file, import_file(kImportTextV2));
    BOOST_TEST(find_by_id(agents_list(db), kImportTextAgent)->at("publishedVersionId") ==
               json::value(kImportTextV2));

    const auto after = client.post_json("/api/v1/threads/web", create_body(kImportTextAgent), key);
    BOOST_TEST_REQUIRE(after.status() == 200u, after.message.body());
    BOOST_TEST(after.json().at("thread").at("agentVersionId") == json::value(kImportTextV2));
    BOOST_TEST(after.json().at("thread").at("organizationId") == json::value(kImportOrg));
}

BOOST_AUTO_TEST_CASE(agents_import_refuses_a_malformed_file_whole) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto before = agents_list(db);
    const std::string good_agent =
        std::string(R"({"id": "11111111-2222-4333-8444-5555555555f1",)") +
        R"( "organizationId": ")" + kImportOrg + R"(", "name": "Fine", "agentType": "TEXT"})";

    struct Case {
        std::string label;
        std::string text;
        std::vector<std::string> must_name;  ///< Fragments the one line must contain.
    };
    const std::vector<Case> cases{
        {"bad mode in the second element",
         "[" + good_agent +
             R"(, {"id": "11111111-2222-4333-8444-5555555555f2", "organizationId": ")" +
             kImportOrg +
             R"(", "name": "x", "agentType": "TEXT", "versions": [{"id":)"
             R"( "11111111-2222-4333-8444-5555555555b1", "version": 1, "name": "v1",)"
             R"( "mode": "CHAT"}]}])",
         {"agents[1]", "versions[0]", "mode"}},
        {"missing name",
         std::string(R"([{"id": "11111111-2222-4333-8444-5555555555f3", "organizationId": ")") +
             kImportOrg + R"(", "agentType": "TEXT"}])",
         {"agents[0]", "name"}},
        {"id that is not a UUID",
         "[" + good_agent + R"(, {"id": "not-a-uuid", "organizationId": ")" + kImportOrg +
             R"(", "name": "x", "agentType": "TEXT"}])",
         {"agents[1]", "id"}},
        {"bad agentType",
         std::string(R"([{"id": "11111111-2222-4333-8444-5555555555f4", "organizationId": ")") +
             kImportOrg + R"(", "name": "x", "agentType": "SMS"}])",
         {"agents[0]", "agentType"}},
        {"two published versions",
         std::string(R"([{"id": "11111111-2222-4333-8444-5555555555f5", "organizationId": ")") +
             kImportOrg +
             R"(", "name": "x", "agentType": "TEXT", "versions": [)"
             R"({"id": "11111111-2222-4333-8444-5555555555c1", "version": 1, "name": "a",)"
             R"( "mode": "FLOW", "published": true},)"
             R"({"id": "11111111-2222-4333-8444-5555555555c2", "version": 2, "name": "b",)"
             R"( "mode": "FLOW", "published": true}]}])",
         {"agents[0]", "versions[1]", "published"}},
        // Valid on its own, refused by the store: a demo agent moved to another
        // organization. The new agent before it must not be left behind.
        {"agent id owned by another organization",
         "[" + good_agent + R"(, {"id": ")" + demo::kSupportBot + R"(", "organizationId": ")" +
             kImportOrg + R"(", "name": "Hijack", "agentType": "TEXT"}])",
         {"agents[1]", "organizationId"}},
        {"not an array", R"({"agents": []})", {}},
        {"not JSON", "[{\"id\": ", {}},
    };
    for (const auto& c : cases) {
        const auto file = dir.file("bad.json");
        write_file(file, c.text);
        const auto result = run_threadsd({"agents", "import", file, "--db", db});
        expect_one_line_failure(result, c.label);
        for (const auto& fragment : c.must_name) {
            BOOST_TEST(result.err.find(fragment) != std::string::npos,
                       c.label << ": message [" << chomp(result.err) << "] names " << fragment);
        }
        BOOST_TEST(agents_list(db) == before, c.label << ": store unchanged");
    }
    // Nothing of the refused files was kept, not even the organization.
    expect_one_line_failure(run_threadsd({"keys", "create", "--org", kImportOrg, "--db", db}),
                            "keys create for an organization only named by refused files");
}

BOOST_AUTO_TEST_CASE(agents_import_of_a_missing_file_fails_with_one_line) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto before = agents_list(db);
    const auto missing = dir.file("no-such-file.json");
    const auto result = run_threadsd({"agents", "import", missing, "--db", db});
    expect_one_line_failure(result, "import of a missing file");
    BOOST_TEST(result.err.find("no-such-file.json") != std::string::npos, result.err);
    BOOST_TEST(agents_list(db) == before);

    // A directory is not a readable file either.
    expect_one_line_failure(run_threadsd({"agents", "import", dir.path().string(), "--db", db}),
                            "import of a directory");
    BOOST_TEST(agents_list(db) == before);
}

// ---------------------------------------------------------------- keys

BOOST_AUTO_TEST_CASE(keys_create_list_revoke) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto created =
        run_threadsd({"keys", "create", "--org", demo::kOrganization, "--name", "ci", "--db", db});
    BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
    BOOST_TEST(is_one_line(created.out), "keys create output: " << created.out);
    BOOST_TEST(created.err.empty());
    const auto key = chomp(created.out);
    BOOST_TEST(key.size() >= 22u);  // at least 128 random bits in any usual text encoding
    BOOST_TEST(key.find_first_of(" \t\r") == std::string::npos);

    const auto listed = run_threadsd({"keys", "list", "--db", db});
    BOOST_TEST_REQUIRE(listed.exit_code == 0);
    BOOST_TEST(listed.out.find(key) == std::string::npos, "keys list shows the secret");
    const auto keys = json::parse(listed.out).as_array();
    BOOST_REQUIRE(keys.size() == 1u);
    const auto& entry = keys[0].as_object();
    for (const char* field : {"id", "organizationId", "name", "createdAt", "revokedAt"}) {
        BOOST_TEST(entry.contains(field), "keys list has " << field);
    }
    for (const auto& name : member_names(entry)) {
        // The contract's five fields, then `prefix` (the visible start of the key) and
        // `rateLimit` (requests per second, or null for the server's default).
        BOOST_TEST(
            (name == "id" || name == "organizationId" || name == "name" || name == "createdAt" ||
             name == "revokedAt" || name == "prefix" || name == "rateLimit"),
            "unexpected field " << name);
    }
    BOOST_TEST(entry.at("id").is_string());
    BOOST_TEST(entry.at("organizationId") == json::value(demo::kOrganization));
    BOOST_TEST(entry.at("name") == json::value("ci"));
    BOOST_TEST(is_rfc3339_millis(entry.at("createdAt")), json::serialize(entry));
    BOOST_TEST(entry.at("revokedAt").is_null());
    BOOST_TEST(entry.at("rateLimit").is_null());
    const std::string id(entry.at("id").as_string());

    const auto revoked = run_threadsd({"keys", "revoke", id, "--db", db});
    BOOST_TEST(revoked.exit_code == 0, revoked.err);
    BOOST_TEST(revoked.err.empty());
    const auto after = keys_list(db);
    BOOST_REQUIRE(after.size() == 1u);
    const auto& revoked_entry = after[0].as_object();
    BOOST_TEST(revoked_entry.at("id") == json::value(id));
    BOOST_TEST(is_rfc3339_millis(revoked_entry.at("revokedAt")), json::serialize(revoked_entry));
    // Same fixed-width format, so text order is time order.
    BOOST_TEST(std::string(revoked_entry.at("revokedAt").as_string()) >=
               std::string(revoked_entry.at("createdAt").as_string()));
    BOOST_TEST(revoked_entry.at("createdAt") == entry.at("createdAt"));
}

BOOST_AUTO_TEST_CASE(keys_create_makes_distinct_keys) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto first = create_demo_key(db);
    const auto second = create_demo_key(db);
    BOOST_TEST(first != second);
    const auto keys = keys_list(db);
    BOOST_TEST(keys.size() == 2u);
    BOOST_TEST(keys[0].at("id") != keys[1].at("id"));
}

BOOST_AUTO_TEST_CASE(keys_errors_are_one_line_and_nothing_on_stdout) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    const auto keys = keys_list(db);
    const std::string id(keys.at(0).at("id").as_string());

    expect_one_line_failure(run_threadsd({"keys", "create", "--org",
                                          "aaaaaaaa-0000-4000-8000-000000000000", "--db", db}),
                            "keys create with an unknown organization");
    expect_one_line_failure(run_threadsd({"keys", "create", "--org", "not-a-uuid", "--db", db}),
                            "keys create with --org not a UUID");
    expect_one_line_failure(run_threadsd({"keys", "create", "--db", db}),
                            "keys create without --org");
    expect_one_line_failure(
        run_threadsd({"keys", "revoke", "01a2241c-abbb-71d7-856a-000000000000", "--db", db}),
        "keys revoke of an unknown id");
    expect_one_line_failure(run_threadsd({"keys", "revoke", "--db", db}),
                            "keys revoke without an id");
    BOOST_TEST(keys_list(db) == keys, "failed commands changed no key");

    run_ok({"keys", "revoke", id, "--db", db});
    const auto revoked_once = keys_list(db);
    expect_one_line_failure(run_threadsd({"keys", "revoke", id, "--db", db}),
                            "keys revoke of a revoked key");
    BOOST_TEST(keys_list(db) == revoked_once, "revoking twice keeps the first revokedAt");
    BOOST_TEST(!key.empty());
}

BOOST_AUTO_TEST_CASE(revoked_key_is_refused_by_a_running_server) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    const std::string id(keys_list(db).at(0).at("id").as_string());
    ServerProcess server(db);
    HttpClient client(server.port());
    const auto accepted =
        client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key);
    BOOST_TEST(accepted.status() == 200u, accepted.message.body());

    run_ok({"keys", "revoke", id, "--db", db});
    const auto refused =
        client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key);
    BOOST_TEST(refused.status() == 401u, refused.message.body());
}

// The server keeps keys and agents in memory; a change made with plain SQL by another
// process (an operator's sqlite3 or psql shell), not through the CLI, must be seen at once too.
BOOST_AUTO_TEST_CASE(catalog_changes_by_plain_sql_are_seen_by_the_next_request) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    ServerProcess server(db);
    HttpClient client(server.port());
    // Warm the cache: the key and the agent are now served from memory.
    for (int i = 0; i < 3; ++i) {
        const auto created =
            client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key);
        BOOST_TEST_REQUIRE(created.status() == 200u, created.message.body());
    }
    const auto execute = [&db](const std::string& sql) { StoreRows(db).rows(sql); };

    const auto thread_id =
        std::string(client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key)
                        .json()
                        .at("thread")
                        .at("id")
                        .as_string());
    execute(std::string("UPDATE agents SET name = 'Renamed by SQL' WHERE id = '") +
            demo::kSupportBot + "'");
    const auto renamed = client.request(verb::get, "/api/v1/threads/" + thread_id, std::nullopt,
                                        {{"X-API-Key", key}});
    BOOST_TEST_REQUIRE(renamed.status() == 200u, renamed.message.body());
    BOOST_TEST(renamed.json().at("thread").at("agentDetails").at("name") ==
               json::value("Renamed by SQL"));

    execute(std::string("UPDATE agents SET deleted = 1 WHERE id = '") + demo::kSupportBot + "'");
    const auto gone = client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key);
    BOOST_TEST(gone.status() == 404u, gone.message.body());

    execute("UPDATE api_keys SET revoked_at = 1");
    const auto refused =
        client.request(verb::get, "/api/v1/threads", std::nullopt, {{"X-API-Key", key}});
    BOOST_TEST(refused.status() == 401u, refused.message.body());
}

// ---------------------------------------------------------------- usage errors

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_with_one_line) {
    TempDir dir;
    const auto db = new_store(dir, "never-created.db");
    const std::string listen = "127.0.0.1:0";
    const std::vector<std::pair<std::string, std::vector<std::string>>> cases{
        {"unknown command", {"frobnicate", "--db", db}},
        {"unknown agents subcommand", {"agents", "delete", "--db", db}},
        {"unknown option", {"keys", "list", "--frobnicate", "--db", db}},
        {"unknown option of serve", {"serve", "--listen", listen, "--colour", "--db", db}},
        {"--workers 0", {"serve", "--listen", listen, "--workers", "0", "--db", db}},
        {"--workers abc", {"serve", "--listen", listen, "--workers", "abc", "--db", db}},
        {"--workers -1", {"serve", "--listen", listen, "--workers=-1", "--db", db}},
        {"--workers without value", {"serve", "--listen", listen, "--db", db, "--workers"}},
        {"--durability off", {"serve", "--listen", listen, "--durability", "off", "--db", db}},
        {"--db without value", {"keys", "list", "--db"}},
        {"agents import without FILE", {"agents", "import", "--db", db}},
        {"extra word", {"migrate", "now", "--db", db}},
    };
    for (const auto& [label, args] : cases) {
        const auto result = run_threadsd_bounded(args);
        expect_one_line_failure(result, label);
        BOOST_TEST(result.exit_code == 2, label << ": exit " << result.exit_code);
    }
    BOOST_TEST(!store_created(db), "a usage error created the database");
}

BOOST_AUTO_TEST_CASE(help_lists_every_subcommand) {
    const auto result = run_threadsd({"--help"});
    BOOST_TEST(result.exit_code == 0);
    BOOST_TEST(result.err.empty());
    for (const char* subcommand : {"serve", "migrate", "agents import", "agents list",
                                   "keys create", "keys list", "keys revoke", "--db"}) {
        BOOST_TEST(result.out.find(subcommand) != std::string::npos,
                   "--help mentions " << subcommand);
    }
}

// ---------------------------------------------------------------- --db and THREADSD_DB

BOOST_AUTO_TEST_CASE(db_option_and_environment) {
    TempDir dir;
    const auto from_env = new_store(dir, "from-env.db");
    const auto from_flag = new_store(dir, "from-flag.db");
    ScopedEnv env("THREADSD_DB", from_env);

    // No --db: $THREADSD_DB is used.
    const auto key = chomp(run_ok({"keys", "create", "--org", demo::kOrganization}));
    BOOST_TEST(store_created(from_env));
    BOOST_TEST(!store_created(from_flag));
    BOOST_TEST(keys_list(from_env).size() == 1u);

    // --db wins over $THREADSD_DB, wherever it stands after the subcommand's words.
    run_ok({"keys", "create", "--db", from_flag, "--org", demo::kOrganization});
    run_ok({"keys", "create", "--org", demo::kOrganization, "--db", from_flag, "--name", "late"});
    run_ok({"keys", "create", "--org=" + std::string(demo::kOrganization), "--db=" + from_flag});
    const auto flag_keys = json::parse(run_ok({"keys", "list", "--db", from_flag})).as_array();
    BOOST_TEST(flag_keys.size() == 3u);
    BOOST_TEST(json::parse(run_ok({"keys", "list"})).as_array().size() ==
               1u);  // env store untouched

    // Options between the subcommand's words and its argument.
    const std::string id(flag_keys.at(0).at("id").as_string());
    run_ok({"keys", "revoke", "--db", from_flag, id});
    BOOST_TEST(!keys_list(from_flag).at(0).at("revokedAt").is_null());
    BOOST_TEST(keys_list(from_env).at(0).at("revokedAt").is_null());
    BOOST_TEST(!key.empty());
}

BOOST_AUTO_TEST_CASE(default_database_is_threadsd_db_in_the_working_directory,
                     *only_on(StoreKind::kSqlite, "the default store is a SQLite file")) {
    TempDir dir;
    // Run from inside the temporary directory, with an absolute binary path.
    ScopedEnv binary("THREADSD_BIN", fs::absolute(threadsd::test::threadsd_binary()).string());
    ScopedEnv env("THREADSD_DB", std::nullopt);
    ScopedCwd cwd(dir.path());
    run_ok({"migrate", "--no-demo"});
    BOOST_TEST(fs::exists(dir.path() / "threadsd.db"));

    // An empty $THREADSD_DB also means the default.
    ScopedEnv empty("THREADSD_DB", std::string());
    BOOST_TEST(agents_list("threadsd.db").empty());
    BOOST_TEST(json::parse(run_ok({"agents", "list"})).as_array().empty());
}

// ---------------------------------------------------------------- serve: failures

BOOST_AUTO_TEST_CASE(serve_on_a_busy_port_fails_with_one_line) {
    TempDir dir;
    BusyPort busy;

    // A store that already has a key.
    const auto db = new_store(dir, "store.db");
    create_demo_key(db);
    expect_one_line_failure(run_threadsd_bounded({"serve", "--listen", busy.listen(), "--db", db}),
                            "serve on a busy port");

    // A fresh store: the failed start prints no demo key banner and does not use up the
    // offer, so the next successful start still shows a key.
    const auto fresh = new_store(dir, "fresh.db");
    const auto result = run_threadsd_bounded({"serve", "--listen", busy.listen(), "--db", fresh});
    expect_one_line_failure(result, "serve on a busy port, fresh store");
    ServerProcess server(fresh);
    BOOST_TEST(!printed_demo_key(server.stderr_text()).empty(), server.stderr_text());
}

BOOST_AUTO_TEST_CASE(serve_on_an_unreadable_database_fails_with_one_line) {
    TempDir dir;
    std::vector<std::pair<std::string, std::string>> cases;
    std::string unusable;  // also refused by a one-shot command
    if (on_postgres()) {
        const auto& cluster = postgres_cluster();
        unusable = cluster.uri_for("threadsd_no_such_database");
        cases = {
            {"a database that does not exist", unusable},
            {"a socket directory where no server listens",
             "postgresql://postgres@/db?host=" + dir.path().string()},
            {"a URI libpq cannot parse", "postgresql://postgres@[::1/db"},
            {"an unknown URI parameter", "postgresql:///db?frobnicate=1"},
        };
    } else {
        unusable = dir.file("garbage.db");
        write_file(unusable, std::string(8192, 'x'));
        cases = {
            {"a directory", dir.path().string()},
            {"a path under /proc that cannot exist", "/proc/threadsd-no-such/dir/store.db"},
            {"a file that is not a database", unusable},
        };
    }
    for (const auto& [label, path] : cases) {
        // Port 0 is always free; the database must be what fails.
        const auto result =
            run_threadsd_bounded({"serve", "--listen", "127.0.0.1:0", "--db", path});
        expect_one_line_failure(result, "serve on " + label);
    }
    // The same for a one-shot command.
    expect_one_line_failure(run_threadsd({"keys", "list", "--db", unusable}),
                            "keys list on a store it cannot use");
}

// ---------------------------------------------------------------- serve: demo key

BOOST_AUTO_TEST_CASE(serve_on_a_store_without_keys_prints_a_working_demo_key_once) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    std::string key;
    {
        ServerProcess server(db);
        const auto text = server.stderr_text();
        key = printed_demo_key(text);
        BOOST_TEST_REQUIRE(!key.empty(), "no demo key banner: " << text);
        BOOST_TEST(count_of(text, "curl ") == 1u, text);
        // The key also stands alone on a line, for copying.
        bool alone = false;
        for (const auto& line : lines_of(text)) {
            const auto first = line.find_first_not_of(" \t");
            alone = alone || (first != std::string::npos && line.substr(first) == key);
        }
        BOOST_TEST(alone, text);

        HttpClient client(server.port());
        const auto created =
            client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key);
        BOOST_TEST(created.status() == 200u, created.message.body());
        BOOST_TEST(created.json().at("thread").at("organizationId") ==
                   json::value(demo::kOrganization));

        server.signal(SIGTERM);
        BOOST_TEST(server.wait_exit(10) == 0);
        BOOST_TEST(count_of(server.stderr_text(), "curl ") == 1u);
    }
    BOOST_TEST(keys_list(db).size() == 1u);
    {
        ServerProcess again(db);
        const auto text = again.stderr_text();
        BOOST_TEST(text.find("curl") == std::string::npos, text);
        BOOST_TEST(text.find(key) == std::string::npos, text);
        HttpClient client(again.port());
        const auto created =
            client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key);
        BOOST_TEST(created.status() == 200u, created.message.body());
    }
    BOOST_TEST(keys_list(db).size() == 1u);
}

BOOST_AUTO_TEST_CASE(serve_prints_no_demo_key_when_a_revoked_key_exists) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    create_demo_key(db);
    const std::string id(keys_list(db).at(0).at("id").as_string());
    run_ok({"keys", "revoke", id, "--db", db});
    ServerProcess server(db);
    BOOST_TEST(server.stderr_text().find("curl") == std::string::npos, server.stderr_text());
    BOOST_TEST(keys_list(db).size() == 1u);
}

// ---------------------------------------------------------------- serve: signals

BOOST_AUTO_TEST_CASE(sigterm_and_sigint_exit_0) {
    for (const int sig : {SIGTERM, SIGINT}) {
        BOOST_TEST_CONTEXT("signal " << sig) {
            TempDir dir;
            const auto db = new_store(dir, "store.db");
            const auto key = create_demo_key(db);
            ServerProcess server(db);
            {
                HttpClient client(server.port());
                const auto created =
                    client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key);
                BOOST_TEST(created.status() == 200u);
            }
            server.signal(sig);
            BOOST_TEST(server.wait_exit(10) == 0, server.stderr_text());
        }
    }
}

BOOST_AUTO_TEST_CASE(sigterm_and_sigint_exit_0_with_an_idle_keep_alive_connection) {
    for (const int sig : {SIGTERM, SIGINT}) {
        BOOST_TEST_CONTEXT("signal " << sig) {
            TempDir dir;
            const auto db = new_store(dir, "store.db");
            const auto key = create_demo_key(db);
            // A grace period far beyond the wait below: only cutting the idle connection
            // lets the server exit in time.
            ServerProcess server(db, {"--shutdown-grace", "60s"});
            HttpClient client(server.port());
            const auto created =
                client.post_json("/api/v1/threads/web", create_body(demo::kSupportBot), key);
            BOOST_TEST_REQUIRE(created.status() == 200u);
            BOOST_TEST(created.header("Connection") != "close");

            server.signal(sig);
            BOOST_TEST(server.wait_exit(10) == 0, server.stderr_text());
            BOOST_TEST(client.closed_by_peer());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
