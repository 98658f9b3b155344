// docs/openapi.yaml held to what the real binary does. The document is read from the
// server's own GET /openapi.json; then, for every operation and every response status it
// documents, a real request produces that status, and the response must be documented for
// that operation, carry the documented required headers (with values their schemas allow)
// and have a body that the documented schema accepts. A table of those cases is compared
// with the document, so an endpoint or status documented without a case (or a case the
// document does not list) fails.

#include <sqlite3.h>

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/json_schema.hpp"
#include "support/jwt_maker.hpp"
#include "support/process.hpp"
#include "support/sqlite_file.hpp"
#include "support/suite_state.hpp"
#include "support/test_store.hpp"

namespace threadsd::test::openapi_cases {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using boost::beast::http::verb;

/// A well-formed thread id that names no thread.
constexpr const char* kUnknownThread = "6f1c0000-0000-7000-8000-000000000001";
/// The Clerk instance the suite's tokens come from.
constexpr const char* kClerkIssuer = "https://clerk.openapi.test";
/// The Clerk organization mapped to the demo organization.
constexpr const char* kClerkOrganization = "org_2openapi";

/// One operation of the document, and a request target that reaches it.
struct Operation {
    verb method;         ///< Its method.
    std::string path;    ///< Its path template, as a key of the document's `paths`.
    std::string target;  ///< A target that reaches it; a threadId names no thread.
    bool api = false;    ///< Under /api/: needs credentials and is rate limited.
};

/// Every operation threadsd serves, in the document's order.
const std::vector<Operation>& operations() {
    static const std::string thread = std::string("/api/v1/threads/") + kUnknownThread;
    static const std::vector<Operation> all = {
        {verb::post, "/api/v1/threads/web", "/api/v1/threads/web", true},
        {verb::get, "/api/v1/threads", "/api/v1/threads", true},
        {verb::get, "/api/v1/threads/{threadId}", thread, true},
        {verb::patch, "/api/v1/threads/{threadId}", thread, true},
        {verb::patch, "/api/v1/threads/{threadId}/close", thread + "/close", true},
        {verb::post, "/api/v1/threads/{threadId}/messages", thread + "/messages", true},
        {verb::get, "/api/v1/threads/{threadId}/messages", thread + "/messages", true},
        {verb::get, "/api/v1/threads/{threadId}/stream", thread + "/stream", true},
        {verb::get, "/healthz", "/healthz"},
        {verb::get, "/readyz", "/readyz"},
        {verb::get, "/metrics", "/metrics"},
        {verb::get, "/openapi.json", "/openapi.json"},
    };
    return all;
}

/// The operation `method path` (fails the test when there is none).
const Operation& operation(verb method, const std::string& path) {
    for (const auto& candidate : operations()) {
        if (candidate.method == method && candidate.path == path) {
            return candidate;
        }
    }
    BOOST_FAIL("no operation " << boost::beast::http::to_string(method) << " " << path);
    throw;  // not reached: BOOST_FAIL throws
}

/// "GET /healthz".
std::string name_of(const Operation& op) {
    return std::string(boost::beast::http::to_string(op.method)) + " " + op.path;
}

/// A request to send.
struct Request {
    verb method;                      ///< Method.
    std::string target;               ///< Path and query.
    std::optional<std::string> body;  ///< Body, if any.
    Headers headers;                  ///< Extra headers.
};

/// The suite's signing key for Clerk session tokens (made once: RSA generation is slow).
const TestRsaKey& signing_key() {
    static const TestRsaKey key;
    return key;
}

/// A Clerk session token for the demo organization, valid for a minute from now.
std::string bearer_token() {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    const json::object claims{{"iss", kClerkIssuer}, {"sub", "user_2openapi"},
                              {"iat", now - 5},      {"nbf", now - 5},
                              {"exp", now + 60},     {"o", {{"id", kClerkOrganization}}}};
    return signed_token(signing_key(), {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "ins_1"}},
                        claims);
}

/// A server on its own store with a demo key.
struct KeyedServer {
    /// Makes the store and its key, and starts `serve` with `options`.
    KeyedServer(const std::string& db_path, const std::vector<std::string>& options)
        : db(db_path), key(create_demo_key(db)) {
        server.emplace(db, options);
    }
    std::string db;                       ///< Its store.
    std::string key;                      ///< A demo API key.
    std::optional<ServerProcess> server;  ///< The server.
    /// Its port.
    unsigned short port() const { return server->port(); }
};

/// The servers the cases use, each started when a case first needs it, and the document.
class OpenApiState {
  public:
    /// The main server, which also accepts Clerk session tokens.
    OpenApiState() {
        const std::string db = new_store(dir_, "main.db");
        create_demo_key(db);  // makes the store
        run_ok({"clerk", "map", kClerkOrganization, "--org", demo::kOrganization, "--db", db});
        write_file(dir_.path() / "jwks.json", jwks_document({{"ins_1", &signing_key()}}));
        main_ = std::make_unique<KeyedServer>(
            db, std::vector<std::string>{"--clerk-jwks", dir_.file("jwks.json"), "--clerk-issuer",
                                         kClerkIssuer});
    }

    /// The main server.
    KeyedServer& main() { return *main_; }

    /// A server whose keys may make one request per second.
    KeyedServer& rate_limited() {
        if (!rate_limited_) {
            rate_limited_ = std::make_unique<KeyedServer>(
                new_store(dir_, "rate.db"), std::vector<std::string>{"--rate-limit", "1"});
        }
        return *rate_limited_;
    }

    /// A server at its limit of one connection, which this state holds open.
    KeyedServer& crowded() {
        if (!crowded_) {
            // The held connection must not be closed as idle while the suite runs.
            crowded_ = std::make_unique<KeyedServer>(
                new_store(dir_, "crowded.db"),
                std::vector<std::string>{"--max-connections", "1", "--idle-timeout", "3600s"});
            holder_ = std::make_unique<HttpClient>(crowded_->port());
            // Answered, so the server has counted it before any other connection comes.
            BOOST_TEST_REQUIRE(holder_->request(verb::get, "/healthz").status() == 200u);
        }
        return *crowded_;
    }

    /// A server whose store file was replaced by one it cannot read its catalog from: every
    /// request under /api/ is answered 500.
    KeyedServer& broken() {
        if (!broken_) {
            broken_ = std::make_unique<KeyedServer>(new_store(dir_, "broken.db"),
                                                    std::vector<std::string>{});
            break_store(*broken_);
        }
        return *broken_;
    }

    /// The document the main server serves, and a checker over it.
    const JsonSchemaChecker& checker() {
        if (!checker_) {
            HttpClient client(main_->port());
            const auto response = client.request(verb::get, "/openapi.json");
            BOOST_REQUIRE_MESSAGE(response.status() == 200u, "GET /openapi.json answered "
                                                                 << response.status() << ": "
                                                                 << response.message.body());
            checker_.emplace(response.json());
        }
        return *checker_;
    }

    /// A new open thread of the demo organization on the main server.
    std::string new_thread() {
        HttpClient client(main_->port());
        const auto response =
            client.post_json(kCreatePath, create_body(demo::kSupportBot), main_->key);
        BOOST_REQUIRE_MESSAGE(response.status() == 200u, response.message.body());
        return std::string(response.json().at("thread").at("id").as_string());
    }

    /// A closed thread on the main server.
    std::string closed_thread() {
        const std::string id = new_thread();
        HttpClient client(main_->port());
        const auto response = client.request(verb::patch, "/api/v1/threads/" + id + "/close",
                                             std::nullopt, {{"X-API-Key", main_->key}});
        BOOST_REQUIRE_MESSAGE(response.status() == 200u, response.message.body());
        return id;
    }

    /// Posts `body` to the messages of `thread_id` on the main server; the new message's id.
    std::string post_message(const std::string& thread_id, const std::string& body) {
        HttpClient client(main_->port());
        const auto response =
            client.post_json("/api/v1/threads/" + thread_id + "/messages", body, main_->key);
        BOOST_REQUIRE_MESSAGE(response.status() == 200u, response.message.body());
        return std::string(response.json().at("messageId").as_string());
    }

  private:
    /// Takes the catalog_generation table away from the store. On SQLite a copy without it
    /// replaces the file, and the next write follows the new file; from then on, every read
    /// session is opened on it. On PostgreSQL the table is dropped. Either way the
    /// credential check, which reads that table first, fails (a 500).
    static void break_store(KeyedServer& server) {
        if (on_postgres()) {
            StoreRows(server.db).rows("DROP TABLE catalog_generation CASCADE");
            return;
        }
        const std::string copy = server.db + ".copy";
        {
            SqliteFile file(server.db);
            BOOST_TEST_REQUIRE(sqlite3_exec(file.handle(), ("VACUUM INTO '" + copy + "'").c_str(),
                                            nullptr, nullptr, nullptr) == SQLITE_OK);
        }
        {
            SqliteFile file(copy, SqliteAccess::kReadWrite);
            BOOST_TEST_REQUIRE(sqlite3_exec(file.handle(), "DROP TABLE catalog_generation", nullptr,
                                            nullptr, nullptr) == SQLITE_OK);
        }
        fs::rename(copy, server.db);
        // The write that notices the new file; its own answer does not matter here.
        HttpClient client(server.port());
        client.post_json(kCreatePath, create_body(demo::kSupportBot), server.key);
    }

    TempDir dir_;                                ///< Every store and key file.
    std::unique_ptr<KeyedServer> main_;          ///< See main().
    std::unique_ptr<KeyedServer> rate_limited_;  ///< See rate_limited().
    std::unique_ptr<KeyedServer> crowded_;       ///< See crowded().
    std::unique_ptr<HttpClient> holder_;         ///< The connection crowded() holds open.
    std::unique_ptr<KeyedServer> broken_;        ///< See broken().
    std::optional<JsonSchemaChecker> checker_;   ///< See checker().
};

/// The suite fixture: one state for every test.
using OpenApiSuite = SuiteState<OpenApiState>;

/// The document's description of `op` (fails the test when it has none).
const json::object& documented_operation(const JsonSchemaChecker& checker, const Operation& op) {
    std::string method(boost::beast::http::to_string(op.method));
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto* path = checker.document().at("paths").as_object().if_contains(op.path);
    BOOST_REQUIRE_MESSAGE(path != nullptr, "the document has no path " << op.path);
    const auto* described = path->as_object().if_contains(method);
    BOOST_REQUIRE_MESSAGE(described != nullptr, "the document has no " << name_of(op));
    return described->as_object();
}

/// The HTTP methods the document gives `path`, in upper case, sorted.
std::vector<std::string> documented_methods(const JsonSchemaChecker& checker,
                                            const std::string& path) {
    static const std::set<std::string> kMethods = {"get",     "put",  "post",  "delete",
                                                   "options", "head", "patch", "trace"};
    std::vector<std::string> methods;
    for (const auto& member : checker.document().at("paths").at(path).as_object()) {
        std::string name(member.key());
        if (kMethods.count(name) != 0) {
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            methods.push_back(name);
        }
    }
    std::sort(methods.begin(), methods.end());
    return methods;
}

/// A header's text as JSON for its schema: a number where the schema takes an integer and
/// the text is digits, else the text.
json::value header_value(const std::string& text, const json::value& schema) {
    const auto* type = schema.as_object().if_contains("type");
    const bool digits =
        !text.empty() && text.size() < 18 &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (type != nullptr && *type == json::value("integer") && digits) {
        return std::stoll(text);
    }
    return json::value(text);
}

/// The media type of a Content-Type value: lower case, without parameters.
std::string media_type_of(std::string value) {
    value = value.substr(0, value.find(';'));
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t");
    value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return value;
}

/// Fails unless `response` is documented for `op`: its status, its required headers with
/// values their schemas accept, and a body that the schema of its media type accepts.
void check_documented(const JsonSchemaChecker& checker, const Operation& op,
                      const HttpResult& response) {
    const std::string status = std::to_string(response.status());
    BOOST_TEST_CONTEXT(name_of(op) << " answered " << status << ": " << response.message.body()) {
        const auto& responses = documented_operation(checker, op).at("responses").as_object();
        const auto* documented = responses.if_contains(status);
        BOOST_REQUIRE_MESSAGE(documented != nullptr,
                              "status " << status << " is not documented for " << name_of(op));
        const auto& described = checker.follow(*documented).as_object();

        if (const auto* headers = described.if_contains("headers")) {
            for (const auto& member : headers->as_object()) {
                const std::string name(member.key());
                const auto& header = checker.follow(member.value()).as_object();
                const bool present = response.message.find(name) != response.message.end();
                const auto* required = header.if_contains("required");
                if (required != nullptr && required->as_bool()) {
                    BOOST_TEST(present, "the required header " << name << " is missing");
                }
                if (present) {
                    const auto problems =
                        checker.check(header_value(response.header(name), header.at("schema")),
                                      header.at("schema"));
                    BOOST_TEST(problems.empty(), "header " << name << ": " << response.header(name)
                                                           << "\n"
                                                           << describe(problems));
                }
            }
        }
        if (response.status() == 405u) {
            // Allow lists exactly the methods the document gives the path.
            std::vector<std::string> allowed;
            const std::string allow = response.header("Allow");
            for (std::size_t start = 0; start < allow.size();) {
                const auto comma = allow.find(", ", start);
                allowed.push_back(allow.substr(start, comma - start));
                start = comma == std::string::npos ? allow.size() : comma + 2;
            }
            std::sort(allowed.begin(), allowed.end());
            BOOST_TEST(allowed == documented_methods(checker, op.path), "Allow: " << allow);
        }

        const auto* content = described.if_contains("content");
        if (content == nullptr) {
            BOOST_TEST(response.message.body().empty(), "a body where none is documented");
            return;
        }
        const std::string type = media_type_of(response.header("Content-Type"));
        const auto* media = content->as_object().if_contains(type);
        BOOST_REQUIRE_MESSAGE(media != nullptr, "media type '" << type << "' is not documented");
        const json::value body =
            type == "application/json" ? response.json() : json::value(response.message.body());
        const auto problems = checker.check(body, media->as_object().at("schema"));
        BOOST_TEST(problems.empty(), describe(problems));
    }
}

/// Sends `request` on a new connection to `port`. When the operation accepts it (2xx), a
/// JSON body it was sent must match the documented request schema too.
HttpResult send(OpenApiState& state, unsigned short port, const Operation& op,
                const Request& request) {
    HttpClient client(port);
    auto response = client.request(request.method, request.target, request.body, request.headers);
    const auto& described = documented_operation(state.checker(), op);
    if (response.status() / 100 == 2 && request.body && !request.body->empty() &&
        described.contains("requestBody")) {
        const auto& body = state.checker().follow(described.at("requestBody")).as_object();
        const auto& schema = body.at("content").at("application/json").at("schema");
        const auto problems = state.checker().check(json::parse(*request.body), schema);
        BOOST_TEST(problems.empty(), "the accepted request body " << *request.body
                                                                  << " is not documented:\n"
                                                                  << describe(problems));
    }
    return response;
}

/// Headers with the API key `key` (none when it is empty) and, for a JSON body, its
/// Content-Type.
Headers with_key(const std::string& key, bool json_body = false) {
    Headers headers;
    if (!key.empty()) {
        headers.emplace_back("X-API-Key", key);
    }
    if (json_body) {
        headers.emplace_back("Content-Type", "application/json");
    }
    return headers;
}

/// A request that `op` accepts up to the resource check, with `key` for API operations.
Request plain_request(const Operation& op, const std::string& key) {
    Request request{op.method, op.target, std::nullopt, {}};
    if (op.api) {
        request.headers = with_key(key, op.method != verb::get);
    }
    if (op.path == "/api/v1/threads/web") {
        request.body = create_body(demo::kSupportBot);
    } else if (op.path == "/api/v1/threads/{threadId}") {
        request.body = op.method == verb::patch ? std::optional<std::string>("{}") : std::nullopt;
    } else if (op.path == "/api/v1/threads/{threadId}/messages" && op.method == verb::post) {
        request.body = R"({"message":"hello"})";
    }
    return request;
}

/// One response the document promises, and how to make the server give it.
struct ResponseCase {
    const Operation* op;  ///< The operation the request was meant for.
    unsigned status;      ///< The status it gets.
    std::string what;     ///< Why, for messages.
    std::function<HttpResult(OpenApiState&, const Operation&)> run;  ///< Makes the request.
};

/// The answer of `op` on the main server to `request`.
HttpResult on_main(OpenApiState& state, const Operation& op, const Request& request) {
    return send(state, state.main().port(), op, request);
}

/// The cases that every operation has, whatever it does: protocol errors and overload.
void add_protocol_cases(std::vector<ResponseCase>& cases, const Operation& op) {
    cases.push_back(
        {&op, 400, "a repeated Host field", [](OpenApiState& state, const Operation& o) {
             Request request = plain_request(o, state.main().key);
             request.headers.emplace_back("Host", "127.0.0.1");
             return on_main(state, o, request);
         }});
    cases.push_back(
        {&op, 405, "a method the path does not take", [](OpenApiState& state, const Operation& o) {
             return on_main(state, o,
                            {verb::delete_, o.target, std::nullopt, with_key(state.main().key)});
         }});
    cases.push_back(
        {&op, 413, "a body one byte over 64 KiB", [](OpenApiState& state, const Operation& o) {
             Request request = plain_request(o, state.main().key);
             request.headers = o.api ? with_key(state.main().key, true)
                                     : Headers{{"Content-Type", "application/json"}};
             request.body = std::string(64 * kKiB + 1, ' ');
             return on_main(state, o, request);
         }});
    cases.push_back({&op, 415, "a text/plain body", [](OpenApiState& state, const Operation& o) {
                         Request request = plain_request(o, state.main().key);
                         request.headers = o.api ? with_key(state.main().key) : Headers{};
                         request.headers.emplace_back("Content-Type", "text/plain");
                         request.body = "{}";
                         return on_main(state, o, request);
                     }});
    cases.push_back({&op, 431, "headers over 16 KiB", [](OpenApiState& state, const Operation& o) {
                         Request request = plain_request(o, state.main().key);
                         request.headers.emplace_back("X-Padding", std::string(17 * kKiB, 'p'));
                         return on_main(state, o, request);
                     }});
    cases.push_back({&op, 503, "a connection over --max-connections",
                     [](OpenApiState& state, const Operation& o) {
                         auto& crowded = state.crowded();
                         return send(state, crowded.port(), o, plain_request(o, crowded.key));
                     }});
    if (!op.api) {
        return;
    }
    cases.push_back({&op, 401, "no credentials", [](OpenApiState& state, const Operation& o) {
                         return on_main(state, o, plain_request(o, ""));
                     }});
    cases.push_back(
        {&op, 429, "a key over --rate-limit 1", [](OpenApiState& state, const Operation& o) {
             auto& limited = state.rate_limited();
             // The bucket holds one request a second: back-to-back requests reach
             // the limit at once, unless the machine stalls a whole second.
             for (int attempt = 0; attempt < 50; ++attempt) {
                 auto response = send(state, limited.port(), o, plain_request(o, limited.key));
                 if (response.status() == 429u) {
                     return response;
                 }
                 check_documented(state.checker(), o, response);
             }
             BOOST_FAIL("50 requests in a row never met the rate limit");
             throw;  // not reached
         }});
    cases.push_back({&op, 500, "a store the server cannot read its catalog from",
                     [](OpenApiState& state, const Operation& o) {
                         auto& broken = state.broken();
                         return send(state, broken.port(), o, plain_request(o, broken.key));
                     }});
}

/// A case of `op` on the main server: `request` made from the state.
void add_main_case(std::vector<ResponseCase>& cases, verb method, const std::string& path,
                   unsigned status, std::string what,
                   std::function<Request(OpenApiState&)> request) {
    cases.push_back({&operation(method, path), status, std::move(what),
                     [request](OpenApiState& state, const Operation& o) {
                         return on_main(state, o, request(state));
                     }});
}

/// The cases of the thread endpoints' own behaviour.
void add_thread_cases(std::vector<ResponseCase>& cases) {
    const std::string create = "/api/v1/threads/web";
    const auto post = [](std::string body) {
        return [body](OpenApiState& state) {
            return Request{verb::post, kCreatePath, body, with_key(state.main().key, true)};
        };
    };
    add_main_case(
        cases, verb::post, create, 200, "metadata and variables",
        post(create_body(demo::kSupportBot,
                         R"("metadata":{"customerId":"c-42"},"variables":{"firstName":"Ada"})")));
    add_main_case(cases, verb::post, create, 200, "an agent with null description and settings",
                  post(create_body(demo::kVoiceAgent)));
    add_main_case(cases, verb::post, create, 200, "a Clerk session token", [](OpenApiState&) {
        return Request{
            verb::post,
            kCreatePath,
            create_body(demo::kSupportBot),
            {{"Authorization", "Bearer " + bearer_token()}, {"Content-Type", "application/json"}}};
    });
    add_main_case(cases, verb::post, create, 400, "agentId that is not a UUID",
                  post(create_body("3f2a9c1e")));
    add_main_case(cases, verb::post, create, 400, "a value that is not a string",
                  post(create_body(demo::kSupportBot, R"("metadata":{"a":1})")));
    add_main_case(
        cases, verb::post, create, 401, "a bearer token that is not a JWT", [](OpenApiState&) {
            return Request{
                verb::post,
                kCreatePath,
                create_body(demo::kSupportBot),
                {{"Authorization", "Bearer not-a-token"}, {"Content-Type", "application/json"}}};
        });
    add_main_case(cases, verb::post, create, 404, "an agent of no organization",
                  post(create_body("3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5eff")));
    add_main_case(cases, verb::post, create, 409, "an agent with no published version",
                  post(create_body(demo::kDraftAgent)));

    const std::string list = "/api/v1/threads";
    const auto get_list = [](std::string query) {
        return [query](OpenApiState& state) {
            state.new_thread();
            state.new_thread();  // so that a page of one has a next one
            return Request{verb::get, "/api/v1/threads?" + query, std::nullopt,
                           with_key(state.main().key)};
        };
    };
    add_main_case(cases, verb::get, list, 200, "a page of one with a next cursor",
                  get_list("limit=1"));
    add_main_case(
        cases, verb::get, list, 200, "every filter",
        get_list(std::string("limit=100&agentId=") + demo::kSupportBot +
                 "&isActive=true&cursor=ffffffff-ffff-7fff-bfff-ffffffffffff"
                 "&createdAfter=2020-01-01T00:00:00Z&createdBefore=2999-01-01T00:00:00%2B01:00"
                 "&toPhoneNumber=%2B1555&closedReason=ENDED"));
    add_main_case(cases, verb::get, list, 400, "limit=0", get_list("limit=0"));
    add_main_case(cases, verb::get, list, 400, "an unknown parameter", get_list("colour=red"));

    const std::string one = "/api/v1/threads/{threadId}";
    const auto at = [](verb method, std::function<std::string(OpenApiState&)> id,
                       std::optional<std::string> body = std::nullopt, std::string suffix = "") {
        return [=](OpenApiState& state) {
            return Request{method, "/api/v1/threads/" + id(state) + suffix, body,
                           with_key(state.main().key, body.has_value())};
        };
    };
    const auto fresh = [](OpenApiState& state) { return state.new_thread(); };
    const auto closed = [](OpenApiState& state) { return state.closed_thread(); };
    const auto unknown = [](OpenApiState&) { return std::string(kUnknownThread); };
    const auto not_uuid = [](OpenApiState&) { return std::string("not-a-uuid"); };
    add_main_case(cases, verb::get, one, 200, "an open thread", at(verb::get, fresh));
    add_main_case(cases, verb::get, one, 200, "a closed thread", at(verb::get, closed));
    add_main_case(cases, verb::get, one, 400, "a threadId that is not a UUID",
                  at(verb::get, not_uuid));
    add_main_case(cases, verb::get, one, 404, "a thread that does not exist",
                  at(verb::get, unknown));

    const std::string patch_body = R"({"metadata":{"plan":"pro","gone":null},"variables":null})";
    add_main_case(cases, verb::patch, one, 200, "a merge patch",
                  at(verb::patch, fresh, patch_body));
    add_main_case(cases, verb::patch, one, 400, "a value that is a number",
                  at(verb::patch, fresh, std::string(R"({"metadata":{"a":1}})")));
    add_main_case(cases, verb::patch, one, 400, "an empty body",
                  at(verb::patch, fresh, std::string()));
    add_main_case(cases, verb::patch, one, 404, "a thread that does not exist",
                  at(verb::patch, unknown, patch_body));
    add_main_case(cases, verb::patch, one, 415, "application/merge-patch+json",
                  [](OpenApiState& state) {
                      return Request{verb::patch,
                                     "/api/v1/threads/" + state.new_thread(),
                                     "{}",
                                     {{"X-API-Key", state.main().key},
                                      {"Content-Type", "application/merge-patch+json"}}};
                  });

    const std::string close = "/api/v1/threads/{threadId}/close";
    add_main_case(cases, verb::patch, close, 200, "a reason",
                  at(verb::patch, fresh, std::string(R"({"reason":"RESOLVED"})"), "/close"));
    add_main_case(cases, verb::patch, close, 200, "no body",
                  at(verb::patch, fresh, std::nullopt, "/close"));
    add_main_case(cases, verb::patch, close, 400, "an empty reason",
                  at(verb::patch, fresh, std::string(R"({"reason":""})"), "/close"));
    add_main_case(cases, verb::patch, close, 404, "a thread that does not exist",
                  at(verb::patch, unknown, std::nullopt, "/close"));
    add_main_case(cases, verb::patch, close, 409, "a closed thread",
                  at(verb::patch, closed, std::nullopt, "/close"));
}

/// The cases of the messages endpoints and the stream: real answers, pages and events.
void add_message_cases(std::vector<ResponseCase>& cases) {
    const std::string messages = "/api/v1/threads/{threadId}/messages";
    const auto post_to = [](std::function<std::string(OpenApiState&)> id, std::string body) {
        return [=](OpenApiState& state) {
            return Request{verb::post, "/api/v1/threads/" + id(state) + "/messages", body,
                           with_key(state.main().key, true)};
        };
    };
    const auto fresh = [](OpenApiState& state) { return state.new_thread(); };
    const auto closed = [](OpenApiState& state) { return state.closed_thread(); };
    const auto unknown = [](OpenApiState&) { return std::string(kUnknownThread); };
    const auto not_uuid = [](OpenApiState&) { return std::string("not-a-uuid"); };
    add_main_case(cases, verb::post, messages, 200, "an inbound message",
                  post_to(fresh, R"({"message":"Where is my order?"})"));
    add_main_case(cases, verb::post, messages, 200, "a reply",
                  post_to(fresh, R"({"message":"It ships today.","direction":"OUTBOUND"})"));
    add_main_case(
        cases, verb::post, messages, 200, "direction null and an unknown member",
        post_to(fresh, R"({"message":"\u0000 and \ud83d\ude00","direction":null,"x":1})"));
    add_main_case(cases, verb::post, messages, 400, "an empty message",
                  post_to(fresh, R"({"message":""})"));
    add_main_case(cases, verb::post, messages, 400, "a threadId that is not a UUID",
                  post_to(not_uuid, R"({"message":"x"})"));
    add_main_case(cases, verb::post, messages, 404, "a thread that does not exist",
                  post_to(unknown, R"({"message":"x"})"));
    add_main_case(cases, verb::post, messages, 409, "a closed thread",
                  post_to(closed, R"({"message":"x"})"));

    // A thread with a question and two replies; `query` may name the first reply as {cursor}.
    const auto page = [](std::string query) {
        return [query](OpenApiState& state) {
            const std::string id = state.new_thread();
            state.post_message(id, R"({"message":"a question"})");
            const std::string reply =
                state.post_message(id, R"({"message":"an answer","direction":"OUTBOUND"})");
            state.post_message(id, R"({"message":"another","direction":"OUTBOUND"})");
            std::string target = "/api/v1/threads/" + id + "/messages" + query;
            if (const auto at = target.find("{cursor}"); at != std::string::npos) {
                target.replace(at, 8, reply);
            }
            return Request{verb::get, target, std::nullopt, with_key(state.main().key)};
        };
    };
    add_main_case(cases, verb::get, messages, 200, "every message, both directions", page(""));
    add_main_case(cases, verb::get, messages, 200, "a page of one with a next cursor",
                  page("?limit=1"));
    add_main_case(cases, verb::get, messages, 200, "every filter and a cursor",
                  page("?limit=100&direction=OUTBOUND&status=SENT&cursor={cursor}"));
    add_main_case(cases, verb::get, messages, 200, "a status no message has",
                  page("?status=DELIVERED"));
    add_main_case(cases, verb::get, messages, 200, "a closed thread", [](OpenApiState& state) {
        return Request{verb::get, "/api/v1/threads/" + state.closed_thread() + "/messages",
                       std::nullopt, with_key(state.main().key)};
    });
    add_main_case(cases, verb::get, messages, 400, "limit=0", page("?limit=0"));
    add_main_case(cases, verb::get, messages, 400, "a cursor that names no message",
                  page(std::string("?cursor=") + kUnknownThread));
    add_main_case(cases, verb::get, messages, 404, "a thread that does not exist",
                  [](OpenApiState& state) {
                      return Request{verb::get,
                                     std::string("/api/v1/threads/") + kUnknownThread + "/messages",
                                     std::nullopt, with_key(state.main().key)};
                  });

    const std::string stream = "/api/v1/threads/{threadId}/stream";
    const auto stream_of = [](std::function<std::string(OpenApiState&)> id,
                              std::function<std::string(OpenApiState&)> last_event_id) {
        return [=](OpenApiState& state) {
            Request request{verb::get, "/api/v1/threads/" + id(state) + "/stream", std::nullopt,
                            with_key(state.main().key)};
            if (const auto last = last_event_id(state); !last.empty()) {
                request.headers.emplace_back("Last-Event-ID", last);
            }
            return request;
        };
    };
    const auto none = [](OpenApiState&) { return std::string(); };
    // A stream of a closed thread ends by itself, so its whole body can be read and checked:
    // the reply after Last-Event-ID (an inbound message), then `closed` with the thread.
    cases.push_back(
        {&operation(verb::get, stream), 200, "a closed thread after Last-Event-ID",
         [](OpenApiState& state, const Operation& o) {
             const std::string id = state.new_thread();
             const std::string question = state.post_message(id, R"({"message":"a question"})");
             const std::string reply =
                 state.post_message(id, R"({"message":"an answer","direction":"OUTBOUND"})");
             HttpClient client(state.main().port());
             const auto close = client.request(verb::patch, "/api/v1/threads/" + id + "/close",
                                               std::nullopt, with_key(state.main().key));
             BOOST_TEST_REQUIRE(close.status() == 200u);
             Headers headers = with_key(state.main().key);
             headers.emplace_back("Last-Event-ID", question);
             auto response = on_main(
                 state, o, {verb::get, "/api/v1/threads/" + id + "/stream", std::nullopt, headers});
             // The schema's pattern allows an empty stream; this one has two events.
             const std::string& body = response.message.body();
             BOOST_TEST(body.rfind("id: " + reply + "\nevent: message\ndata: {", 0) == 0u, body);
             BOOST_TEST(body.find("\n\nevent: closed\ndata: {") != std::string::npos, body);
             return response;
         }});
    add_main_case(cases, verb::get, stream, 400, "a Last-Event-ID of another thread's message",
                  stream_of(fresh, [](OpenApiState& state) {
                      return state.post_message(state.new_thread(), R"({"message":"elsewhere"})");
                  }));
    add_main_case(cases, verb::get, stream, 400, "a threadId that is not a UUID",
                  stream_of(not_uuid, none));
    add_main_case(cases, verb::get, stream, 404, "a thread that does not exist",
                  stream_of(unknown, none));
}

/// Every case, in the order of operations().
const std::vector<ResponseCase>& all_cases() {
    static const std::vector<ResponseCase> cases = [] {
        std::vector<ResponseCase> made;
        add_thread_cases(made);
        add_message_cases(made);
        for (const auto* path : {"/healthz", "/readyz", "/metrics", "/openapi.json"}) {
            add_main_case(made, verb::get, path, 200, "a plain GET", [path](OpenApiState&) {
                return Request{verb::get, path, std::nullopt, {{"X-Request-Id", "openapi-case"}}};
            });
        }
        for (const auto& op : operations()) {
            add_protocol_cases(made, op);
        }
        return made;
    }();
    return cases;
}

/// (method, path, status) as text, for comparing sets.
using Triple = std::tuple<std::string, std::string, unsigned>;

/// "GET /healthz 200".
std::string describe_triple(const Triple& triple) {
    return std::get<0>(triple) + " " + std::get<1>(triple) + " " +
           std::to_string(std::get<2>(triple));
}

/// Calls `visit` on every member named `schema` anywhere in `value`, with its location.
void each_schema(const json::value& value, const std::string& where,
                 const std::function<void(const json::value&, const std::string&)>& visit) {
    if (const auto* object = value.if_object()) {
        for (const auto& member : *object) {
            const std::string here = where + "/" + pointer_token(member.key());
            if (member.key() == "schema") {
                visit(member.value(), here);
            } else {
                each_schema(member.value(), here, visit);
            }
        }
    } else if (const auto* array = value.if_array()) {
        for (std::size_t i = 0; i < array->size(); ++i) {
            each_schema((*array)[i], where + "/" + std::to_string(i), visit);
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(openapi, *boost::unit_test::fixture<OpenApiSuite>())

BOOST_AUTO_TEST_CASE(the_served_document_is_openapi_3_1_and_names_no_private_file) {
    const auto& document = OpenApiSuite::get().checker().document();
    BOOST_TEST(document.at("openapi") == json::value("3.1.0"));
    BOOST_TEST(document.at("info").at("title") == json::value("threadsd API"));
    const std::string served = json::serialize(document);
    const std::string source = read_file(repository_file("docs/openapi.yaml"));
    BOOST_TEST_REQUIRE(!source.empty());
    for (const char* name : {"../shared", "CONTRACT.md", "create-web-thread.openapi.md"}) {
        BOOST_TEST(served.find(name) == std::string::npos, name);
        BOOST_TEST(source.find(name) == std::string::npos, name);
    }
    // The request needs no credentials and gets the document's own schema.
    HttpClient client(OpenApiSuite::get().main().port());
    const auto response = client.request(verb::get, "/openapi.json");
    check_documented(OpenApiSuite::get().checker(), operation(verb::get, "/openapi.json"),
                     response);
}

BOOST_AUTO_TEST_CASE(the_checker_understands_every_schema_and_every_example_matches) {
    const auto& checker = OpenApiSuite::get().checker();
    std::size_t schemas = 0;
    for (const auto& member : checker.document().at("components").at("schemas").as_object()) {
        BOOST_CHECK_NO_THROW(checker.audit(member.value()));
        ++schemas;
    }
    each_schema(checker.document().at("paths"), "#/paths",
                [&](const json::value& schema, const std::string& where) {
                    BOOST_TEST_CONTEXT(where) {
                        BOOST_CHECK_NO_THROW(checker.audit(schema));
                    }
                    ++schemas;
                });
    BOOST_TEST(schemas > 20u);
    // The examples of the media types, which readers copy, are valid.
    std::size_t examples = 0;
    const std::function<void(const json::value&, const std::string&)> find_examples =
        [&](const json::value& value, const std::string& where) {
            const auto* object = value.if_object();
            if (object == nullptr) {
                return;
            }
            if (object->contains("schema") && object->contains("example")) {
                const auto problems = checker.check(object->at("example"), object->at("schema"));
                BOOST_TEST(problems.empty(), where << ": " << describe(problems));
                ++examples;
            }
            for (const auto& member : *object) {
                find_examples(member.value(), where + "/" + pointer_token(member.key()));
            }
        };
    find_examples(checker.document().at("paths"), "#/paths");
    BOOST_TEST(examples >= 4u);
}

BOOST_DATA_TEST_CASE(each_case_gets_the_status_and_shape_the_document_gives,
                     boost::unit_test::data::xrange(all_cases().size()), index) {
    const auto& response_case = all_cases().at(index);
    const Operation& op = *response_case.op;
    BOOST_TEST_CONTEXT(name_of(op) << " " << response_case.status << ": " << response_case.what) {
        auto& state = OpenApiSuite::get();
        const auto response = response_case.run(state, op);
        BOOST_TEST(response.status() == response_case.status, response.message.body());
        check_documented(state.checker(), op, response);
        if (response.status() == 200u && response_case.what == "a plain GET") {
            BOOST_TEST(response.header("X-Request-Id") == "openapi-case");
        }
    }
}

BOOST_AUTO_TEST_CASE(every_documented_response_has_a_case_and_every_case_is_documented) {
    const auto& checker = OpenApiSuite::get().checker();
    std::set<Triple> documented;
    for (const auto& path : checker.document().at("paths").as_object()) {
        for (const auto& method : documented_methods(checker, std::string(path.key()))) {
            std::string lower = method;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            for (const auto& status : path.value().at(lower).at("responses").as_object()) {
                documented.emplace(method, std::string(path.key()),
                                   static_cast<unsigned>(std::stoul(std::string(status.key()))));
            }
        }
    }
    std::set<Triple> exercised;
    for (const auto& response_case : all_cases()) {
        exercised.emplace(std::string(boost::beast::http::to_string(response_case.op->method)),
                          response_case.op->path, response_case.status);
    }
    for (const auto& triple : documented) {
        BOOST_TEST(exercised.count(triple) == 1u, describe_triple(triple)
                                                      << " is documented but no case produces it");
    }
    for (const auto& triple : exercised) {
        BOOST_TEST(documented.count(triple) == 1u, describe_triple(triple)
                                                       << " has a case but is not documented");
    }
    BOOST_TEST(documented.size() > 80u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test::openapi_cases
