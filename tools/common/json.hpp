// tools/common/json.hpp: a small, strict JSON (RFC 8259) parser and writer for
// the host tools: config.json, manifest.json and safetensors headers.
//
// Strict means: no comments, no trailing commas, no NaN/Infinity, no leading
// zeros, no unescaped control characters, valid UTF-8 only, no duplicate
// object keys, and nothing but whitespace after the top-level value. Every
// error is a jepa::Status (Error::bad_checkpoint) naming the byte offset and
// line:column. Unlike the library this code allocates (std::string/vector);
// it is for tools and tests, never for the inference path.
#ifndef JEPA_TOOLS_COMMON_JSON_HPP
#define JEPA_TOOLS_COMMON_JSON_HPP

#include <cerrno>
#include <cstdarg>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "jepa/status.hpp"

namespace jepa {
namespace json {

enum class Type : uint8_t { null, boolean, number, string, array, object };

inline const char* type_name(Type t) {
  switch (t) {
    case Type::null: return "null";
    case Type::boolean: return "boolean";
    case Type::number: return "number";
    case Type::string: return "string";
    case Type::array: return "array";
    case Type::object: return "object";
  }
  return "?";
}

// One JSON value. Objects keep their members in file order.
class Value {
 public:
  using Member = std::pair<std::string, Value>;

  Value() = default;  // null
  static Value make_bool(bool b) { Value v; v.type_ = Type::boolean; v.bool_ = b; return v; }
  static Value make_number(double d) { Value v; v.type_ = Type::number; v.num_ = d; return v; }
  static Value make_int(int64_t i) {
    Value v;
    v.type_ = Type::number;
    v.num_ = (double)i;
    v.int_ = i;
    v.is_int_ = true;
    return v;
  }
  static Value make_string(std::string s) { Value v; v.type_ = Type::string; v.str_ = std::move(s); return v; }
  static Value make_array() { Value v; v.type_ = Type::array; return v; }
  static Value make_object() { Value v; v.type_ = Type::object; return v; }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_bool() const { return type_ == Type::boolean; }
  bool is_number() const { return type_ == Type::number; }
  // A number written without fraction or exponent that fits in int64.
  bool is_integer() const { return type_ == Type::number && is_int_; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }

  // Accessors assume the type was checked (they return a neutral value if not).
  bool as_bool() const { return type_ == Type::boolean && bool_; }
  double as_number() const { return type_ == Type::number ? num_ : 0.0; }
  int64_t as_int() const { return is_int_ ? int_ : (int64_t)num_; }
  const std::string& as_string() const { return str_; }
  const std::vector<Value>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }
  size_t size() const { return type_ == Type::array ? items_.size() : members_.size(); }
  const Value& operator[](size_t i) const { return items_[i]; }

  // Object member by key, or nullptr (also for a non-object).
  const Value* find(const char* key) const {
    if (type_ != Type::object) return nullptr;
    for (const Member& m : members_)
      if (m.first == key) return &m.second;
    return nullptr;
  }

  // Building (used by the parser and by writers).
  void push(Value v) { items_.push_back(std::move(v)); }
  void set(std::string key, Value v) {
    for (Member& m : members_)
      if (m.first == key) { m.second = std::move(v); return; }
    members_.emplace_back(std::move(key), std::move(v));
  }

 private:
  friend class Parser;
  Type type_ = Type::null;
  bool bool_ = false;
  bool is_int_ = false;
  double num_ = 0.0;
  int64_t int_ = 0;
  std::string str_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

// Recursive-descent parser over a byte range. Depth-limited so a hostile
// "[[[[..." cannot overflow the stack.
class Parser {
 public:
  static constexpr int kMaxDepth = 256;

  Parser(const char* text, size_t size) : p_(text), begin_(text), end_(text + size) {}

  Result<Value> parse_document() {
    skip_ws();
    Value v;
    Status s = parse_value(v, 0);
    if (!s.is_ok()) return s;
    skip_ws();
    if (p_ != end_) return fail("unexpected '%s' after the JSON value", show(*p_));
    return v;
  }

 private:
  const char* p_;
  const char* begin_;
  const char* end_;
  char show_buf_[8] = {0};

  // Printable form of a byte for messages.
  const char* show(char c) {
    const unsigned char u = (unsigned char)c;
    if (u >= 0x20 && u < 0x7f) std::snprintf(show_buf_, sizeof(show_buf_), "%c", c);
    else std::snprintf(show_buf_, sizeof(show_buf_), "\\x%02x", u);
    return show_buf_;
  }

#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  Status fail(const char* fmt, ...) {
    char what[140];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(what, sizeof(what), fmt, args);
    va_end(args);
    size_t line = 1, col = 1;
    for (const char* q = begin_; q < p_ && q < end_; ++q) {
      if (*q == '\n') { ++line; col = 1; } else { ++col; }
    }
    return Status::error(Error::bad_checkpoint, "JSON error at byte %zu (line %zu, column %zu): %s",
                         (size_t)(p_ - begin_), line, col, what);
  }

  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(const char* word) {
    const size_t n = std::strlen(word);
    if ((size_t)(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  Status parse_value(Value& out, int depth) {
    if (depth > kMaxDepth) return fail("nesting deeper than %d", kMaxDepth);
    if (p_ == end_) return fail("unexpected end of input, a value was expected");
    switch (*p_) {
      case '{': return parse_object(out, depth);
      case '[': return parse_array(out, depth);
      case '"': out.type_ = Type::string; return parse_string(out.str_);
      case 't':
        if (literal("true")) { out = Value::make_bool(true); return Status::ok(); }
        break;
      case 'f':
        if (literal("false")) { out = Value::make_bool(false); return Status::ok(); }
        break;
      case 'n':
        if (literal("null")) { out = Value(); return Status::ok(); }
        break;
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return parse_number(out);
    }
    return fail("unexpected '%s', a value was expected", show(*p_));
  }

  Status parse_object(Value& out, int depth) {
    out = Value::make_object();
    std::unordered_set<std::string> seen;
    ++p_;  // '{'
    skip_ws();
    if (p_ < end_ && *p_ == '}') { ++p_; return Status::ok(); }
    for (;;) {
      skip_ws();
      if (p_ == end_ || *p_ != '"') return p_ == end_ ? fail("unterminated object") : fail("object key must be a string");
      std::string key;
      JEPA_RETURN_IF_ERROR(parse_string(key));
      // A set, not a scan of the members: a hostile header may hold a million keys.
      if (!seen.insert(key).second) return fail("duplicate key \"%.60s\"", key.c_str());
      skip_ws();
      if (p_ == end_ || *p_ != ':') return fail("':' expected after key \"%.60s\"", key.c_str());
      ++p_;
      skip_ws();
      Value v;
      JEPA_RETURN_IF_ERROR(parse_value(v, depth + 1));
      out.members_.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (p_ == end_) return fail("unterminated object");
      if (*p_ == ',') { ++p_; continue; }
      if (*p_ == '}') { ++p_; return Status::ok(); }
      return fail("',' or '}' expected in object, got '%s'", show(*p_));
    }
  }

  Status parse_array(Value& out, int depth) {
    out = Value::make_array();
    ++p_;  // '['
    skip_ws();
    if (p_ < end_ && *p_ == ']') { ++p_; return Status::ok(); }
    for (;;) {
      skip_ws();
      Value v;
      JEPA_RETURN_IF_ERROR(parse_value(v, depth + 1));
      out.items_.push_back(std::move(v));
      skip_ws();
      if (p_ == end_) return fail("unterminated array");
      if (*p_ == ',') { ++p_; continue; }
      if (*p_ == ']') { ++p_; return Status::ok(); }
      return fail("',' or ']' expected in array, got '%s'", show(*p_));
    }
  }

  static void append_utf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s += (char)cp;
    } else if (cp < 0x800) {
      s += (char)(0xC0 | (cp >> 6));
      s += (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += (char)(0xE0 | (cp >> 12));
      s += (char)(0x80 | ((cp >> 6) & 0x3F));
      s += (char)(0x80 | (cp & 0x3F));
    } else {
      s += (char)(0xF0 | (cp >> 18));
      s += (char)(0x80 | ((cp >> 12) & 0x3F));
      s += (char)(0x80 | ((cp >> 6) & 0x3F));
      s += (char)(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(uint32_t* out) {
    if (end_ - p_ < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = p_[i];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
      else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
      else return false;
    }
    p_ += 4;
    *out = v;
    return true;
  }

  Status parse_escape(std::string& s) {
    // p_ is just past the backslash.
    if (p_ == end_) return fail("unterminated escape");
    const char c = *p_++;
    switch (c) {
      case '"': s += '"'; return Status::ok();
      case '\\': s += '\\'; return Status::ok();
      case '/': s += '/'; return Status::ok();
      case 'b': s += '\b'; return Status::ok();
      case 'f': s += '\f'; return Status::ok();
      case 'n': s += '\n'; return Status::ok();
      case 'r': s += '\r'; return Status::ok();
      case 't': s += '\t'; return Status::ok();
      case 'u': break;
      default: --p_; return fail("invalid escape '\\%s'", show(c));
    }
    uint32_t cp = 0;
    if (!hex4(&cp)) return fail("\\u needs 4 hex digits");
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone low surrogate \\u%04x", cp);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t lo = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return fail("high surrogate \\u%04x without a low one", cp);
      p_ += 2;
      if (!hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return fail("high surrogate \\u%04x without a low one", cp);
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    append_utf8(s, cp);
    return Status::ok();
  }

  // Length of the valid UTF-8 sequence at p_ (lead byte >= 0x80), or 0.
  size_t utf8_len() const {
    const unsigned char* u = reinterpret_cast<const unsigned char*>(p_);
    const size_t avail = (size_t)(end_ - p_);
    size_t n = 0;
    uint32_t cp = 0, min = 0;
    if (u[0] >= 0xC2 && u[0] <= 0xDF) { n = 2; cp = u[0] & 0x1F; min = 0x80; }
    else if (u[0] >= 0xE0 && u[0] <= 0xEF) { n = 3; cp = u[0] & 0x0F; min = 0x800; }
    else if (u[0] >= 0xF0 && u[0] <= 0xF4) { n = 4; cp = u[0] & 0x07; min = 0x10000; }
    else return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; ++i) {
      if ((u[i] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (u[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
  }

  Status parse_string(std::string& s) {
    ++p_;  // opening quote
    s.clear();
    for (;;) {
      if (p_ == end_) return fail("unterminated string");
      const unsigned char c = (unsigned char)*p_;
      if (c == '"') { ++p_; return Status::ok(); }
      if (c == '\\') { ++p_; JEPA_RETURN_IF_ERROR(parse_escape(s)); continue; }
      if (c < 0x20) return fail("unescaped control character %s in string", show((char)c));
      if (c < 0x80) { s += (char)c; ++p_; continue; }
      const size_t n = utf8_len();
      if (n == 0) return fail("invalid UTF-8 byte %s in string", show((char)c));
      s.append(p_, n);
      p_ += n;
    }
  }

  Status parse_number(Value& out) {
    const char* start = p_;
    bool integral = true;
    if (*p_ == '-') ++p_;
    if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) return fail("digit expected in number");
    if (*p_ == '0') {
      ++p_;
      if (p_ < end_ && *p_ >= '0' && *p_ <= '9') return fail("leading zero in number");
    } else {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) return fail("digit expected after '.'");
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) return fail("digit expected in exponent");
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    // strtod needs a NUL-terminated copy (the input need not be terminated).
    const std::string tok(start, (size_t)(p_ - start));
    errno = 0;
    const double d = std::strtod(tok.c_str(), nullptr);
    if (!std::isfinite(d)) { p_ = start; return fail("number %.40s is out of range", tok.c_str()); }
    out = Value::make_number(d);
    if (integral) {
      errno = 0;
      const long long ll = std::strtoll(tok.c_str(), nullptr, 10);
      if (errno == 0) { out.is_int_ = true; out.int_ = (int64_t)ll; }
    }
    return Status::ok();
  }
};

inline Result<Value> parse(const char* text, size_t size) { return Parser(text, size).parse_document(); }
inline Result<Value> parse(const std::string& text) { return parse(text.data(), text.size()); }

// Whole file -> bytes (tools only). Error::io naming the path.
inline Status read_file(const std::string& path, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::error(Error::io, "cannot open '%s'", path.c_str());
  out->clear();
  char buf[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out->append(buf, n);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) return Status::error(Error::io, "read of '%s' failed", path.c_str());
  return Status::ok();
}

inline Result<Value> parse_file(const std::string& path) {
  std::string text;
  Status s = read_file(path, &text);
  if (!s.is_ok()) return s;
  Result<Value> v = parse(text);
  if (!v) return Status::error(v.status().code(), "%s: %s", path.c_str(), v.status().message());
  return v;
}

// ---- typed lookups with errors that name the key ------------------------
// `where` is a short description of the object for messages ("config.json
// components.encoder.kwargs"). All return Error::bad_checkpoint.

inline Result<const Value*> member(const Value& obj, const char* key, Type want, const char* where) {
  if (!obj.is_object()) return Status::error(Error::bad_checkpoint, "%s is not a JSON object", where);
  const Value* v = obj.find(key);
  if (!v) return Status::error(Error::bad_checkpoint, "%s: key \"%s\" is missing", where, key);
  if (v->type() != want)
    return Status::error(Error::bad_checkpoint, "%s: \"%s\" is a %s, a %s was expected", where, key,
                         type_name(v->type()), type_name(want));
  return v;
}

inline Result<int64_t> get_int(const Value& obj, const char* key, const char* where) {
  Result<const Value*> v = member(obj, key, Type::number, where);
  if (!v) return v.status();
  if (!(*v)->is_integer())
    return Status::error(Error::bad_checkpoint, "%s: \"%s\" = %g is not an integer", where, key, (*v)->as_number());
  return (*v)->as_int();
}

inline Result<double> get_number(const Value& obj, const char* key, const char* where) {
  Result<const Value*> v = member(obj, key, Type::number, where);
  if (!v) return v.status();
  return (*v)->as_number();
}

inline Result<bool> get_bool(const Value& obj, const char* key, const char* where) {
  Result<const Value*> v = member(obj, key, Type::boolean, where);
  if (!v) return v.status();
  return (*v)->as_bool();
}

inline Result<std::string> get_string(const Value& obj, const char* key, const char* where) {
  Result<const Value*> v = member(obj, key, Type::string, where);
  if (!v) return v.status();
  return (*v)->as_string();
}

// An array of integers (e.g. a shape), each >= min_value.
inline Result<std::vector<int64_t>> get_ints(const Value& obj, const char* key, const char* where,
                                              int64_t min_value = INT64_MIN) {
  Result<const Value*> v = member(obj, key, Type::array, where);
  if (!v) return v.status();
  std::vector<int64_t> out;
  for (size_t i = 0; i < (*v)->size(); ++i) {
    const Value& e = (**v)[i];
    if (!e.is_integer() || e.as_int() < min_value)
      return Status::error(Error::bad_checkpoint, "%s: \"%s\"[%zu] is not an integer >= %lld", where, key, i,
                           (long long)min_value);
    out.push_back(e.as_int());
  }
  return out;
}

// ---- writing ------------------------------------------------------------

// s as a JSON string literal (quotes included); bytes >= 0x80 pass through.
inline std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const unsigned char c = (unsigned char)ch;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

// Compact serialisation (members in stored order). Non-finite numbers, which
// JSON cannot hold, are written as null.
inline void dump(const Value& v, std::string& out) {
  switch (v.type()) {
    case Type::null: out += "null"; return;
    case Type::boolean: out += v.as_bool() ? "true" : "false"; return;
    case Type::number: {
      char buf[32];
      if (v.is_integer()) std::snprintf(buf, sizeof(buf), "%lld", (long long)v.as_int());
      else if (!std::isfinite(v.as_number())) std::snprintf(buf, sizeof(buf), "null");
      else std::snprintf(buf, sizeof(buf), "%.17g", v.as_number());
      out += buf;
      return;
    }
    case Type::string: out += quote(v.as_string()); return;
    case Type::array:
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        dump(v[i], out);
      }
      out += ']';
      return;
    case Type::object:
      out += '{';
      for (size_t i = 0; i < v.members().size(); ++i) {
        if (i) out += ',';
        out += quote(v.members()[i].first);
        out += ':';
        dump(v.members()[i].second, out);
      }
      out += '}';
      return;
  }
}

inline std::string dump(const Value& v) {
  std::string s;
  dump(v, s);
  return s;
}

}  // namespace json
}  // namespace jepa

#endif  // JEPA_TOOLS_COMMON_JSON_HPP
