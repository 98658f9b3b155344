#include "threadsd/store/store.hpp"

namespace threadsd::store {

ReadLease::ReadLease(Store& store, std::unique_ptr<ReadSession> session)
    : store_(&store), session_(std::move(session)) {}

ReadLease::~ReadLease() {
    if (session_) {
        store_->give_back(std::move(session_));
    }
}

Store::Store(std::string path, Durability durability, std::size_t max_queued_writes)
    : path_(std::move(path)),
      writer_(path_, durability, Writer::kCheckpointFrames, max_queued_writes) {}

ReadLease Store::read() {
    const auto epoch = writer_.file_epoch();
    std::vector<std::unique_ptr<ReadSession>> stale;  // closed after the lock is released
    {
        std::lock_guard lock(idle_mutex_);
        while (!idle_.empty()) {
            auto session = std::move(idle_.back());
            idle_.pop_back();
            if (session->file_epoch == epoch) {
                return ReadLease(*this, std::move(session));
            }
            stale.push_back(std::move(session));
        }
    }
    return ReadLease(*this, std::make_unique<ReadSession>(path_, epoch));
}

std::int64_t Store::observe_catalog() {
    std::int64_t generation = 0;
    std::uint64_t epoch = 0;
    {
        auto session = read();
        generation = session->catalog.generation();
        epoch = session->file_epoch;
    }
    // Generations count from 0 again in a file put back or replaced; the epoch in the high
    // bits keeps the combined value rising. 2^40 catalog changes would take 35 years at
    // 1000 a second.
    generation += static_cast<std::int64_t>(epoch << 40);
    catalog_cache_.observe(generation);
    return generation;
}

std::optional<ApiKeyRecord> Store::api_key(const SecretHash& hash, std::int64_t generation) {
    return catalog_cache_.api_key(hash, generation, [&] {
        auto session = read();
        return session->catalog.find_api_key(hash);
    });
}

std::optional<std::string> Store::clerk_organization(const std::string& clerk_organization_id,
                                                     std::int64_t generation) {
    return catalog_cache_.clerk_organization(clerk_organization_id, generation, [&] {
        auto session = read();
        return session->catalog.find_clerk_organization(clerk_organization_id);
    });
}

std::optional<AgentWithPublishedVersion> Store::live_agent(std::string_view organization_id,
                                                           std::string_view agent_id,
                                                           std::int64_t generation) {
    return catalog_cache_.live_agent(organization_id, agent_id, generation, [&] {
        auto session = read();
        return session->catalog.find_live_agent(organization_id, agent_id);
    });
}

AgentDetailsSource Store::agent_details(std::int64_t generation) {
    AgentDetailsSource source;
    source.agent = [this, generation](const std::string& agent_id) {
        return catalog_cache_.agent(agent_id, generation, [&] {
            auto session = read();
            return session->threads.agent_by_id(agent_id);
        });
    };
    source.version = [this, generation](const std::string& version_id) {
        return catalog_cache_.version(version_id, generation, [&] {
            auto session = read();
            return session->threads.version_by_id(version_id);
        });
    };
    return source;
}

void Store::give_back(std::unique_ptr<ReadSession> session) {
    if (session->file_epoch != writer_.file_epoch()) {
        return;  // a connection to a file that is gone; closing it is all that is left
    }
    std::lock_guard lock(idle_mutex_);
    idle_.push_back(std::move(session));
}

}  // namespace threadsd::store
