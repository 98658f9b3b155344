// threadsd-bench-preload: fills a migrated, seeded store with N web threads of the demo
// agents, as the server would have made them, in large transactions. Ids are UUIDv7 in
// the past, so every thread the benchmark creates afterwards is newer.

#include <algorithm>
#include <charconv>
#include <iostream>
#include <string>
#include <vector>

#include "threadsd/store/sqlite/admin.hpp"
#include "threadsd/store/sqlite/catalog.hpp"
#include "threadsd/store/sqlite/connection.hpp"
#include "threadsd/store/sqlite/thread_writes.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/uuid.hpp"

namespace {

using namespace threadsd;

constexpr std::size_t kRowsPerTransaction = 50'000;

int usage() {
    std::cerr << "usage: threadsd-bench-preload --db PATH --count N\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string db;
    std::size_t count = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--db") {
            db = value;
        } else if (flag == "--count") {
            std::from_chars(value.data(), value.data() + value.size(), count);
        } else {
            return usage();
        }
    }
    if (db.empty() || count == 0) {
        return usage();
    }
    try {
        store::sqlite::Connection connection(db, store::sqlite::OpenMode::kReadWrite);
        // A bulk load: the benchmark measures the server, not this tool's fsyncs.
        connection.exec("PRAGMA synchronous = OFF");
        std::vector<store::AgentWithPublishedVersion> agents;
        {
            store::sqlite::Catalog catalog(connection);
            for (const char* id :
                 {"3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01", "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e02",
                  "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e03"}) {
                auto agent = catalog.find_live_agent(store::kDemoOrganizationId, id);
                if (!agent || !agent->published) {
                    std::cerr << "threadsd-bench-preload: the store lacks the demo agents\n";
                    return 1;
                }
                agents.push_back(std::move(*agent));
            }
        }
        store::sqlite::ThreadWrites writes(connection);
        util::Uuid7Generator ids;
        // One thread per millisecond, ending a day ago.
        const std::int64_t start =
            util::unix_millis_now() - 86'400'000 - static_cast<std::int64_t>(count);
        std::size_t done = 0;
        while (done < count) {
            store::sqlite::Transaction transaction(connection);
            const std::size_t end = std::min(count, done + kRowsPerTransaction);
            for (; done < end; ++done) {
                store::ThreadRecord thread;
                thread.id = ids.next(start + static_cast<std::int64_t>(done));
                thread.organization_id = store::kDemoOrganizationId;
                thread.created_at = util::uuid7_unix_millis(thread.id);
                thread.updated_at = thread.created_at;
                thread.metadata_json =
                    "{\"source\":\"preload\",\"n\":\"" + std::to_string(done) + "\"}";
                thread.variables_json = "{\"firstName\":\"Ada\"}";
                const auto& agent = agents[done % agents.size()];
                thread.agent = agent.agent;
                thread.agent_version = *agent.published;
                writes.insert(thread);
            }
            transaction.commit();
        }
        connection.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        std::cout << "preloaded " << count << " threads\n";
    } catch (const std::exception& error) {
        std::cerr << "threadsd-bench-preload: " << error.what() << '\n';
        return 1;
    }
    return 0;
}
