// tools/common/cli.hpp: command-line parsing shared by the jepa-* tools.
//
// Options may come in any order and mixed with positional arguments; each
// tool declares its options in a table (name, whether it takes a value, help
// text), so --help and the "unknown option" error come from the same list.
// "--name=value" and "--name value" are both accepted; "--" ends options.
// Also: comma-separated shape parsing ("2,3,4,48,48") and raw-array file I/O
// (little-endian f32 / i64 in C order, the golden data's format).
#ifndef JEPA_TOOLS_COMMON_CLI_HPP
#define JEPA_TOOLS_COMMON_CLI_HPP

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "jepa/status.hpp"

namespace jepa {
namespace cli {

struct OptionSpec {
  const char* name;       // without the leading "--" ("o" matches "-o")
  bool takes_value;
  const char* value_name;  // for --help ("FILE"); nullptr for flags
  const char* help;
};

class Args {
 public:
  // Parses argv[first..argc). Returns invalid_argument for an unknown option or
  // a missing value.
  static Result<Args> parse(int argc, char** argv, int first, const std::vector<OptionSpec>& specs) {
    Args a;
    bool options_done = false;
    for (int i = first; i < argc; ++i) {
      std::string arg = argv[i];
      if (options_done || arg.size() < 2 || arg[0] != '-' || is_number(arg)) {
        a.positional_.push_back(arg);
        continue;
      }
      if (arg == "--") { options_done = true; continue; }
      std::string name = arg[1] == '-' ? arg.substr(2) : arg.substr(1);
      std::string value;
      bool has_inline = false;
      const size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_inline = true;
      }
      const OptionSpec* spec = nullptr;
      for (const OptionSpec& s : specs)
        if (name == s.name) spec = &s;
      if (!spec) return Status::error(Error::invalid_argument, "unknown option '%s' (see --help)", arg.c_str());
      if (spec->takes_value && !has_inline) {
        if (i + 1 >= argc) return Status::error(Error::invalid_argument, "option '%s' needs a value", arg.c_str());
        value = argv[++i];
      } else if (!spec->takes_value && has_inline) {
        return Status::error(Error::invalid_argument, "option '--%s' takes no value", name.c_str());
      }
      a.options_.emplace_back(name, value);
    }
    return a;
  }

  const std::vector<std::string>& positional() const { return positional_; }
  bool has(const char* name) const {
    for (const auto& o : options_)
      if (o.first == name) return true;
    return false;
  }
  // The last value given for `name`, or `fallback`.
  std::string get(const char* name, const std::string& fallback = "") const {
    std::string v = fallback;
    for (const auto& o : options_)
      if (o.first == name) v = o.second;
    return v;
  }

 private:
  static bool is_number(const std::string& s) {  // "-1" is a value, not an option
    return s.size() > 1 && s[0] == '-' && (s[1] >= '0' && s[1] <= '9');
  }
  std::vector<std::string> positional_;
  std::vector<std::pair<std::string, std::string>> options_;
};

inline void print_options(FILE* out, const std::vector<OptionSpec>& specs) {
  for (const OptionSpec& s : specs) {
    std::string left = std::string(std::strlen(s.name) == 1 ? "-" : "--") + s.name;
    if (s.takes_value) left += std::string(" ") + (s.value_name ? s.value_name : "VALUE");
    std::fprintf(out, "  %-26s %s\n", left.c_str(), s.help);
  }
}

// "2,3,4" -> {2,3,4}; every entry a positive integer.
inline Result<std::vector<int64_t>> parse_shape(const std::string& text, const char* what) {
  std::vector<int64_t> dims;
  size_t pos = 0;
  if (text.empty()) return Status::error(Error::invalid_argument, "%s: empty shape", what);
  while (pos <= text.size()) {
    const size_t comma = text.find(',', pos);
    const std::string tok = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(tok.c_str(), &end, 10);
    if (tok.empty() || *end != '\0' || errno != 0 || v <= 0)
      return Status::error(Error::invalid_argument, "%s: '%s' is not a list of positive integers like 2,3,4", what,
                           text.c_str());
    dims.push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return dims;
}

inline Result<int64_t> parse_int(const std::string& text, const char* what) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0)
    return Status::error(Error::invalid_argument, "%s: '%s' is not an integer", what, text.c_str());
  return (int64_t)v;
}

inline int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

inline std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s;
}

// ---- raw arrays ---------------------------------------------------------

inline Result<std::vector<uint8_t>> read_bytes(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::error(Error::io, "cannot open '%s'", path.c_str());
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.insert(out.end(), buf, buf + n);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) return Status::error(Error::io, "read of '%s' failed", path.c_str());
  return out;
}

inline Status write_bytes(const std::string& path, const void* data, size_t bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Status::error(Error::io, "cannot create '%s'", path.c_str());
  const size_t n = bytes ? std::fwrite(data, 1, bytes, f) : 0;
  const bool bad = n != bytes || std::fclose(f) != 0;
  if (bad) return Status::error(Error::io, "write of '%s' failed", path.c_str());
  return Status::ok();
}

// A raw array of T whose element count must be `expect` (when >= 0). The error
// names the file, its size, and the shape it should have.
template <class T>
Status read_array(const std::string& path, int64_t expect, const std::string& shape_desc, std::vector<T>* out) {
  Result<std::vector<uint8_t>> b = read_bytes(path);
  if (!b) return b.status();
  if (b->size() % sizeof(T) != 0 || (expect >= 0 && (int64_t)b->size() != expect * (int64_t)sizeof(T)))
    return Status::error(Error::shape_mismatch, "'%s' is %zu bytes; shape [%s] of %zu-byte elements needs %lld",
                         path.c_str(), b->size(), shape_desc.c_str(), sizeof(T),
                         (long long)(expect * (int64_t)sizeof(T)));
  out->resize(b->size() / sizeof(T));
  if (!b->empty()) std::memcpy(out->data(), b->data(), b->size());
  return Status::ok();
}

inline size_t file_size_or_zero(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return 0;
  std::fseek(f, 0, SEEK_END);
  const long n = std::ftell(f);
  std::fclose(f);
  return n > 0 ? (size_t)n : 0;
}

}  // namespace cli
}  // namespace jepa

#endif  // JEPA_TOOLS_COMMON_CLI_HPP
