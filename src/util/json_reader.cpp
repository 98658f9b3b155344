#include "threadsd/util/json_reader.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <unordered_set>
#include <vector>

namespace threadsd::util {
namespace {

namespace json = boost::json;

/// basic_parser handler that builds a json::value through a value_stack, and keeps the
/// keys of every open object so that a repeated one stops the parse.
class DuplicateRejectingHandler {
  public:
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    json::value_stack stack;       ///< Builds the resulting value.
    std::string duplicate_key;     ///< The repeated key, once one is found.
    bool found_duplicate = false;  ///< Set when parsing stopped on a repeated key.

    // The basic_parser callbacks: each pushes onto `stack` what the parser found.
    bool on_document_begin(json::error_code&) {
        stack.reset();
        return true;
    }
    bool on_document_end(json::error_code&) { return true; }
    bool on_object_begin(json::error_code&) {
        if (depth_ == open_keys_.size()) {
            open_keys_.emplace_back();
        }
        open_keys_[depth_++].clear();
        open_.push_back({false, 0, {}});
        return true;
    }
    bool on_object_end(std::size_t n, json::error_code&) {
        --depth_;
        open_.pop_back();
        stack.push_object(n);
        return value_done();
    }
    bool on_array_begin(json::error_code&) {
        open_.push_back({true, 0, {}});
        return true;
    }
    bool on_array_end(std::size_t n, json::error_code&) {
        open_.pop_back();
        stack.push_array(n);
        return value_done();
    }
    bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
        partial_key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
        partial_key_.append(s.data(), s.size());
        if (!open_keys_[depth_ - 1].insert(partial_key_).second) {
            found_duplicate = true;
            duplicate_key = std::move(partial_key_);
            ec = json::error::syntax;
            return false;
        }
        stack.push_key(partial_key_);
        open_.back().key = std::move(partial_key_);
        partial_key_.clear();
        return true;
    }
    bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
        stack.push_chars(s);
        return true;
    }
    bool on_string(json::string_view s, std::size_t, json::error_code&) {
        stack.push_string(s);
        return value_done();
    }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
        stack.push_int64(i);
        return value_done();
    }
    bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
        stack.push_uint64(u);
        return value_done();
    }
    bool on_double(double d, json::string_view, json::error_code&) {
        stack.push_double(d);
        return value_done();
    }
    bool on_bool(bool b, json::error_code&) {
        stack.push_bool(b);
        return value_done();
    }
    bool on_null(json::error_code&) {
        stack.push_null();
        return value_done();
    }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }

    /// Where the innermost open object is, e.g. `[1].versions[0]` or `.metadata`;
    /// empty for the document's root.
    std::string open_object_path() const {
        std::string path;
        for (std::size_t i = 0; i + 1 < open_.size(); ++i) {
            if (open_[i].is_array) {
                path += "[" + std::to_string(open_[i].index) + "]";
            } else {
                path += "." + open_[i].key;
            }
        }
        return path;
    }

  private:
    /// One open container, to name where a repeated key is.
    struct OpenContainer {
        bool is_array;      ///< Array (indexed) or object (keyed).
        std::size_t index;  ///< For arrays: index of the item being read.
        std::string key;    ///< For objects: the key whose value is being read.
    };

    /// Counts a finished item of the enclosing array.
    bool value_done() {
        if (!open_.empty() && open_.back().is_array) {
            ++open_.back().index;
        }
        return true;
    }

    std::vector<OpenContainer> open_;  ///< Containers from the root to the innermost.
    std::vector<std::unordered_set<std::string>> open_keys_;  ///< Keys seen per open object.
    std::size_t depth_ = 0;                                   ///< Number of open objects.
    std::string partial_key_;                                 ///< Key being assembled.
};

// Echo a repeated key only when it is short and printable, so the message stays one line.
std::string describe_key(const std::string& key) {
    if (key.empty() || key.size() > 64) {
        return "a key";
    }
    for (const char c : key) {
        if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' ||
            static_cast<unsigned char>(c) >= 0x7f) {
            return "a key";
        }
    }
    return "the key \"" + key + "\"";
}

/// `text` with every number's exponent of more than nine significant digits written as
/// 999999999 (with its sign). Boost.JSON refuses an exponent beyond INT_MAX, which JSON
/// allows; within a body of any size this limit allows, both forms give the same double
/// (infinity or zero), so a valid document is not refused for it.
std::string clamp_exponents(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool in_string = false;
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (in_string) {
            out.push_back(c);
            if (c == '\\' && i + 1 < text.size()) {
                out.push_back(text[++i]);
            } else if (c == '"') {
                in_string = false;
            }
            ++i;
            continue;
        }
        out.push_back(c);
        ++i;
        if (c == '"') {
            in_string = true;
            continue;
        }
        // Outside strings, an e or E followed by a digit or sign is a number's exponent
        // (true and false have no digit after their e).
        if ((c != 'e' && c != 'E') || i == text.size()) {
            continue;
        }
        if (text[i] == '+' || text[i] == '-') {
            out.push_back(text[i++]);
        }
        const std::size_t digits = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            ++i;
        }
        std::string_view exponent = text.substr(digits, i - digits);
        const auto significant = exponent.find_first_not_of('0');
        if (significant != std::string_view::npos && exponent.size() - significant > 9) {
            exponent = "999999999";
        }
        out.append(exponent);
    }
    return out;
}

}  // namespace

std::variant<json::value, JsonSyntaxError> parse_json_strict(std::string_view text,
                                                             std::string_view subject,
                                                             std::string_view items) {
    json::parse_options options;
    options.max_depth = 32;
    json::basic_parser<DuplicateRejectingHandler> parser(options);
    json::error_code ec;
    const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    if (ec == json::error::exponent_overflow) {
        const std::string clamped = clamp_exponents(text);
        if (clamped != text) {
            return parse_json_strict(clamped, subject, items);
        }
    }
    const auto& handler = parser.handler();
    if (handler.found_duplicate) {
        std::string where = handler.open_object_path();
        if (where.empty()) {
            where = subject;  // The root object itself.
        } else if (where.front() == '.') {
            where.erase(0, 1);  // metadata, not .metadata
        } else {
            where.insert(0, items);  // agents[1], not [1]
        }
        // The path echoes client keys: keep the message one short printable line.
        const bool printable =
            std::all_of(where.begin(), where.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
        if (where.size() > 128 || !printable) {
            where = subject;
        }
        return JsonSyntaxError{where + " repeats " + describe_key(handler.duplicate_key)};
    }
    const std::string name(subject);
    if (!ec && consumed != text.size()) {
        return JsonSyntaxError{name + " has data after its JSON value"};
    }
    if (ec) {
        if (ec == json::error::too_deep) {
            return JsonSyntaxError{name + " nests JSON deeper than 32 levels"};
        }
        return JsonSyntaxError{name + " is not valid JSON"};
    }
    return parser.handler().stack.release();
}

}  // namespace threadsd::util
