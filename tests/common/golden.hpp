// tests/common/golden.hpp: reading the golden reference directories
// (tests/data/<config>/, copied from /work/shared/golden) for the model tests.
//
// - a small strict JSON reader for manifest.json and config.json;
// - raw little-endian .bin arrays (f32 / i64 / u8) with their manifest entry
//   (shape, role, fp32 tolerance);
// - a minimal safetensors reader and make_model_file(): the weights of one
//   component ("encoder.", "predictor.") written as an in-memory .jepa file
//   with format::Writer, driven by the model's for_each_tensor and
//   write_hparams (the same path the converter takes);
// - compare(): the manifest rule |x - ref| <= atol + rtol*|ref| elementwise,
//   reporting max abs error, rel L2, cosine and the worst error/tolerance ratio.
// Test-only code: it allocates freely.
#ifndef JEPA_TESTS_COMMON_GOLDEN_HPP
#define JEPA_TESTS_COMMON_GOLDEN_HPP

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "jepa/format/model_file.hpp"
#include "jepa/format/writer.hpp"
#include "jepa/models/common.hpp"

namespace golden {

// ---------------------------------------------------------------- JSON
struct Json {
  enum Type { null, boolean, number, string, array, object } type = null;
  bool b = false;
  double num = 0.0;
  std::string str;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* get(const char* key) const {
    for (const auto& m : members)
      if (m.first == key) return &m.second;
    return nullptr;
  }
  const Json& operator[](const char* key) const {
    static const Json none;
    const Json* j = get(key);
    return j ? *j : none;
  }
  int64_t as_int() const { return (int64_t)num; }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : p_(s.c_str()), end_(s.c_str() + s.size()) {}
  bool parse(Json* out, std::string* err) {
    bool ok = value(out) && (ws(), p_ == end_);
    if (!ok && err) *err = "JSON error near: " + std::string(p_, std::min<size_t>(40, (size_t)(end_ - p_)));
    return ok;
  }

 private:
  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool lit(const char* w) {
    const size_t n = std::strlen(w);
    if ((size_t)(end_ - p_) < n || std::strncmp(p_, w, n) != 0) return false;
    p_ += n;
    return true;
  }
  bool str(std::string* s) {
    if (p_ >= end_ || *p_ != '"') return false;
    ++p_;
    while (p_ < end_ && *p_ != '"') {
      if (*p_ == '\\') {
        if (++p_ >= end_) return false;
        const char c = *p_++;
        switch (c) {
          case 'n': s->push_back('\n'); break;
          case 't': s->push_back('\t'); break;
          case 'r': s->push_back('\r'); break;
          case 'b': s->push_back('\b'); break;
          case 'f': s->push_back('\f'); break;
          case 'u': {  // enough for the ASCII the goldens use
            if (end_ - p_ < 4) return false;
            s->push_back((char)std::strtol(std::string(p_, 4).c_str(), nullptr, 16));
            p_ += 4;
            break;
          }
          default: s->push_back(c);
        }
      } else {
        s->push_back(*p_++);
      }
    }
    if (p_ >= end_) return false;
    ++p_;
    return true;
  }
  bool value(Json* v) {
    ws();
    if (p_ >= end_) return false;
    if (*p_ == '{') {
      ++p_;
      v->type = Json::object;
      ws();
      if (p_ < end_ && *p_ == '}') return ++p_, true;
      for (;;) {
        std::pair<std::string, Json> m;
        ws();
        if (!str(&m.first)) return false;
        ws();
        if (p_ >= end_ || *p_++ != ':') return false;
        if (!value(&m.second)) return false;
        v->members.push_back(std::move(m));
        ws();
        if (p_ < end_ && *p_ == ',') { ++p_; continue; }
        if (p_ < end_ && *p_ == '}') return ++p_, true;
        return false;
      }
    }
    if (*p_ == '[') {
      ++p_;
      v->type = Json::array;
      ws();
      if (p_ < end_ && *p_ == ']') return ++p_, true;
      for (;;) {
        Json item;
        if (!value(&item)) return false;
        v->items.push_back(std::move(item));
        ws();
        if (p_ < end_ && *p_ == ',') { ++p_; continue; }
        if (p_ < end_ && *p_ == ']') return ++p_, true;
        return false;
      }
    }
    if (*p_ == '"') {
      v->type = Json::string;
      return str(&v->str);
    }
    if (lit("true")) { v->type = Json::boolean; v->b = true; return true; }
    if (lit("false")) { v->type = Json::boolean; return true; }
    if (lit("null")) { v->type = Json::null; return true; }
    char* e = nullptr;
    v->num = std::strtod(p_, &e);
    if (e == p_) return false;
    v->type = Json::number;
    p_ = e;
    return true;
  }
  const char* p_;
  const char* end_;
};

inline bool read_file(const std::string& path, std::string* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out->append(buf, n);
  std::fclose(f);
  return true;
}

inline bool read_json(const std::string& path, Json* out, std::string* err) {
  std::string text;
  if (!read_file(path, &text)) {
    *err = "cannot read " + path;
    return false;
  }
  return JsonParser(text).parse(out, err);
}

// ---------------------------------------------------------------- arrays
struct Array {
  std::string name, dtype, role;
  std::vector<int64_t> shape;
  std::vector<float> f;      // dtype f32
  std::vector<int64_t> i;    // dtype i64
  std::vector<uint8_t> u8;   // dtype u8
  double atol = 0.0, rtol = 0.0;  // manifest tolerance.fp32 (expected / intermediate)
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// One golden config directory.
struct Dir {
  std::string path;
  Json manifest, config;
  std::string error;

  bool open(const std::string& p) {
    path = p;
    return read_json(path + "/manifest.json", &manifest, &error) && read_json(path + "/config.json", &config, &error);
  }

  bool load(const std::string& name, Array* a) {
    const Json& tensors = manifest["tensors"];
    for (const Json& t : tensors.items) {
      if (t["name"].str != name) continue;
      a->name = name;
      a->dtype = t["dtype"].str;
      a->role = t["role"].str;
      a->shape.clear();
      for (const Json& d : t["shape"].items) a->shape.push_back(d.as_int());
      const Json* tol = t["tolerance"].get("fp32");
      if (tol) {
        a->atol = (*tol)["atol"].num;
        a->rtol = (*tol)["rtol"].num;
      }
      std::string bytes;
      if (!read_file(path + "/" + t["file"].str, &bytes)) {
        error = "cannot read " + t["file"].str;
        return false;
      }
      const size_t n = (size_t)a->numel();
      const size_t esize = a->dtype == "f32" ? 4 : a->dtype == "i64" ? 8 : 1;
      if (bytes.size() != n * esize) {
        error = name + ": file size does not match its shape";
        return false;
      }
      if (a->dtype == "f32") {
        a->f.resize(n);
        std::memcpy(a->f.data(), bytes.data(), bytes.size());
      } else if (a->dtype == "i64") {
        a->i.resize(n);
        std::memcpy(a->i.data(), bytes.data(), bytes.size());
      } else {
        a->u8.assign(bytes.begin(), bytes.end());
      }
      return true;
    }
    error = "no tensor '" + name + "' in the manifest";
    return false;
  }
};

// ---------------------------------------------------------------- safetensors
struct Safetensors {
  struct Tensor {
    std::vector<int64_t> shape;
    std::vector<float> data;  // F32 only (the goldens are float32)
  };
  std::map<std::string, Tensor> tensors;
  std::string error;

  bool open(const std::string& path) {
    std::string bytes;
    if (!read_file(path, &bytes) || bytes.size() < 8) return error = "cannot read " + path, false;
    uint64_t hlen = 0;
    std::memcpy(&hlen, bytes.data(), 8);
    if (hlen > bytes.size() - 8) return error = "bad header length", false;
    Json header;
    if (!JsonParser(bytes.substr(8, (size_t)hlen)).parse(&header, &error)) return false;
    const size_t base = 8 + (size_t)hlen;
    for (const auto& m : header.members) {
      if (m.first == "__metadata__") continue;
      if (m.second["dtype"].str != "F32") return error = m.first + ": not F32", false;
      Tensor t;
      for (const Json& d : m.second["shape"].items) t.shape.push_back(d.as_int());
      const size_t b0 = (size_t)m.second["data_offsets"].items[0].num;
      const size_t b1 = (size_t)m.second["data_offsets"].items[1].num;
      if (b1 < b0 || base + b1 > bytes.size() || (b1 - b0) % 4) return error = m.first + ": bad offsets", false;
      t.data.resize((b1 - b0) / 4);
      std::memcpy(t.data.data(), bytes.data() + base + b0, b1 - b0);
      tensors[m.first] = std::move(t);
    }
    return true;
  }
};

// 64-byte aligned copy of a .jepa file (ModelFile requires an aligned base).
struct AlignedBytes {
  uint8_t* ptr = nullptr;
  size_t size = 0;
  AlignedBytes() = default;
  explicit AlignedBytes(const std::vector<uint8_t>& v) : size(v.size()) {
    ptr = static_cast<uint8_t*>(std::aligned_alloc(64, (v.size() + 63) & ~size_t(63)));
    std::memcpy(ptr, v.data(), v.size());
  }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;
  ~AlignedBytes() { std::free(ptr); }
};

// Writes the tensors of `cfg` (names from for_each_tensor, taken from the
// checkpoint as `prefix` + name) and its hyper-parameters into a .jepa file.
template <class Config>
bool make_model_file(const Safetensors& st, const char* prefix, const Config& cfg, std::vector<uint8_t>* out,
                     std::string* err) {
  jepa::format::Writer w(Config::kKind);
  cfg.write_hparams(w);
  bool ok = true;
  for_each_tensor(cfg, [&](const char* name, const int64_t* shape, int rank, jepa::models::TensorRole) {
    if (!ok) return;
    auto it = st.tensors.find(std::string(prefix) + name);
    if (it == st.tensors.end()) {
      ok = false;
      *err = std::string("checkpoint lacks ") + prefix + name;
      return;
    }
    std::vector<int64_t> sh(shape, shape + rank);
    if (sh != it->second.shape) {
      ok = false;
      *err = std::string("checkpoint shape differs for ") + name;
      return;
    }
    jepa::Status s = w.add_tensor(name, jepa::format::DType::f32, sh, it->second.data.data(), it->second.data.size() * 4);
    if (!s.is_ok()) {
      ok = false;
      *err = s.message();
    }
  });
  if (!ok) return false;
  auto bytes = w.finish();
  if (!bytes) return *err = bytes.status().message(), false;
  *out = std::move(bytes.value());
  return true;
}

// ---------------------------------------------------------------- comparison
struct Comparison {
  double max_abs = 0.0, rel_l2 = 0.0, cosine = 0.0;
  double worst_ratio = 0.0;  // max over elements of |x-ref| / (atol + rtol*|ref|); <= 1 passes
  int64_t worst_index = -1;
  bool ok = false;
};

inline Comparison compare(const float* got, const Array& ref, const char* label = nullptr) {
  Comparison c;
  double num = 0.0, den = 0.0, dot = 0.0, ng = 0.0;
  bool finite = true;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double x = got[i], r = ref.f[(size_t)i], e = std::fabs(x - r);
    if (!std::isfinite(x)) finite = false;
    num += e * e;
    den += r * r;
    dot += x * r;
    ng += x * x;
    if (e > c.max_abs) c.max_abs = e;
    const double ratio = e / (ref.atol + ref.rtol * std::fabs(r));
    if (!(ratio <= c.worst_ratio)) {
      c.worst_ratio = ratio;
      c.worst_index = i;
    }
  }
  c.rel_l2 = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  c.cosine = (ng > 0 && den > 0) ? dot / std::sqrt(ng * den) : 0.0;
  c.ok = finite && c.worst_ratio <= 1.0 && ref.atol > 0.0;
  std::printf("  %-40s max_abs %.3e  rel_l2 %.3e  cos %.9f  atol %.0e rtol %.0e  worst %.3f of tol  %s\n",
              label ? label : ref.name.c_str(), c.max_abs, c.rel_l2, c.cosine, ref.atol, ref.rtol, c.worst_ratio,
              c.ok ? "ok" : "FAIL");
  return c;
}

inline std::string data_dir(const char* config) { return std::string(JEPA_TEST_DATA_DIR) + "/" + config; }

}  // namespace golden

#endif  // JEPA_TESTS_COMMON_GOLDEN_HPP
