#include "threadsd/app/commands.hpp"

#include "threadsd/app/copy_progress.hpp"
#include "threadsd/app/service_manager.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "threadsd/api/expiry_sweeper.hpp"
#include "threadsd/api/thread_api.hpp"
#include "threadsd/auth/authenticator.hpp"
#include "threadsd/http/request_handler.hpp"
#include "threadsd/http/server.hpp"
#include "threadsd/store/agent_import.hpp"
#include "threadsd/store/postgres/open.hpp"
#include "threadsd/store/postgres/table_rows.hpp"
#include "threadsd/store/sqlite/open.hpp"
#include "threadsd/store/sqlite/table_rows.hpp"
#include "threadsd/store/store.hpp"
#include "threadsd/store/store_copy.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/json_writer.hpp"
#include "threadsd/util/log.hpp"
#include "threadsd/util/text.hpp"

namespace threadsd::app {
namespace {

namespace net = boost::asio;

/// A failure to report as one line on stderr with exit code 1.
struct CommandFailure {
    std::string message;  ///< The line.
};

/// The io_context of the command line's store operations; serve() has its own.
net::io_context& command_io() {
    static net::io_context io;
    return io;
}

/// Runs a store operation to completion on the calling thread, on `io` (the command
/// line's, or serve's before it starts its threads).
template <typename T>
T wait_for(net::awaitable<T> operation, net::io_context& io = command_io()) {
    auto result = net::co_spawn(io, std::move(operation), net::use_future);
    io.run();
    io.restart();
    return result.get();
}

/// Opens the store --db names, on `io`, creating and migrating it on first use.
std::unique_ptr<store::Store> open_store(const CommandLine& line,
                                         net::io_context& io = command_io()) {
    store::StoreOptions options;
    options.durability = line.serve.durability;
    options.max_queued_writes = line.serve.max_queued_writes;
    options.seed = line.no_demo                        ? store::DemoSeed::kNever
                   : line.command == Command::kMigrate ? store::DemoSeed::kWhenEmpty
                                                       : store::DemoSeed::kWhenCreated;
    // Named without its password wherever it is shown.
    const bool postgres = store::postgres::is_postgres_uri(line.database);
    const auto name = postgres ? store::postgres::redact_uri(line.database) : line.database;
    try {
        if (postgres) {
            return wait_for(
                store::postgres::open_postgres_store(io.get_executor(), line.database, options),
                io);
        }
        return store::sqlite::open_sqlite_store(line.database, options);
    } catch (const std::exception& error) {
        throw CommandFailure{"cannot open database " + name + ": " + error.what()};
    }
}

void write_optional_time(util::JsonWriter& out, const std::optional<std::int64_t>& unix_ms) {
    if (unix_ms) {
        out.string(util::format_rfc3339_millis(*unix_ms));
    } else {
        out.null();
    }
}

int print_agents(store::Store& store) {
    util::JsonWriter out;
    out.begin_array();
    for (const auto& listing : wait_for(store.list_agents())) {
        out.begin_object();
        out.key("id").string(listing.agent.id);
        out.key("organizationId").string(listing.agent.organization_id);
        out.key("name").string(listing.agent.name);
        out.key("description");
        listing.agent.description ? out.string(*listing.agent.description) : out.null();
        out.key("agentType").string(listing.agent.agent_type);
        out.key("deleted").boolean(listing.agent.deleted);
        out.key("publishedVersionId");
        listing.published_version_id ? out.string(*listing.published_version_id) : out.null();
        out.end_object();
    }
    out.end_array();
    std::cout << out.str() << '\n';
    return 0;
}

int print_keys(store::Store& store) {
    util::JsonWriter out;
    out.begin_array();
    for (const auto& key : wait_for(store.list_api_keys())) {
        out.begin_object();
        out.key("id").string(key.id);
        out.key("organizationId").string(key.organization_id);
        out.key("name").string(key.name);
        out.key("prefix").string(key.prefix);
        out.key("createdAt").string(util::format_rfc3339_millis(key.created_at));
        out.key("revokedAt");
        write_optional_time(out, key.revoked_at);
        out.key("rateLimit");
        if (key.rate_limit) {
            out.number(*key.rate_limit);
        } else {
            out.null();
        }
        out.end_object();
    }
    out.end_array();
    std::cout << out.str() << '\n';
    return 0;
}

/// `clerk list`: the mappings as a JSON array on stdout.
int print_clerk_mappings(store::Store& store) {
    util::JsonWriter out;
    out.begin_array();
    for (const auto& mapping : wait_for(store.list_clerk_organizations())) {
        out.begin_object();
        out.key("clerkOrganizationId").string(mapping.clerk_organization_id);
        out.key("organizationId").string(mapping.organization_id);
        out.key("createdAt").string(util::format_rfc3339_millis(mapping.created_at));
        out.end_object();
    }
    out.end_array();
    std::cout << out.str() << '\n';
    return 0;
}

int import_agents(store::Store& store, const std::string& path) {
    const auto text = util::read_file(path);
    if (!text) {
        throw CommandFailure{"cannot read " + path};
    }
    auto parsed = store::parse_agent_import(*text);
    if (auto* error = std::get_if<std::string>(&parsed)) {
        throw CommandFailure{path + ": " + *error};
    }
    try {
        const auto summary =
            wait_for(store.import_agents(std::get<std::vector<store::ImportedAgent>>(parsed)));
        std::cout << "imported " << summary.agents << " agents with " << summary.versions
                  << " versions (" << summary.organizations_created << " new organizations)\n";
    } catch (const store::AdminError& error) {
        throw CommandFailure{path + ": " + error.what()};
    }
    return 0;
}

/// Opens SRC or DST of `db copy` as tables of rows: a source read-only and never migrated
/// (a copy changes nothing there), a destination writable.
std::unique_ptr<store::TableRows> open_table_rows(const std::string& database, bool writable) {
    const bool postgres = store::postgres::is_postgres_uri(database);
    try {
        if (postgres) {
            return store::postgres::open_postgres_table_rows(database);
        }
        return store::sqlite::open_sqlite_table_rows(database, writable);
    } catch (const std::exception& error) {
        throw CommandFailure{"cannot open database " +
                             (postgres ? store::postgres::redact_uri(database) : database) + ": " +
                             error.what()};
    }
}

/// A whole number from the environment variable `name`, or `fallback` when unset.
std::size_t environment_count(const char* name, std::size_t fallback) {
    const char* text = std::getenv(name);
    std::size_t value = 0;
    if (text == nullptr ||
        std::from_chars(text, text + std::strlen(text), value).ec != std::errc() || value == 0) {
        return fallback;
    }
    return value;
}

/// `db copy`: every table of --from into --to, with progress on stderr.
int copy_database(const CommandLine& line) {
    auto source = open_table_rows(line.copy_from, false);
    auto destination = open_table_rows(line.copy_to, true);
    if (destination->schema_version() == 0 &&
        source->schema_version() == source->current_schema_version()) {
        // Created as every subcommand creates its store, but never with the demo seed: the
        // copy brings the source's catalog, and the demo's rows would be no part of it.
        CommandLine create = line;
        create.database = line.copy_to;
        create.no_demo = true;
        open_store(create);
    }
    CopyProgressReport report(std::cerr, isatty(STDERR_FILENO) == 1, std::chrono::seconds(5));
    store::CopyOptions options;
    options.resume = line.copy_resume;
    // For the tests only (docs/configuration.md): small batches, and a copy that kills
    // itself after so many rows, as an operator's kill -9 or a crash would stop it.
    options.batch_rows = environment_count("THREADSD_COPY_BATCH_ROWS", options.batch_rows);
    const auto kill_after = environment_count("THREADSD_COPY_KILL_AFTER_ROWS", 0);
    options.on_progress = [&report, kill_after](const store::CopyProgress& progress) {
        if (kill_after != 0 && progress.rows_copied >= static_cast<std::int64_t>(kill_after)) {
            std::raise(SIGKILL);
        }
        report.update(progress);
    };
    try {
        report.finish(store::copy_store(*source, *destination, options));
    } catch (const store::CopyRefused& refused) {
        throw CommandFailure{refused.what()};
    }
    return 0;
}

/// HOST:PORT, with [v6]:PORT for IPv6 literals.
net::ip::tcp::endpoint parse_endpoint(const std::string& text) {
    const auto colon = text.rfind(':');
    std::string host = text.substr(0, colon);
    const std::string port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    boost::system::error_code ec;
    const auto address = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    unsigned port = 0;
    const auto result =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec || result.ec != std::errc() || result.ptr != port_text.data() + port_text.size() ||
        port > 65535) {
        throw CommandFailure{"--listen must be HOST:PORT with an IP address, not '" + text + "'"};
    }
    return {address, static_cast<unsigned short>(port)};
}

/// On a store with no key at all, makes one for the demo organization and says how to use it.
void offer_demo_key(store::Store& store, const std::string& listen, net::io_context& io) {
    if (wait_for(store.has_any_api_key(), io) ||
        !wait_for(store.organization_exists(store::kDemoOrganizationId), io)) {
        return;
    }
    const auto key =
        wait_for(store.create_api_key(store::kDemoOrganizationId, "demo", std::nullopt), io);
    std::cerr << "\nNo API key existed, so one was made for the demo organization (shown once):\n\n"
              << "  " << key.secret << "\n\nTry it:\n\n"
              << "  curl -s -X POST http://" << listen << "/api/v1/threads/web \\\n"
              << "    -H 'X-API-Key: " << key.secret << "' -H 'Content-Type: application/json' \\\n"
              << "    -d '{\"agentId\": \"3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01\", "
                 "\"metadata\": {\"source\": \"quickstart\"}}'\n\n";
}

int serve(const CommandLine& line) {
    // A file-size limit (ulimit -f) must fail the write that crosses it, as a full disk
    // does, and not kill the server with SIGXFSZ.
    std::signal(SIGXFSZ, SIG_IGN);
    const auto endpoint = parse_endpoint(line.serve.listen);
    const unsigned workers = line.serve.workers != 0
                                 ? line.serve.workers
                                 : std::max(1u, std::thread::hardware_concurrency());

    // Destruction runs bottom-up: the server stops, then the writer commits what it
    // holds, and only then does the io_context that its completions post to go away.
    net::io_context io(static_cast<int>(workers));
    // Migrated as it opens; the demo key is offered only once the port is bound, so a
    // failed start prints one line and does not use up the offer.
    auto store = open_store(line, io);
    // A thread's maps may hold what one create body can carry, and no more: that bounds
    // every answer that contains them.
    api::InputLimits input = line.serve.input;
    input.max_maps_bytes = line.serve.http.max_body_bytes;
    // Live streams poll a store that other processes share, for a change whose signal was
    // lost; one process owns a SQLite file, and every change there is its own.
    const std::chrono::milliseconds stream_poll{store->shares_rate_limits() ? 1000 : 0};
    auto feed = std::make_shared<api::ThreadFeed>(*store, io.get_executor(), stream_poll);
    api::ThreadApi thread_api(*store, input, feed);
    api::MessageApi message_api(*store, feed, line.serve.messages);
    api::ExpirySweeper sweeper(*store, message_api, io.get_executor());
    // Key files are read now, so a bad one stops the start with one line.
    std::unique_ptr<auth::BearerAuthenticator> bearer;
    if (line.serve.bearer.enabled()) {
        try {
            bearer = std::make_unique<auth::BearerAuthenticator>(line.serve.bearer);
        } catch (const auth::KeyFileError& error) {
            throw CommandFailure{std::string("Clerk key file ") + error.what()};
        }
    }
    auth::Authenticator authenticator(*store, bearer.get());
    http::RequestHandler handler(http::Router::threads_api(), authenticator, thread_api,
                                 message_api, *store, line.serve.rate_limit);
    std::unique_ptr<http::Server> server;
    try {
        if (const auto inherited = inherited_listening_socket()) {
            // Socket activation: systemd bound the address (threadsd.socket); --listen is
            // not used.
            server = std::make_unique<http::Server>(io, *inherited, handler, line.serve.http,
                                                    line.serve.access_log);
        } else {
            server = std::make_unique<http::Server>(io, endpoint, handler, line.serve.http,
                                                    line.serve.access_log);
        }
    } catch (const boost::system::system_error& error) {
        throw CommandFailure{"cannot listen on " + line.serve.listen + ": " +
                             error.code().message()};
    }
    const auto bound = server->local_endpoint();
    // The bound address, so the curl line is right also for --listen HOST:0. Built by
    // appending: g++ 12 -O3 warns falsely (-Wrestrict) on "[" + std::string.
    std::string address = bound.address().to_string();
    if (bound.address().is_v6()) {
        address.insert(0, 1, '[');
        address.push_back(']');
    }
    address.append(":").append(std::to_string(bound.port()));
    offer_demo_key(*store, address, io);
    handler.attach(*server);
    feed->start();
    sweeper.start();
    server->start();
    util::log_info("listening on http://" + address + " with " + std::to_string(workers) +
                   " workers, database " + store->description());
    notify_ready();
    if (const auto interval = watchdog_interval()) {
        // Fed while the event loop runs and the writer keeps up: a hung disk or loop stops
        // the pings and systemd restarts the service.
        auto healthy = [&store, limit = *interval] { return store->making_progress(limit); };
        net::co_spawn(io, keep_watchdog_fed(*interval, healthy), [](std::exception_ptr error) {
            if (error) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& failure) {
                    util::log_error(std::string("watchdog pings stopped: ") + failure.what());
                }
            }
        });
    }

    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) {
            return;
        }
        util::log_info(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                       ", shutting down");
        notify_stopping();
        sweeper.stop();
        feed->stop();
        server->shutdown(line.serve.shutdown_grace, [&io](bool clean) {
            if (!clean) {
                util::log_info("shutdown grace period over; closing the remaining connections");
            }
            io.stop();
        });
    });

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < workers; ++i) {
        threads.emplace_back([&io] { io.run(); });
    }
    io.run();
    for (auto& thread : threads) {
        thread.join();
    }
    util::log_info("stopped");
    return 0;
}

}  // namespace

int run_command(const CommandLine& line) {
    try {
        switch (line.command) {
            case Command::kHelp:
                std::cout << help_text(line.help);
                return 0;
            case Command::kServe:
                return serve(line);
            case Command::kMigrate: {
                const auto store = open_store(line);
                std::cout << "database " << store->description() << " is at schema version "
                          << store->schema_version() << '\n';
                return 0;
            }
            case Command::kAgentsImport:
                return import_agents(*open_store(line), line.argument);
            case Command::kAgentsList:
                return print_agents(*open_store(line));
            case Command::kKeysCreate: {
                const auto store = open_store(line);
                const auto key = wait_for(
                    store->create_api_key(line.organization, line.key_name, line.key_rate));
                std::cout << key.secret << '\n';
                return 0;
            }
            case Command::kKeysList:
                return print_keys(*open_store(line));
            case Command::kKeysRevoke: {
                const auto store = open_store(line);
                wait_for(store->revoke_api_key(line.argument));
                return 0;
            }
            case Command::kClerkMap: {
                const auto store = open_store(line);
                const bool replaced =
                    wait_for(store->map_clerk_organization(line.argument, line.organization));
                std::cerr << "threadsd: " << line.argument << (replaced ? " now maps" : " maps")
                          << " to organization " << line.organization << '\n';
                return 0;
            }
            case Command::kClerkList:
                return print_clerk_mappings(*open_store(line));
            case Command::kClerkUnmap: {
                const auto store = open_store(line);
                wait_for(store->unmap_clerk_organization(line.argument));
                return 0;
            }
            case Command::kDbCopy:
                return copy_database(line);
        }
    } catch (const CommandFailure& failure) {
        std::cerr << "threadsd: " << failure.message << '\n';
    } catch (const store::AdminError& error) {
        std::cerr << "threadsd: " << error.what() << '\n';
    } catch (const std::exception& error) {
        std::cerr << "threadsd: " << error.what() << '\n';
    }
    return 1;
}

}  // namespace threadsd::app
