#include "threadsd/store/store_copy.hpp"

#include <string>

namespace threadsd::store {
namespace {

/// "the source threadsd.db (SQLite schema version 6)".
std::string named_with_version(std::string_view role, TableRows& rows) {
    return std::string(role) + " " + rows.description() + " (" + rows.kind() + " schema version " +
           std::to_string(rows.schema_version()) + ")";
}

/// Reads `cursor` to its end `batch_rows` rows at a time, handing each batch to `write`.
/// The batch's rows are reused from one batch to the next, so memory stays one batch.
template <typename Write>
void in_batches(RowCursor& cursor, std::size_t batch_rows, Write write) {
    std::vector<Row> batch(batch_rows);
    for (;;) {
        std::size_t filled = 0;
        while (filled < batch_rows && cursor.next(batch[filled])) {
            ++filled;
        }
        if (filled == 0) {
            return;
        }
        if (filled < batch_rows) {
            batch.resize(filled);
        }
        write(batch);
        if (filled < batch_rows) {
            return;
        }
    }
}

}  // namespace

void check_schema_versions(TableRows& source, TableRows& destination) {
    if (source.schema_version() == source.current_schema_version() &&
        destination.schema_version() == destination.current_schema_version()) {
        return;
    }
    // Rows are copied as this threadsd's schema has them; any other version would lose or
    // misplace columns, so one line says which store is off and how to line them up.
    throw CopyRefused("cannot copy between different schema versions: " +
                      named_with_version("the source", source) + ", " +
                      named_with_version("the destination", destination) +
                      "; this threadsd copies " + source.kind() + " version " +
                      std::to_string(source.current_schema_version()) +
                      (source.kind() == destination.kind()
                           ? std::string()
                           : " and " + destination.kind() + " version " +
                                 std::to_string(destination.current_schema_version())) +
                      " (run `threadsd migrate` of one release on both)");
}

CopySummary copy_store(TableRows& source, TableRows& destination, const CopyOptions& options) {
    check_schema_versions(source, destination);
    const auto tables = copied_tables();

    // What the destination already holds of the appended tables: an earlier run's rows.
    std::vector<std::int64_t> present(tables.size(), 0);
    bool resuming = false;
    for (std::size_t i = 0; i < tables.size(); ++i) {
        if (tables[i].mode != CopyMode::kAppend) {
            continue;
        }
        present[i] = destination.count(tables[i]);
        if (present[i] > 0 && !options.resume) {
            throw CopyRefused("the destination " + destination.description() + " already holds " +
                              std::to_string(present[i]) + " " + std::string(tables[i].name) +
                              "; copy into a new store, or pass --resume to continue a copy "
                              "that stopped");
        }
        resuming = resuming || present[i] > 0;
    }

    source.begin_snapshot();
    CopySummary summary;
    std::int64_t total = 0;
    for (std::size_t i = 0; i < tables.size(); ++i) {
        summary.tables.push_back({tables[i].name, 0});
        summary.resumed_after += present[i];
        total += source.count(tables[i]) - present[i];
    }
    const auto write_batch = [&](std::size_t i, const std::vector<Row>& batch) {
        summary.tables[i].rows += static_cast<std::int64_t>(batch.size());
        summary.rows += static_cast<std::int64_t>(batch.size());
        if (options.on_progress) {
            options.on_progress({tables[i].name, summary.rows, total});
        }
    };

    // The catalog, all or nothing. A first copy makes the destination's catalog the
    // source's (a demo seed or a key made there before goes: the destination is a copy);
    // a resumed one cannot delete rows its threads point to, so it updates in place.
    destination.begin();
    if (!resuming) {
        // Children before parents. Not std::views::reverse: clang 14 (the fuzz build)
        // cannot compile it against GCC 12's <ranges>.
        for (auto table = tables.rbegin(); table != tables.rend(); ++table) {
            if (table->mode == CopyMode::kCatalog) {
                destination.clear(*table);
            }
        }
    }
    for (std::size_t i = 0; i < tables.size(); ++i) {
        if (tables[i].mode != CopyMode::kCatalog) {
            continue;
        }
        const auto cursor = source.read(tables[i], std::nullopt);
        in_batches(*cursor, options.batch_rows, [&](const std::vector<Row>& batch) {
            destination.upsert(tables[i], batch);
            write_batch(i, batch);
        });
    }
    destination.commit();

    // Appended tables, a committed batch at a time in key order: whatever stops the copy,
    // the destination holds a prefix of each, and a resumed run starts after its last key.
    for (std::size_t i = 0; i < tables.size(); ++i) {
        if (tables[i].mode != CopyMode::kAppend) {
            continue;
        }
        const auto after = destination.last_key(tables[i]);
        const auto cursor = source.read(tables[i], after);
        in_batches(*cursor, options.batch_rows, [&](const std::vector<Row>& batch) {
            destination.begin();
            destination.append(tables[i], batch);
            destination.commit();
            write_batch(i, batch);
        });
    }
    destination.finish();
    return summary;
}

}  // namespace threadsd::store
