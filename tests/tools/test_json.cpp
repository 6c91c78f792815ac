// Tests of tools/common/json.hpp: the strict JSON parser used by the
// converter and verifier for config.json, manifest.json and safetensors headers.
#include <doctest/doctest.h>

#include <string>

#include "tools/common/json.hpp"

namespace json = jepa::json;

namespace {

json::Value parse_ok(const std::string& text) {
  auto r = json::parse(text);
  REQUIRE_MESSAGE(r.is_ok(), text << " -> " << r.status().message());
  return r.value();
}

// The parse must fail with bad_checkpoint and a message naming the position.
std::string parse_fail(const std::string& text) {
  auto r = json::parse(text);
  REQUIRE_MESSAGE(!r.is_ok(), "should fail: " << text);
  CHECK(r.status().code() == jepa::Error::bad_checkpoint);
  const std::string msg = r.status().message();
  CHECK_MESSAGE(msg.find("byte") != std::string::npos, msg);
  return msg;
}

}  // namespace

TEST_CASE("json: scalars") {
  CHECK(parse_ok("null").is_null());
  CHECK(parse_ok(" true ").as_bool() == true);
  CHECK(parse_ok("false").is_bool());
  CHECK(parse_ok("false").as_bool() == false);
  CHECK(parse_ok("0").is_integer());
  CHECK(parse_ok("-0").as_int() == 0);
  CHECK(parse_ok("123456789012345").as_int() == 123456789012345LL);
  CHECK(parse_ok("-9223372036854775808").as_int() == INT64_MIN);
  CHECK(parse_ok("1.5").as_number() == 1.5);
  CHECK_FALSE(parse_ok("1.5").is_integer());
  CHECK(parse_ok("1e-06").as_number() == doctest::Approx(1e-6).epsilon(1e-15));
  CHECK(parse_ok("2.5E+3").as_number() == 2500.0);
  CHECK_FALSE(parse_ok("1e2").is_integer());  // an exponent makes it a float, as Python reads it
  CHECK(parse_ok("-0.125e1").as_number() == -1.25);
  // Too large for int64: still a number, but not an integer.
  json::Value big = parse_ok("18446744073709551616");
  CHECK(big.is_number());
  CHECK_FALSE(big.is_integer());
}

TEST_CASE("json: strings and escapes") {
  CHECK(parse_ok("\"abc\"").as_string() == "abc");
  CHECK(parse_ok("\"a\\\"b\\\\c\\/d\"").as_string() == "a\"b\\c/d");
  CHECK(parse_ok("\"\\b\\f\\n\\r\\t\"").as_string() == "\b\f\n\r\t");
  CHECK(parse_ok("\"\\u0041\\u00e9\"").as_string() == "A\xc3\xa9");
  CHECK(parse_ok("\"\\u20ac\"").as_string() == "\xe2\x82\xac");
  CHECK(parse_ok("\"\\ud83d\\ude00\"").as_string() == "\xf0\x9f\x98\x80");  // surrogate pair
  CHECK(parse_ok("\"caf\xc3\xa9\"").as_string() == "caf\xc3\xa9");      // raw UTF-8 passes
}

TEST_CASE("json: arrays and objects") {
  json::Value v = parse_ok(R"({"a": [1, 2, {"b": null}], "c": {"d": "e"}, "f": []})");
  REQUIRE(v.is_object());
  CHECK(v.members().size() == 3);
  CHECK(v.members()[0].first == "a");  // file order kept
  const json::Value* a = v.find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->is_array());
  CHECK(a->size() == 3);
  CHECK((*a)[1].as_int() == 2);
  CHECK((*a)[2].find("b")->is_null());
  CHECK(v.find("c")->find("d")->as_string() == "e");
  CHECK(v.find("f")->size() == 0);
  CHECK(v.find("zz") == nullptr);
  CHECK(parse_ok("{}").is_object());
  CHECK(parse_ok("[[],[[]]]").size() == 2);
}

TEST_CASE("json: typed lookups name the key") {
  json::Value v = parse_ok(R"({"depth": 2, "eps": 1e-6, "name": "x", "shape": [3, 4], "on": true, "bad": [1, -2]})");
  CHECK(json::get_int(v, "depth", "cfg").value() == 2);
  CHECK(json::get_number(v, "eps", "cfg").value() == doctest::Approx(1e-6));
  CHECK(json::get_string(v, "name", "cfg").value() == "x");
  CHECK(json::get_bool(v, "on", "cfg").value());
  CHECK(json::get_ints(v, "shape", "cfg", 0).value() == std::vector<int64_t>{3, 4});
  auto missing = json::get_int(v, "width", "cfg");
  REQUIRE_FALSE(missing.is_ok());
  CHECK(std::string(missing.status().message()).find("\"width\" is missing") != std::string::npos);
  auto wrong = json::get_int(v, "name", "cfg");
  REQUIRE_FALSE(wrong.is_ok());
  CHECK(std::string(wrong.status().message()).find("string") != std::string::npos);
  CHECK_FALSE(json::get_int(v, "eps", "cfg").is_ok());           // 1e-6 is not an integer
  CHECK_FALSE(json::get_ints(v, "bad", "cfg", 0).is_ok());       // -2 < 0
}

TEST_CASE("json: invalid documents are rejected with a position") {
  parse_fail("");
  parse_fail("   ");
  parse_fail("{");
  parse_fail("[1, 2");
  parse_fail("[1, 2,]");          // trailing comma
  parse_fail("{\"a\": 1,}");
  parse_fail("{\"a\" 1}");
  parse_fail("{a: 1}");           // unquoted key
  parse_fail("{\"a\": 1, \"a\": 2}");  // duplicate key
  parse_fail("01");               // leading zero
  parse_fail("1.");
  parse_fail(".5");
  parse_fail("1e");
  parse_fail("+1");
  parse_fail("-");
  parse_fail("NaN");
  parse_fail("Infinity");
  parse_fail("1e999");            // not finite
  parse_fail("tru");
  parse_fail("nul");
  parse_fail("\"abc");            // unterminated
  parse_fail("\"a\nb\"");         // raw control character
  parse_fail("\"\\x\"");          // bad escape
  parse_fail("\"\\u12\"");
  parse_fail("\"\\ud800\"");      // lone high surrogate
  parse_fail("\"\\udc00\"");      // lone low surrogate
  parse_fail("\"\xff\"");         // invalid UTF-8
  parse_fail("\"\xc0\x80\"");     // overlong
  parse_fail("\"\xed\xa0\x80\""); // encoded surrogate
  parse_fail("1 2");              // trailing garbage
  parse_fail("{} // comment");
  parse_fail(std::string("[1]\0", 4));  // embedded NUL after the value
}

TEST_CASE("json: error position is line and column") {
  const std::string msg = parse_fail("{\n  \"a\": [1,\n   2,, 3]\n}");
  CHECK_MESSAGE(msg.find("line 3") != std::string::npos, msg);
  CHECK_MESSAGE(msg.find("column 6") != std::string::npos, msg);
}

TEST_CASE("json: nesting depth is bounded") {
  std::string deep(100000, '[');
  auto r = json::parse(deep);
  REQUIRE_FALSE(r.is_ok());
  CHECK(std::string(r.status().message()).find("nesting") != std::string::npos);
  std::string ok = std::string(100, '[') + std::string(100, ']');
  CHECK(json::parse(ok).is_ok());
}

TEST_CASE("json: the input need not be NUL-terminated") {
  const char buf[] = {'1', '2', '3', '4'};
  auto r = json::parse(buf, 2);
  REQUIRE(r.is_ok());
  CHECK(r->as_int() == 12);
}

TEST_CASE("json: dump and parse round trip") {
  const std::string text = R"({"a":[1,-2.5,true,false,null],"s":"q\"\\\n\u0001","o":{}})";
  json::Value v = parse_ok(text);
  const std::string out = json::dump(v);
  json::Value w = parse_ok(out);
  CHECK(json::dump(w) == out);
  CHECK(w.find("s")->as_string() == "q\"\\\n\x01");
  CHECK(json::quote("a\tb") == "\"a\\tb\"");
}
