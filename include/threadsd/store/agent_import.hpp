#pragma once
// `threadsd agents import`: a JSON array of agents with their versions, upserted whole.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "threadsd/store/records.hpp"

namespace threadsd::store {

/// One version in an import file.
struct ImportedVersion {
    AgentVersionRecord record;  ///< Its fields.
    bool published = false;     ///< At most one per agent.
};

/// One agent in an import file.
struct ImportedAgent {
    AgentRecord record;                     ///< Its fields (organization included).
    std::vector<ImportedVersion> versions;  ///< Its versions.
};

/// Parses and checks a whole import file. On failure the message names the element and
/// the field, e.g. `agents[2].versions[0].mode must be "FLOW" or "PROMPT"`.
std::variant<std::vector<ImportedAgent>, std::string> parse_agent_import(std::string_view text);

/// What an import changed.
struct ImportSummary {
    std::size_t agents = 0;                 ///< Agents in the file.
    std::size_t versions = 0;               ///< Versions in the file.
    std::size_t organizations_created = 0;  ///< Organizations that did not exist yet.
};

}  // namespace threadsd::store
