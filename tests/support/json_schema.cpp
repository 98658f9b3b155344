#include "support/json_schema.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <regex>
#include <set>
#include <string>

namespace threadsd::test {
namespace {

namespace json = boost::json;

// std::wregex matches code points only where wchar_t holds any of them.
static_assert(sizeof(wchar_t) == 4, "patterns are matched on code points as wchar_t");

using Names = std::set<std::string, std::less<>>;

/// Keywords that only annotate: they never make a value fail.
const Names kAnnotations = {"description", "title",    "default",   "example", "examples",
                            "deprecated",  "readOnly", "writeOnly", "$comment"};
/// Keywords that the validator implements.
const Names kAssertions = {
    "$ref",          "type",         "properties", "required", "additionalProperties",
    "items",         "enum",         "const",      "minimum",  "maximum",
    "minLength",     "maxLength",    "minItems",   "maxItems", "minProperties",
    "maxProperties", "pattern",      "format",     "allOf",    "anyOf",
    "oneOf",         "propertyNames"};
/// The values of `type`.
const Names kTypes = {"null", "boolean", "object", "array", "number", "string", "integer"};
/// The values of `format` the validator checks.
const Names kFormats = {"uuid", "date-time"};

[[noreturn]] void unsupported(const std::string& where, const std::string& what) {
    throw UnsupportedSchema("schema at " + (where.empty() ? std::string("(given)") : where) + ": " +
                            what);
}

/// A pointer segment decoded (RFC 6901).
std::string unescape_token(std::string_view token) {
    std::string out;
    for (std::size_t i = 0; i < token.size(); ++i) {
        if (token[i] == '~' && i + 1 < token.size() &&
            (token[i + 1] == '0' || token[i + 1] == '1')) {
            out.push_back(token[i + 1] == '0' ? '~' : '/');
            ++i;
        } else {
            out.push_back(token[i]);
        }
    }
    return out;
}

/// The code points of UTF-8 text; a malformed sequence counts as one U+FFFD.
std::wstring code_points(std::string_view text) {
    std::wstring out;
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t length = lead < 0x80           ? 1
                                   : (lead >> 5) == 0x6  ? 2
                                   : (lead >> 4) == 0xe  ? 3
                                   : (lead >> 3) == 0x1e ? 4
                                                         : 0;
        if (length == 0 || i + length > text.size()) {
            out.push_back(L'\xfffd');
            ++i;
            continue;
        }
        std::uint32_t code = length == 1 ? lead : lead & (0x7f >> length);
        bool valid = true;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            valid = valid && (next & 0xc0) == 0x80;
            code = (code << 6) | (next & 0x3f);
        }
        out.push_back(valid ? static_cast<wchar_t>(code) : L'\xfffd');
        i += valid ? length : 1;
    }
    return out;
}

/// True when `text` is a UUID in its 8-4-4-4-12 form (any case).
bool is_uuid(std::string_view text) {
    static const std::regex form(
        "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
    return std::regex_match(text.begin(), text.end(), form);
}

/// True when `text` is an RFC 3339 date-time with valid field values.
bool is_date_time(std::string_view text) {
    static const std::regex form(
        R"(^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$)");
    std::match_results<std::string_view::const_iterator> match;
    if (!std::regex_match(text.begin(), text.end(), match, form)) {
        return false;
    }
    const auto number = [&match](int group) {
        return match[group].matched ? std::stoi(match[group].str()) : 0;
    };
    const int year = number(1);
    const int month = number(2);
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12) {
        return false;
    }
    const int days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
    return number(3) >= 1 && number(3) <= days && number(4) <= 23 && number(5) <= 59 &&
           number(6) <= 60 && number(9) <= 23 && number(10) <= 59;
}

/// True when `value` is a JSON number without a fractional part.
bool is_integral(const json::value& value) {
    if (value.is_int64() || value.is_uint64()) {
        return true;
    }
    return value.is_double() && std::isfinite(value.get_double()) &&
           std::trunc(value.get_double()) == value.get_double();
}

/// True when `value` is of the JSON Schema `type`.
bool has_type(const json::value& value, std::string_view type) {
    if (type == "null") {
        return value.is_null();
    }
    if (type == "boolean") {
        return value.is_bool();
    }
    if (type == "object") {
        return value.is_object();
    }
    if (type == "array") {
        return value.is_array();
    }
    if (type == "string") {
        return value.is_string();
    }
    if (type == "number") {
        return value.is_number();
    }
    return is_integral(value);  // "integer"; the audit allows nothing else
}

/// The JSON Schema type name of `value`, for messages.
std::string kind_of(const json::value& value) {
    switch (value.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "a boolean";
        case json::kind::object:
            return "an object";
        case json::kind::array:
            return "an array";
        case json::kind::string:
            return "a string";
        default:
            return is_integral(value) ? "an integer" : "a number";
    }
}

/// JSON equality as JSON Schema has it: numbers compare by value (1 equals 1.0).
bool same_value(const json::value& a, const json::value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_int64() && b.is_int64()) {
            return a.get_int64() == b.get_int64();
        }
        return a.to_number<double>() == b.to_number<double>();
    }
    if (a.kind() != b.kind()) {
        return false;
    }
    if (a.is_array()) {
        const auto& left = a.get_array();
        const auto& right = b.get_array();
        if (left.size() != right.size()) {
            return false;
        }
        for (std::size_t i = 0; i < left.size(); ++i) {
            if (!same_value(left[i], right[i])) {
                return false;
            }
        }
        return true;
    }
    if (a.is_object()) {
        const auto& left = a.get_object();
        const auto& right = b.get_object();
        if (left.size() != right.size()) {
            return false;
        }
        for (const auto& member : left) {
            const auto* other = right.if_contains(member.key());
            if (other == nullptr || !same_value(member.value(), *other)) {
                return false;
            }
        }
        return true;
    }
    return a == b;
}

/// Compiles a `pattern` (ECMA-262 syntax, matched on code points).
std::wregex compile_pattern(const std::string& pattern, const std::string& where) {
    try {
        return std::wregex(code_points(pattern), std::regex::ECMAScript);
    } catch (const std::regex_error& error) {
        unsupported(where, "pattern \"" + pattern + "\" does not compile: " + error.what());
    }
}

/// Walks a schema and everything it references, refusing what the validator lacks.
class Auditor {
  public:
    explicit Auditor(const JsonSchemaChecker& checker) : checker_(checker) {}

    void schema(const json::value& schema, const std::string& where) {
        if (schema.is_bool()) {
            return;
        }
        if (!schema.is_object()) {
            unsupported(where, "a schema must be an object or a boolean");
        }
        for (const auto& member : schema.get_object()) {
            const std::string key(member.key());
            if (kAnnotations.count(key) != 0) {
                continue;
            }
            if (kAssertions.count(key) == 0) {
                unsupported(where, "unsupported keyword \"" + key + "\"");
            }
            keyword(key, member.value(), where + "/" + pointer_token(key));
        }
    }

  private:
    void keyword(const std::string& key, const json::value& value, const std::string& at) {
        if (key == "$ref") {
            if (!value.is_string()) {
                unsupported(at, "$ref must be a string");
            }
            const std::string reference(value.get_string());
            if (followed_.insert(reference).second) {
                schema(checker_.resolve(reference), reference);
            }
        } else if (key == "type") {
            const json::array single{value};
            for (const auto& type : value.is_array() ? value.get_array() : single) {
                if (!type.is_string() || kTypes.count(type.get_string()) == 0) {
                    unsupported(at, "unknown type " + json::serialize(type));
                }
            }
        } else if (key == "properties") {
            if (!value.is_object()) {
                unsupported(at, "properties must be an object");
            }
            for (const auto& property : value.get_object()) {
                schema(property.value(), at + "/" + pointer_token(property.key()));
            }
        } else if (key == "required") {
            if (!value.is_array()) {
                unsupported(at, "required must be an array of names");
            }
            for (const auto& name : value.get_array()) {
                if (!name.is_string()) {
                    unsupported(at, "required must be an array of names");
                }
            }
        } else if (key == "additionalProperties" || key == "items" || key == "propertyNames") {
            schema(value, at);
        } else if (key == "enum") {
            if (!value.is_array()) {
                unsupported(at, "enum must be an array");
            }
        } else if (key == "minimum" || key == "maximum") {
            if (!value.is_number()) {
                unsupported(at, key + " must be a number");
            }
        } else if (key == "pattern") {
            if (!value.is_string()) {
                unsupported(at, "pattern must be a string");
            }
            compile_pattern(std::string(value.get_string()), at);
        } else if (key == "format") {
            if (!value.is_string() || kFormats.count(value.get_string()) == 0) {
                unsupported(at, "unknown format " + json::serialize(value));
            }
        } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
            if (!value.is_array() || value.get_array().empty()) {
                unsupported(at, key + " must be a non-empty array of schemas");
            }
            for (std::size_t i = 0; i < value.get_array().size(); ++i) {
                schema(value.get_array()[i], at + "/" + std::to_string(i));
            }
        } else if (key != "const") {  // the counts: minLength ... maxProperties
            if (!value.is_number() || !is_integral(value) || value.to_number<double>() < 0) {
                unsupported(at, key + " must be a non-negative integer");
            }
        }
    }

    const JsonSchemaChecker& checker_;  ///< Resolves references.
    std::set<std::string> followed_;    ///< References already audited (schemas may recurse).
};

/// Checks one value against an audited schema, collecting problems.
class Validator {
  public:
    Validator(const JsonSchemaChecker& checker, std::vector<SchemaProblem>& problems)
        : checker_(checker), problems_(problems) {}

    void check(const json::value& instance, const json::value& schema, const std::string& at) {
        if (schema.is_bool()) {
            if (!schema.get_bool()) {
                problem(at, "is not allowed here (the schema is false)");
            }
            return;
        }
        const auto& keywords = schema.get_object();
        if (const auto* reference = keywords.if_contains("$ref")) {
            check(instance, checker_.resolve(reference->get_string()), at);
        }
        if (const auto* type = keywords.if_contains("type");
            type != nullptr && !type_matches(instance, *type, at)) {
            return;  // the other keywords would only repeat that the type is wrong
        }
        if (const auto* values = keywords.if_contains("enum")) {
            check_enum(instance, values->get_array(), at);
        }
        if (const auto* value = keywords.if_contains("const");
            value != nullptr && !same_value(instance, *value)) {
            problem(at, "is " + json::serialize(instance) + ", not " + json::serialize(*value));
        }
        if (instance.is_number()) {
            check_number(instance, keywords, at);
        } else if (instance.is_string()) {
            check_string(instance.get_string(), keywords, at);
        } else if (instance.is_array()) {
            check_array(instance.get_array(), keywords, at);
        } else if (instance.is_object()) {
            check_object(instance.get_object(), keywords, at);
        }
        check_combinations(instance, keywords, at);
    }

  private:
    void problem(const std::string& at, std::string message) {
        problems_.push_back({at, std::move(message)});
    }

    /// The problems `schema` finds in `instance`, without adding them to this validator's.
    std::vector<SchemaProblem> trial(const json::value& instance, const json::value& schema,
                                     const std::string& at) {
        std::vector<SchemaProblem> found;
        Validator(checker_, found).check(instance, schema, at);
        return found;
    }

    bool type_matches(const json::value& instance, const json::value& type, const std::string& at) {
        const json::array single{type};
        const auto& types = type.is_array() ? type.get_array() : single;
        std::string expected;
        for (const auto& name : types) {
            if (has_type(instance, name.get_string())) {
                return true;
            }
            expected += (expected.empty() ? "" : " or ") + std::string(name.get_string());
        }
        problem(at, "is " + kind_of(instance) + ", not " + expected);
        return false;
    }

    void check_enum(const json::value& instance, const json::array& values, const std::string& at) {
        for (const auto& value : values) {
            if (same_value(instance, value)) {
                return;
            }
        }
        problem(at, "is " + json::serialize(instance) + ", not one of " + json::serialize(values));
    }

    void check_number(const json::value& instance, const json::object& keywords,
                      const std::string& at) {
        const double number = instance.to_number<double>();
        if (const auto* minimum = keywords.if_contains("minimum");
            minimum != nullptr && number < minimum->to_number<double>()) {
            problem(at, "is " + json::serialize(instance) + ", below the minimum " +
                            json::serialize(*minimum));
        }
        if (const auto* maximum = keywords.if_contains("maximum");
            maximum != nullptr && number > maximum->to_number<double>()) {
            problem(at, "is " + json::serialize(instance) + ", above the maximum " +
                            json::serialize(*maximum));
        }
    }

    /// The bounds `lower` and `upper` (such as minItems and maxItems) on a count of `unit`.
    void check_count(std::size_t count, const json::object& keywords, std::string_view lower,
                     std::string_view upper, const std::string& unit, const std::string& at) {
        const std::string has = "has " + std::to_string(count) + " " + unit;
        if (const auto* minimum = keywords.if_contains(lower);
            minimum != nullptr && count < minimum->to_number<std::size_t>()) {
            problem(at, has + ", fewer than " + json::serialize(*minimum));
        }
        if (const auto* maximum = keywords.if_contains(upper);
            maximum != nullptr && count > maximum->to_number<std::size_t>()) {
            problem(at, has + ", more than " + json::serialize(*maximum));
        }
    }

    void check_string(const json::string& text, const json::object& keywords,
                      const std::string& at) {
        const std::string_view view(text.data(), text.size());
        const std::wstring characters = code_points(view);
        check_count(characters.size(), keywords, "minLength", "maxLength", "characters", at);
        if (const auto* pattern = keywords.if_contains("pattern")) {
            const std::string source(pattern->get_string());
            if (!std::regex_search(characters, compile_pattern(source, at))) {
                problem(at, json::serialize(text) + " does not match the pattern " + source);
            }
        }
        if (const auto* format = keywords.if_contains("format")) {
            const bool valid = format->get_string() == "uuid" ? is_uuid(view) : is_date_time(view);
            if (!valid) {
                problem(at,
                        json::serialize(text) + " is not a " + std::string(format->get_string()));
            }
        }
    }

    void check_array(const json::array& items, const json::object& keywords,
                     const std::string& at) {
        check_count(items.size(), keywords, "minItems", "maxItems", "items", at);
        if (const auto* schema = keywords.if_contains("items")) {
            for (std::size_t i = 0; i < items.size(); ++i) {
                check(items[i], *schema, at + "/" + std::to_string(i));
            }
        }
    }

    void check_object(const json::object& object, const json::object& keywords,
                      const std::string& at) {
        check_count(object.size(), keywords, "minProperties", "maxProperties", "members", at);
        if (const auto* required = keywords.if_contains("required")) {
            for (const auto& name : required->get_array()) {
                if (!object.contains(name.get_string())) {
                    problem(at, "lacks the required member " + json::serialize(name));
                }
            }
        }
        const auto* properties = keywords.if_contains("properties");
        const auto* additional = keywords.if_contains("additionalProperties");
        const auto* names = keywords.if_contains("propertyNames");
        for (const auto& member : object) {
            const std::string here = at + "/" + pointer_token(member.key());
            if (names != nullptr) {
                for (auto& found : trial(json::string(member.key()), *names, here)) {
                    problem(here, "its name " + found.message);
                }
            }
            const json::value* declared = properties != nullptr
                                              ? properties->get_object().if_contains(member.key())
                                              : nullptr;
            if (declared != nullptr) {
                check(member.value(), *declared, here);
            } else if (additional != nullptr) {
                if (additional->is_bool() && !additional->get_bool()) {
                    problem(here, "is a member the schema does not allow");
                } else {
                    check(member.value(), *additional, here);
                }
            }
        }
    }

    void check_combinations(const json::value& instance, const json::object& keywords,
                            const std::string& at) {
        if (const auto* all = keywords.if_contains("allOf")) {
            for (const auto& schema : all->get_array()) {
                check(instance, schema, at);
            }
        }
        if (const auto* any = keywords.if_contains("anyOf")) {
            std::string reasons;
            for (const auto& schema : any->get_array()) {
                const auto found = trial(instance, schema, at);
                if (found.empty()) {
                    reasons.clear();
                    break;
                }
                reasons += (reasons.empty() ? "" : "; ") + found.front().pointer + " " +
                           found.front().message;
            }
            if (!reasons.empty()) {
                problem(at, "matches none of anyOf (" + reasons + ")");
            }
        }
        if (const auto* one = keywords.if_contains("oneOf")) {
            std::size_t matches = 0;
            for (const auto& schema : one->get_array()) {
                matches += trial(instance, schema, at).empty() ? 1 : 0;
            }
            if (matches != 1) {
                problem(at, "matches " + std::to_string(matches) +
                                " of the oneOf schemas, not exactly one");
            }
        }
    }

    const JsonSchemaChecker& checker_;      ///< Resolves references.
    std::vector<SchemaProblem>& problems_;  ///< Where problems go.
};

}  // namespace

std::string describe(const std::vector<SchemaProblem>& problems) {
    std::string out;
    for (const auto& problem : problems) {
        out += (problem.pointer.empty() ? std::string("(root)") : problem.pointer) + ": " +
               problem.message + "\n";
    }
    return out;
}

std::string pointer_token(std::string_view token) {
    std::string out;
    for (const char c : token) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

JsonSchemaChecker::JsonSchemaChecker(boost::json::value document)
    : document_(std::move(document)) {}

std::vector<SchemaProblem> JsonSchemaChecker::check(const json::value& instance,
                                                    const json::value& schema) const {
    audit(schema);
    std::vector<SchemaProblem> problems;
    Validator(*this, problems).check(instance, schema, "");
    return problems;
}

void JsonSchemaChecker::audit(const json::value& schema) const {
    Auditor(*this).schema(schema, "");
}

const json::value& JsonSchemaChecker::resolve(std::string_view reference) const {
    if (reference.substr(0, 1) != "#" || (reference.size() > 1 && reference[1] != '/')) {
        throw UnsupportedSchema("only references into this document (#/...) are supported, not " +
                                std::string(reference));
    }
    const json::value* at = &document_;
    std::string_view rest = reference.substr(1);
    while (!rest.empty()) {
        rest.remove_prefix(1);  // the '/'
        const auto slash = rest.find('/');
        const std::string token = unescape_token(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
        const json::value* next = nullptr;
        if (at->is_object()) {
            next = at->get_object().if_contains(token);
        } else if (at->is_array() && !token.empty() &&
                   token.find_first_not_of("0123456789") == std::string::npos &&
                   std::stoul(token) < at->get_array().size()) {
            next = &at->get_array()[std::stoul(token)];
        }
        if (next == nullptr) {
            throw std::out_of_range("the reference " + std::string(reference) + " names nothing");
        }
        at = next;
    }
    return *at;
}

const json::value& JsonSchemaChecker::follow(const json::value& value) const {
    const json::value* at = &value;
    for (int hops = 0; at->is_object() && at->get_object().contains("$ref"); ++hops) {
        if (hops == 32) {
            throw UnsupportedSchema("references loop from " + json::serialize(value));
        }
        at = &resolve(at->get_object().at("$ref").as_string());
    }
    return *at;
}

}  // namespace threadsd::test
