#include "threadsd/store/store.hpp"

namespace threadsd::store {

ReadLease::ReadLease(Store& store, std::unique_ptr<ReadSession> session)
    : store_(&store), session_(std::move(session)) {}

ReadLease::~ReadLease() {
    if (session_) {
        store_->give_back(std::move(session_));
    }
}

Store::Store(std::string path, Durability durability)
    : path_(std::move(path)), writer_(path_, durability) {}

ReadLease Store::read() {
    {
        std::lock_guard lock(idle_mutex_);
        if (!idle_.empty()) {
            auto session = std::move(idle_.back());
            idle_.pop_back();
            return ReadLease(*this, std::move(session));
        }
    }
    return ReadLease(*this, std::make_unique<ReadSession>(path_));
}

void Store::give_back(std::unique_ptr<ReadSession> session) {
    std::lock_guard lock(idle_mutex_);
    idle_.push_back(std::move(session));
}

}  // namespace threadsd::store
