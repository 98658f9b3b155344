// Build-time tool: reads a YAML document (docs/openapi.yaml) and writes a C++ source file
// that returns it as compact JSON, so the binary serves GET /openapi.json without reading
// files or linking a YAML parser.
//   yaml_to_json INPUT.yaml OUTPUT.cpp
// Only the plain subset the document uses is accepted: block or flow mappings and
// sequences and scalars. Anchors, aliases, tags and several documents are refused, so the
// JSON says exactly what the YAML says.

#include <yaml.h>

#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

namespace json = boost::json;

/// A libyaml parser over one file's text, yielding events one at a time.
class EventReader {
  public:
    /// Parses `text`, which must outlive the reader.
    explicit EventReader(const std::string& text) {
        yaml_parser_initialize(&parser_);
        yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                     text.size());
    }
    ~EventReader() {
        release();
        yaml_parser_delete(&parser_);
    }
    EventReader(const EventReader&) = delete;
    EventReader& operator=(const EventReader&) = delete;

    /// Reads the next event; throws with the line number when the YAML is malformed.
    const yaml_event_t& next() {
        release();
        if (!yaml_parser_parse(&parser_, &event_)) {
            throw std::runtime_error("line " + std::to_string(parser_.problem_mark.line + 1) +
                                     ": " + (parser_.problem ? parser_.problem : "invalid YAML"));
        }
        held_ = true;
        return event_;
    }

  private:
    void release() {
        if (held_) {
            yaml_event_delete(&event_);
            held_ = false;
        }
    }
    yaml_parser_t parser_{};  ///< libyaml's state.
    yaml_event_t event_{};    ///< The current event.
    bool held_ = false;       ///< Whether `event_` must be freed.
};

/// "line N" for an event, for error messages.
std::string where(const yaml_event_t& event) {
    return "line " + std::to_string(event.start_mark.line + 1);
}

/// What a plain scalar is as a number under YAML 1.2's core schema.
enum class NumberKind { kNone, kInteger, kReal };

/// [-+]? then digits (an integer), or with a fraction and/or an exponent (a real).
NumberKind number_kind(std::string_view text) {
    std::size_t i = 0;
    const auto digits = [&text, &i] {
        const std::size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            ++i;
        }
        return i - start;
    };
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        ++i;
    }
    std::size_t mantissa = digits();
    bool real = false;
    if (i < text.size() && text[i] == '.') {
        ++i;
        mantissa += digits();
        real = true;
    }
    if (mantissa == 0) {
        return NumberKind::kNone;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
            ++i;
        }
        if (digits() == 0) {
            return NumberKind::kNone;
        }
        real = true;
    }
    if (i != text.size()) {
        return NumberKind::kNone;
    }
    return real ? NumberKind::kReal : NumberKind::kInteger;
}

/// A plain scalar's JSON value under YAML 1.2's core schema; quoted scalars stay strings.
json::value scalar_value(const yaml_event_t& event) {
    const auto& scalar = event.data.scalar;
    const std::string text(reinterpret_cast<const char*>(scalar.value), scalar.length);
    if (scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return json::string(text);
    }
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
        return nullptr;
    }
    if (text == "true" || text == "True" || text == "TRUE") {
        return true;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
        return false;
    }
    switch (number_kind(text)) {
        case NumberKind::kInteger:
            return std::stoll(text);
        case NumberKind::kReal:
            return std::stod(text);
        case NumberKind::kNone:
            break;
    }
    return json::string(text);
}

/// Refuses what the JSON could not say the same way.
void check_plain(const yaml_event_t& event, const unsigned char* anchor, const unsigned char* tag) {
    if (anchor != nullptr) {
        throw std::runtime_error(where(event) + ": anchors are not used in this document");
    }
    if (tag != nullptr) {
        throw std::runtime_error(where(event) + ": tags are not used in this document");
    }
}

/// Reads the value that begins with `event`.
json::value read_value(EventReader& reader, const yaml_event_t& event) {
    switch (event.type) {
        case YAML_SCALAR_EVENT:
            check_plain(event, event.data.scalar.anchor, event.data.scalar.tag);
            return scalar_value(event);
        case YAML_SEQUENCE_START_EVENT: {
            check_plain(event, event.data.sequence_start.anchor, event.data.sequence_start.tag);
            json::array array;
            for (;;) {
                const yaml_event_t& item = reader.next();
                if (item.type == YAML_SEQUENCE_END_EVENT) {
                    return array;
                }
                array.push_back(read_value(reader, item));
            }
        }
        case YAML_MAPPING_START_EVENT: {
            check_plain(event, event.data.mapping_start.anchor, event.data.mapping_start.tag);
            json::object object;
            for (;;) {
                const yaml_event_t& key = reader.next();
                if (key.type == YAML_MAPPING_END_EVENT) {
                    return object;
                }
                if (key.type != YAML_SCALAR_EVENT) {
                    throw std::runtime_error(where(key) + ": a key must be a scalar");
                }
                // Keys are names in JSON, whatever they look like ("200" is a status).
                const std::string name(reinterpret_cast<const char*>(key.data.scalar.value),
                                       key.data.scalar.length);
                const std::string at = where(key);
                if (object.contains(name)) {
                    throw std::runtime_error(at + ": the key \"" + name + "\" is repeated");
                }
                const yaml_event_t& value_start = reader.next();
                object[name] = read_value(reader, value_start);
            }
        }
        case YAML_ALIAS_EVENT:
            throw std::runtime_error(where(event) + ": aliases are not used in this document");
        default:
            throw std::runtime_error(where(event) + ": unexpected YAML structure");
    }
}

/// The one document of `text`, as JSON.
json::value read_document(const std::string& text) {
    EventReader reader(text);
    if (reader.next().type != YAML_STREAM_START_EVENT ||
        reader.next().type != YAML_DOCUMENT_START_EVENT) {
        throw std::runtime_error("not a YAML document");
    }
    const yaml_event_t& root_start = reader.next();
    json::value root = read_value(reader, root_start);
    if (reader.next().type != YAML_DOCUMENT_END_EVENT ||
        reader.next().type != YAML_STREAM_END_EVENT) {
        throw std::runtime_error("more than one YAML document");
    }
    return root;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: yaml_to_json INPUT.yaml OUTPUT.cpp\n");
        return 2;
    }
    try {
        std::ifstream in(argv[1], std::ios::binary);
        if (!in) {
            throw std::runtime_error("cannot read the file");
        }
        std::stringstream text;
        text << in.rdbuf();
        const std::string document = json::serialize(read_document(text.str()));
        if (document.find(")threadsd_json\"") != std::string::npos) {
            throw std::runtime_error("the document contains the raw string's delimiter");
        }
        std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
        out << "// Generated from docs/openapi.yaml by cmake/yaml_to_json.cpp. Do not edit.\n"
            << "#include \"threadsd/api/openapi_document.hpp\"\n\n"
            << "namespace threadsd::api {\n\n"
            << "std::string_view openapi_json() {\n"
            << "    return R\"threadsd_json(" << document << ")threadsd_json\";\n"
            << "}\n\n"
            << "}  // namespace threadsd::api\n";
        if (!out.flush()) {
            throw std::runtime_error(std::string("cannot write ") + argv[2]);
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "%s: %s\n", argv[1], error.what());
        return 1;
    }
    return 0;
}
