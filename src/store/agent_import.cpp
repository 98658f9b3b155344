#include "threadsd/store/agent_import.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <set>

#include "threadsd/store/admin.hpp"
#include "threadsd/util/clock.hpp"
#include "threadsd/util/json_reader.hpp"
#include "threadsd/util/uuid.hpp"

namespace threadsd::store {
namespace {

namespace json = boost::json;

/// Thrown while reading the file; carries the finished message.
struct ImportError {
    std::string message;  ///< `where field problem`.
};

/// Reads typed fields of one JSON object, naming `where` in every error.
class FieldReader {
  public:
    /// Reads `value`, which must be an object; `where` is e.g. `agents[2]`.
    FieldReader(const json::value& value, std::string where) : where_(std::move(where)) {
        object_ = value.if_object();
        if (object_ == nullptr) {
            throw ImportError{where_ + " must be an object"};
        }
    }

    /// A required UUID, normalized.
    std::string uuid(std::string_view field) const {
        const json::value& v = required(field);
        auto normal = v.is_string() ? util::normalize_uuid(v.get_string()) : std::nullopt;
        if (!normal) {
            fail(field, "must be a UUID");
        }
        return *normal;
    }

    /// A required non-empty string.
    std::string text(std::string_view field) const {
        const json::value& v = required(field);
        if (!v.is_string() || v.get_string().empty()) {
            fail(field, "must be a non-empty string");
        }
        return std::string(v.get_string());
    }

    /// A string, or nothing when absent or null.
    std::optional<std::string> optional_text(std::string_view field) const {
        const json::value* v = object_->if_contains(field);
        if (v == nullptr || v->is_null()) {
            return std::nullopt;
        }
        if (!v->is_string()) {
            fail(field, "must be a string or null");
        }
        return std::string(v->get_string());
    }

    /// A required string that is `a` or `b`.
    std::string one_of(std::string_view field, std::string_view a, std::string_view b) const {
        const json::value& v = required(field);
        if (!v.is_string() || (v.get_string() != a && v.get_string() != b)) {
            fail(field, "must be \"" + std::string(a) + "\" or \"" + std::string(b) + "\"");
        }
        return std::string(v.get_string());
    }

    /// A boolean, false when absent.
    bool flag(std::string_view field) const {
        const json::value* v = object_->if_contains(field);
        if (v == nullptr) {
            return false;
        }
        if (!v->is_bool()) {
            fail(field, "must be true or false");
        }
        return v->get_bool();
    }

    /// A number, or nothing when absent or null.
    std::optional<double> optional_number(std::string_view field) const {
        const json::value* v = object_->if_contains(field);
        if (v == nullptr || v->is_null()) {
            return std::nullopt;
        }
        if (!v->is_number()) {
            fail(field, "must be a number or null");
        }
        return v->to_number<double>();
    }

    /// A required whole number of at least 1 (1.0 counts; 1.5 and "1" do not).
    std::int64_t positive_integer(std::string_view field) const {
        const json::value& v = required(field);
        if (v.is_int64() && v.get_int64() >= 1) {
            return v.get_int64();
        }
        if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
            return static_cast<std::int64_t>(v.get_uint64());
        }
        if (v.is_double() && v.get_double() >= 1 && v.get_double() < 9e15 &&
            std::floor(v.get_double()) == v.get_double()) {
            return static_cast<std::int64_t>(v.get_double());
        }
        fail(field, "must be a positive integer");
    }

    /// An array, or null when absent.
    const json::array* optional_array(std::string_view field) const {
        const json::value* v = object_->if_contains(field);
        if (v == nullptr) {
            return nullptr;
        }
        if (!v->is_array()) {
            fail(field, "must be an array");
        }
        return &v->get_array();
    }

    /// The element's name, e.g. `agents[2]`.
    const std::string& where() const { return where_; }

    /// Stops the import with `where.field problem`.
    [[noreturn]] void fail(std::string_view field, const std::string& problem) const {
        throw ImportError{where_ + "." + std::string(field) + " " + problem};
    }

  private:
    /// The field's value; fails when absent.
    const json::value& required(std::string_view field) const {
        const json::value* v = object_->if_contains(field);
        if (v == nullptr) {
            fail(field, "is required");
        }
        return *v;
    }

    const json::object* object_ = nullptr;  ///< The object being read.
    std::string where_;                     ///< e.g. `agents[2]`.
};

ImportedAgent read_agent(const json::value& value, std::size_t index,
                         std::set<std::string>& version_ids) {
    const FieldReader agent(value, "agents[" + std::to_string(index) + "]");
    ImportedAgent result;
    result.record.id = agent.uuid("id");
    result.record.organization_id = agent.uuid("organizationId");
    result.record.name = agent.text("name");
    result.record.description = agent.optional_text("description");
    result.record.agent_type = agent.one_of("agentType", "CALL", "TEXT");
    result.record.deleted = agent.flag("deleted");

    std::set<std::int64_t> numbers;
    bool has_published = false;
    if (const json::array* versions = agent.optional_array("versions")) {
        for (std::size_t i = 0; i < versions->size(); ++i) {
            const FieldReader version((*versions)[i],
                                      agent.where() + ".versions[" + std::to_string(i) + "]");
            ImportedVersion imported;
            imported.record.id = version.uuid("id");
            imported.record.version = version.positive_integer("version");
            imported.record.name = version.text("name");
            imported.record.mode = version.one_of("mode", "FLOW", "PROMPT");
            imported.record.sms_max_tokens = version.optional_number("smsMaxTokens");
            imported.record.sms_temperature = version.optional_number("smsTemperature");
            imported.record.discard_inbound_sms = version.flag("discardInboundSms");
            imported.published = version.flag("published");
            if (!version_ids.insert(imported.record.id).second) {
                version.fail("id", "repeats a version id used earlier in the file");
            }
            if (!numbers.insert(imported.record.version).second) {
                version.fail("version", "repeats a version number of the same agent");
            }
            if (imported.published && has_published) {
                version.fail("published", "is true for a second version of the same agent");
            }
            has_published = has_published || imported.published;
            result.versions.push_back(std::move(imported));
        }
    }
    return result;
}

}  // namespace

std::variant<std::vector<ImportedAgent>, std::string> parse_agent_import(std::string_view text) {
    auto parsed = util::parse_json_strict(text, "the file", "agents");
    if (auto* error = std::get_if<util::JsonSyntaxError>(&parsed)) {
        return error->message;
    }
    const json::array* array = std::get<json::value>(parsed).if_array();
    if (array == nullptr) {
        return std::string("the file must hold a JSON array of agents");
    }
    std::vector<ImportedAgent> agents;
    std::set<std::string> agent_ids;
    std::set<std::string> version_ids;
    try {
        for (std::size_t i = 0; i < array->size(); ++i) {
            agents.push_back(read_agent((*array)[i], i, version_ids));
            if (!agent_ids.insert(agents.back().record.id).second) {
                return "agents[" + std::to_string(i) +
                       "].id repeats an agent id used earlier in the file";
            }
        }
    } catch (const ImportError& error) {
        return error.message;
    }
    return agents;
}

}  // namespace threadsd::store
