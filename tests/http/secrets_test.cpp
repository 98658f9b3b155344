// API keys as secrets: the server never writes a key into its log, an error body or the
// database (only its SHA-256 and a short visible prefix), and `keys list` shows the prefix
// so an operator can tell keys apart, never the key.

#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "support/error_envelope.hpp"
#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_store.hpp"
#include "threadsd/auth/api_key.hpp"

namespace threadsd::test {
namespace {

/// Lower-case hex of `bytes`.
std::string to_hex(const store::SecretHash& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (const auto byte : bytes) {
        out += kDigits[byte >> 4];
        out += kDigits[byte & 0xf];
    }
    return out;
}

/// Every byte of the store's files (database, WAL), as one string to search; on
/// PostgreSQL, every row of the key table as text.
std::string store_bytes(const std::string& db) {
    std::string bytes;
    if (on_postgres()) {
        for (const auto& row : StoreRows(db).rows("SELECT k::text FROM api_keys k")) {
            bytes += row.at(0).value_or("") + "\n";
        }
        return bytes;
    }
    for (const auto* suffix : {"", "-wal"}) {
        if (std::filesystem::exists(db + suffix)) {
            bytes += read_file(db + suffix);
        }
    }
    return bytes;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(secrets_http)

BOOST_AUTO_TEST_CASE(keys_appear_in_no_log_error_body_or_database_file) {
    TempDir dir;
    const auto db = new_store(dir, "store.db");
    const auto key = create_demo_key(db);
    const auto revoked = create_demo_key(db);
    run_ok({"keys", "revoke", key_id_of(db, revoked), "--db", db});
    const std::string unknown = "thd_" + std::string(43, 'Q');
    ServerProcess server(db);
    HttpClient client(server.port());

    BOOST_TEST(client.post_json(kCreatePath, create_body(demo::kSupportBot), key).status() == 200u);
    std::vector<HttpResult> refusals;
    for (const auto& presented : {revoked, unknown, key + "x", " " + key.substr(0, 20)}) {
        refusals.push_back(
            client.post_json(kCreatePath, create_body(demo::kSupportBot), presented));
    }
    // A request that fails for another reason, with a key, and one that is not HTTP.
    refusals.push_back(client.post_json(kCreatePath, "{not json", key));

    for (const auto& refusal : refusals) {
        BOOST_TEST(refusal.status() >= 400u);
        for (const auto& secret : {key, revoked, unknown}) {
            BOOST_TEST(refusal.message.body().find(secret.substr(4)) == std::string::npos,
                       "an error body shows a key: " << refusal.message.body());
        }
    }
    server.signal(SIGTERM);
    BOOST_TEST(server.wait_exit(20) == 0);
    const auto log = server.stderr_text();
    for (const auto& secret : {key, revoked, unknown}) {
        // Not even the random part after the visible prefix.
        BOOST_TEST(log.find(secret.substr(12)) == std::string::npos, "the log shows a key");
    }

    // The store holds each key's SHA-256 and prefix, and nothing more of it.
    const auto bytes = store_bytes(db);
    for (const auto& secret : {key, revoked}) {
        BOOST_TEST(bytes.find(secret.substr(12)) == std::string::npos,
                   "the database file holds a key");
    }
    const std::string hex_of_hash =
        on_postgres() ? "encode(secret_hash, 'hex')" : "lower(hex(secret_hash))";
    BOOST_TEST(StoreRows(db).scalar("SELECT count(*) FROM api_keys WHERE " + hex_of_hash + " = '" +
                                    to_hex(store::hash_api_key(key)) + "'") == "1");

    // keys list: the prefix tells the keys apart; the key itself is never there.
    const auto listing = run_ok({"keys", "list", "--db", db});
    for (const auto& secret : {key, revoked}) {
        BOOST_TEST(listing.find(secret) == std::string::npos);
        BOOST_TEST(listing.find("\"" + secret.substr(0, 12) + "\"") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test
