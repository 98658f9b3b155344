// The JSON Schema checker that the OpenAPI tests rely on (tests/support/json_schema.hpp):
// each keyword it implements accepts what it should and names what it refuses by its JSON
// pointer, and anything it does not implement throws instead of passing.

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "support/json_schema.hpp"

namespace threadsd::test::schema_checker_cases {
namespace {

namespace json = boost::json;

/// A document with a few components to reference, shaped like the OpenAPI one.
json::value sample_document() {
    return json::parse(R"({
      "components": {"schemas": {
        "Id": {"type": "string", "format": "uuid"},
        "Pair": {"type": "object", "additionalProperties": false,
                 "properties": {"id": {"$ref": "#/components/schemas/Id"},
                                "a/b~c": {"type": "integer"}},
                 "required": ["id"]},
        "Error": {"type": "object", "properties": {"status": {"type": "integer"},
                                                   "code": {"type": "string"}},
                  "required": ["status", "code"]},
        "NotFound": {"allOf": [{"$ref": "#/components/schemas/Error"},
                               {"properties": {"status": {"const": 404},
                                               "code": {"const": "NOT_FOUND"}}}]}
      }}})");
}

/// The problems of `instance` (JSON text) against `schema` (JSON text) in sample_document().
std::vector<SchemaProblem> problems_of(const std::string& instance, const std::string& schema) {
    const JsonSchemaChecker checker(sample_document());
    return checker.check(json::parse(instance), json::parse(schema));
}

/// The pointers of the problems, in order.
std::vector<std::string> pointers_of(const std::vector<SchemaProblem>& problems) {
    std::vector<std::string> pointers;
    for (const auto& problem : problems) {
        pointers.push_back(problem.pointer);
    }
    return pointers;
}

/// True when the value matches the schema.
bool matches(const std::string& instance, const std::string& schema) {
    const auto problems = problems_of(instance, schema);
    BOOST_TEST_MESSAGE(instance << " against " << schema << ": " << describe(problems));
    return problems.empty();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(openapi_schema_checker)

BOOST_AUTO_TEST_CASE(type_takes_one_name_or_a_list_with_null) {
    BOOST_TEST(matches(R"("x")", R"({"type": "string"})"));
    BOOST_TEST(matches("null", R"({"type": ["string", "null"]})"));
    BOOST_TEST(!matches("null", R"({"type": "string"})"));
    BOOST_TEST(!matches("1", R"({"type": ["string", "null"]})"));
    BOOST_TEST(matches("3", R"({"type": "integer"})"));
    BOOST_TEST(matches("3.0", R"({"type": "integer"})"));
    BOOST_TEST(!matches("3.5", R"({"type": "integer"})"));
    BOOST_TEST(matches("3.5", R"({"type": "number"})"));
    BOOST_TEST(matches("true", R"({"type": "boolean"})"));
    BOOST_TEST(!matches("0", R"({"type": "boolean"})"));
    BOOST_TEST(matches("[]", R"({"type": "array"})"));
    BOOST_TEST(!matches("{}", R"({"type": "array"})"));
    const auto problems = problems_of(R"({"a": [1, "x"]})", R"({"properties": {"a": {"items":
        {"type": "integer"}}}})");
    BOOST_TEST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].pointer == "/a/1");
    BOOST_TEST(problems[0].message == "is a string, not integer");
}

BOOST_AUTO_TEST_CASE(required_and_additional_properties) {
    const std::string schema = R"({"$ref": "#/components/schemas/Pair"})";
    BOOST_TEST(matches(R"({"id": "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01", "a/b~c": 1})", schema));
    const auto problems = problems_of(R"({"extra": 1, "a/b~c": "no"})", schema);
    BOOST_TEST(pointers_of(problems) == (std::vector<std::string>{"", "/extra", "/a~1b~0c"}),
               describe(problems));
    BOOST_TEST(problems[0].message == R"(lacks the required member "id")");
    BOOST_TEST(problems[1].message == "is a member the schema does not allow");
    // additionalProperties as a schema applies to the members not declared.
    const std::string map = R"({"type": "object", "additionalProperties": {"type": "string"}})";
    BOOST_TEST(matches(R"({"a": "1", "b": "2"})", map));
    BOOST_TEST(pointers_of(problems_of(R"({"a": "1", "b": 2})", map)) ==
               std::vector<std::string>{"/b"});
    BOOST_TEST(matches(R"({"b": 2})", R"({"additionalProperties": true})"));
}

BOOST_AUTO_TEST_CASE(enum_and_const_compare_json_values) {
    BOOST_TEST(matches(R"("TEXT")", R"({"enum": ["CALL", "TEXT"]})"));
    BOOST_TEST(!matches(R"("text")", R"({"enum": ["CALL", "TEXT"]})"));
    BOOST_TEST(matches("false", R"({"const": false})"));
    BOOST_TEST(!matches("0", R"({"const": false})"));
    BOOST_TEST(!matches("null", R"({"const": false})"));
    BOOST_TEST(matches("400.0", R"({"const": 400})"));  // numbers compare by value
    BOOST_TEST(matches(R"({"b": [1], "a": null})", R"({"const": {"a": null, "b": [1.0]}})"));
    BOOST_TEST(!matches(R"({"a": null})", R"({"const": {"a": null, "b": [1]}})"));
    const auto problems = problems_of("401", R"({"const": 400})");
    BOOST_TEST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].message == "is 401, not 400");
}

BOOST_AUTO_TEST_CASE(bounds_count_numbers_characters_items_and_members) {
    BOOST_TEST(matches("1", R"({"minimum": 1, "maximum": 100})"));
    BOOST_TEST(matches("100", R"({"minimum": 1, "maximum": 100})"));
    BOOST_TEST(!matches("0", R"({"minimum": 1})"));
    BOOST_TEST(!matches("100.5", R"({"maximum": 100})"));
    // Lengths are code points, not bytes: three two-byte characters are three long.
    BOOST_TEST(matches("\"\xc3\xa9\xc3\xa9\xc3\xa9\"", R"({"maxLength": 3})"));
    BOOST_TEST(!matches("\"\xc3\xa9\xc3\xa9\xc3\xa9\"", R"({"maxLength": 2})"));
    BOOST_TEST(!matches(R"("")", R"({"minLength": 1})"));
    BOOST_TEST(matches("[1, 2]", R"({"minItems": 2, "maxItems": 2})"));
    BOOST_TEST(!matches("[1, 2, 3]", R"({"maxItems": 2})"));
    BOOST_TEST(!matches("[]", R"({"minItems": 1})"));
    BOOST_TEST(matches(R"({"a": "1"})", R"({"maxProperties": 1})"));
    BOOST_TEST(!matches(R"({"a": "1", "b": "2"})", R"({"maxProperties": 1})"));
    BOOST_TEST(!matches("{}", R"({"minProperties": 1})"));
    // Bounds of one type do not apply to values of another.
    BOOST_TEST(matches(R"("long text")", R"({"maximum": 1, "maxItems": 0})"));
}

BOOST_AUTO_TEST_CASE(pattern_searches_code_points) {
    const std::string reason = R"({"pattern": "^[^\\x00-\\x1F\\x7F-\\x9F]*$"})";
    BOOST_TEST(matches(R"("RESOLVED")", reason));
    BOOST_TEST(matches("\"\xc4\x81\"", reason));  // U+0101: its second byte is 0x81
    BOOST_TEST(!matches(R"("a\u0001b")", reason));
    BOOST_TEST(!matches(R"("a\u0085b")", reason));  // a C1 control character
    BOOST_TEST(!matches(R"("a\u007fb")", reason));
    // Unanchored patterns search, as ECMA-262 does.
    BOOST_TEST(matches(R"("xxabcxx")", R"({"pattern": "abc"})"));
    BOOST_TEST(!matches(R"("xxabxx")", R"({"pattern": "abc"})"));
}

BOOST_AUTO_TEST_CASE(formats_uuid_and_date_time) {
    const std::string uuid = R"({"type": "string", "format": "uuid"})";
    BOOST_TEST(matches(R"("01a2241a-d992-753b-9179-af84e0df25e0")", uuid));
    BOOST_TEST(matches(R"("3F2A9C1E-7B4D-4E8A-9C2F-1A2B3C4D5E01")", uuid));
    for (const char* bad :
         {R"("3f2a9c1e7b4d4e8a9c2f1a2b3c4d5e01")", R"("{3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e01}")",
          R"("3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e0g")", R"("")"}) {
        BOOST_TEST(!matches(bad, uuid), bad);
    }
    const std::string time = R"({"type": "string", "format": "date-time"})";
    for (const char* good : {R"("2026-11-28T21:41:09.138Z")", R"("2026-11-28T21:41:09Z")",
                             R"("2026-11-28T10:00:00+01:00")", R"("2024-02-29T00:00:00Z")",
                             R"("2026-12-31t23:59:60z")"}) {
        BOOST_TEST(matches(good, time), good);
    }
    for (const char* bad :
         {R"("2023-02-29T00:00:00Z")", R"("2026-13-01T00:00:00Z")", R"("2026-11-28 21:41:09Z")",
          R"("2026-11-28T24:00:00Z")", R"("2026-11-28T21:41:09")", R"("2026-11-28")",
          R"("2026-11-28T21:41:09+0100")"}) {
        BOOST_TEST(!matches(bad, time), bad);
    }
    // A format says nothing about values of other types.
    BOOST_TEST(matches("null", R"({"type": ["string", "null"], "format": "uuid"})"));
}

BOOST_AUTO_TEST_CASE(all_of_any_of_one_of_and_property_names) {
    const std::string not_found = R"({"$ref": "#/components/schemas/NotFound"})";
    BOOST_TEST(matches(R"({"status": 404, "code": "NOT_FOUND"})", not_found));
    BOOST_TEST(pointers_of(problems_of(R"({"status": 400, "code": "NOT_FOUND"})", not_found)) ==
               std::vector<std::string>{"/status"});
    BOOST_TEST(pointers_of(problems_of(R"({"code": "NOT_FOUND"})", not_found)) ==
               std::vector<std::string>{""});

    const std::string any = R"({"anyOf": [{"type": "string"}, {"minimum": 10}]})";
    BOOST_TEST(matches(R"("x")", any));
    BOOST_TEST(matches("11", any));
    BOOST_TEST(!matches("9", any));

    const std::string one =
        R"({"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 10}]})";
    BOOST_TEST(matches("5", one));
    BOOST_TEST(matches("10.5", one));
    BOOST_TEST(!matches("11", one));      // both
    BOOST_TEST(!matches(R"("x")", one));  // neither

    const std::string names = R"({"propertyNames": {"minLength": 1, "maxLength": 3}})";
    BOOST_TEST(matches(R"({"abc": 1})", names));
    const auto problems = problems_of(R"({"": 1, "abcd": 2})", names);
    BOOST_TEST(pointers_of(problems) == (std::vector<std::string>{"/", "/abcd"}),
               describe(problems));
    BOOST_TEST(problems[0].message.find("its name") == 0u, problems[0].message);
}

BOOST_AUTO_TEST_CASE(boolean_schemas) {
    BOOST_TEST(matches("1", "true"));
    BOOST_TEST(!matches("1", "false"));
    BOOST_TEST(!matches(R"({"a": 1})", R"({"properties": {"a": false}})"));
}

BOOST_AUTO_TEST_CASE(annotations_are_ignored) {
    BOOST_TEST(matches(R"("x")", R"({"type": "string", "description": "d", "title": "t",
        "default": "y", "example": 1, "examples": [1], "deprecated": true, "readOnly": true,
        "writeOnly": false, "$comment": "c"})"));
}

BOOST_AUTO_TEST_CASE(anything_not_implemented_throws_even_where_the_value_does_not_reach) {
    // Each would change what matches; passing them silently would hide a real mismatch.
    for (const char* schema :
         {R"({"exclusiveMinimum": 1})", R"({"properties": {"absent": {"multipleOf": 2}}})",
          R"({"anyOf": [{"type": "string"}, {"dependentRequired": {}}]})",
          R"({"items": {"contains": {}}})", R"({"nullable": true})",
          R"({"discriminator": {"propertyName": "x"}})", R"({"type": "object",
             "patternProperties": {}})",
          R"({"format": "email"})", R"({"type": "float"})",
          R"({"$ref": "other.yaml#/components/schemas/Id"})", R"({"pattern": "("})",
          R"({"maxLength": -1})", R"({"items": [{"type": "string"}]})", R"([1])",
          R"({"additionalProperties": {"if": {}}})"}) {
        BOOST_TEST_CONTEXT("schema " << schema) {
            BOOST_CHECK_THROW(problems_of(R"("x")", schema), UnsupportedSchema);
        }
    }
    // Also behind a reference, and in the document's own components.
    json::value document = sample_document();
    document.at("components").at("schemas").as_object()["Odd"] =
        json::parse(R"({"type": "object", "properties": {"a": {"minContains": 1}}})");
    const JsonSchemaChecker checker(document);
    BOOST_CHECK_THROW(
        checker.check(json::parse("{}"), json::parse(R"({"$ref": "#/components/schemas/Odd"})")),
        UnsupportedSchema);
    // A reference that names nothing is an error too, not a pass.
    BOOST_CHECK_THROW(
        checker.check(json::parse("{}"), json::parse(R"({"$ref": "#/components/schemas/Gone"})")),
        std::out_of_range);
}

BOOST_AUTO_TEST_CASE(resolve_and_follow_walk_the_document) {
    const JsonSchemaChecker checker(sample_document());
    BOOST_TEST(checker.resolve("#/components/schemas/Pair/required/0") == json::value("id"));
    BOOST_TEST(checker.resolve("#/components/schemas/Pair/properties/a~1b~0c") ==
               json::parse(R"({"type": "integer"})"));
    BOOST_TEST(checker.resolve("#") == checker.document());
    const auto reference = json::parse(R"({"$ref": "#/components/schemas/Id",
                                           "description": "a sibling"})");
    BOOST_TEST(checker.follow(reference) == json::parse(R"({"type": "string", "format": "uuid"})"));
    const auto plain = json::parse(R"({"type": "string"})");
    BOOST_TEST(&checker.follow(plain) == &plain);
}

BOOST_AUTO_TEST_CASE(pointer_tokens_and_descriptions) {
    BOOST_TEST(pointer_token("a/b~c") == "a~1b~0c");
    BOOST_TEST(pointer_token("") == "");
    BOOST_TEST(describe({{"", "lacks x"}, {"/a/0", "is null"}}) ==
               "(root): lacks x\n/a/0: is null\n");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace threadsd::test::schema_checker_cases
