#pragma once
// How a store operation fails for reasons of the store's own, whatever the store.

#include <stdexcept>

namespace threadsd::store {

/// Thrown by a write when too many writes are already waiting: the request is
/// refused (503) rather than queued without bound.
class WriteQueueFull : public std::runtime_error {
  public:
    WriteQueueFull() : std::runtime_error("write queue full") {}
};

/// Thrown to the owners of a batch that the store could not commit (disk full, I/O error,
/// locked or vanished file). The store has logged the cause; clients get a plain 500.
class StoreFailure : public std::runtime_error {
  public:
    StoreFailure() : std::runtime_error("the store could not commit") {}
};

/// Thrown when the store cannot be reached (a database server down or restarting): the
/// request is refused (503 with Retry-After) and may be retried; nothing was changed.
class StoreUnavailable : public std::runtime_error {
  public:
    StoreUnavailable() : std::runtime_error("the store is unavailable") {}
};

/// Thrown, before anything was changed, when the catalog (keys, agents, Clerk mappings)
/// moved past the generation a request's credentials were checked at: a store that answers
/// from a cache found out with the request's own statement. The caller checks the
/// credentials again, now at the newer generation, and retries.
class CatalogChanged : public std::runtime_error {
  public:
    CatalogChanged() : std::runtime_error("the catalog changed during the request") {}
};

}  // namespace threadsd::store
