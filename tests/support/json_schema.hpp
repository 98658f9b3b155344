#pragma once
// A JSON Schema (2020-12, as OpenAPI 3.1 uses it) checker for tests, limited to the keywords
// docs/openapi.yaml uses. A keyword or format it does not implement throws, so a schema it
// does not understand can never pass silently.

#include <boost/json/value.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace threadsd::test {

/// Thrown when a schema uses a keyword, type, format or `$ref` the checker does not implement.
struct UnsupportedSchema : std::runtime_error {
    /// `what` names the keyword and where the schema is.
    using std::runtime_error::runtime_error;
};

/// One way in which a value does not match its schema.
struct SchemaProblem {
    std::string pointer;  ///< Where in the value (RFC 6901 JSON pointer; "" is the whole value).
    std::string message;  ///< What is wrong, for a person.
};

/// Each problem on its own line as `<pointer>: <message>` ("(root)" for the whole value).
std::string describe(const std::vector<SchemaProblem>& problems);

/// `token` escaped as one JSON pointer segment (RFC 6901: `~` as `~0`, `/` as `~1`).
std::string pointer_token(std::string_view token);

/// Checks values against schemas taken from one document, in which `$ref`s resolve.
class JsonSchemaChecker {
  public:
    /// `document` is the root that `#/...` references point into (an OpenAPI document).
    explicit JsonSchemaChecker(boost::json::value document);

    /// The problems of `instance` against `schema` (none: it matches). First audits the
    /// whole schema, so an unsupported keyword throws even where `instance` would not
    /// reach it.
    std::vector<SchemaProblem> check(const boost::json::value& instance,
                                     const boost::json::value& schema) const;

    /// Throws UnsupportedSchema when `schema`, or a schema it contains or references,
    /// uses anything the checker does not implement.
    void audit(const boost::json::value& schema) const;

    /// The value a local reference such as `#/components/schemas/Thread` names; throws
    /// UnsupportedSchema for any other reference and std::out_of_range when it names nothing.
    const boost::json::value& resolve(std::string_view reference) const;

    /// `value` itself, or what it references when it is a `{"$ref": ...}` object (followed
    /// until a value that is not a reference).
    const boost::json::value& follow(const boost::json::value& value) const;

    /// The document references resolve in.
    const boost::json::value& document() const { return document_; }

  private:
    boost::json::value document_;  ///< Root of `#/...` references.
};

}  // namespace threadsd::test
