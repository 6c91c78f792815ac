// tools/common/manifest.hpp: the manifest.json of a reference directory (the
// layout of /work/shared/golden/<config>/, documented in docs/CONVERT.md):
// every raw array with its role (input / expected / intermediate), dtype,
// shape and, for outputs, the fp32 and int8-weight tolerances. Also loads
// the arrays, checking each file's size against its shape.
#ifndef JEPA_TOOLS_COMMON_MANIFEST_HPP
#define JEPA_TOOLS_COMMON_MANIFEST_HPP

#include <string>
#include <vector>

#include "cli.hpp"
#include "compare.hpp"
#include "json.hpp"

namespace jepa {
namespace manifest {

struct Entry {
  std::string name;   // "<case>.<tensor>", e.g. "enc_video.output"
  std::string file;   // relative to the directory
  std::string role;   // input | expected | intermediate
  std::string dtype;  // f32 | i64 | u8
  std::vector<int64_t> shape;
  std::string desc;
  bool has_fp32 = false, has_int8 = false;
  compare::Tolerance fp32, int8;

  std::string case_name() const { return name.substr(0, name.find('.')); }
  std::string tensor_name() const {
    const size_t dot = name.find('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
  }
};

struct Manifest {
  std::string dir;
  std::string config;  // the config's name
  std::vector<Entry> tensors;

  const Entry* find(const std::string& name) const {
    for (const Entry& e : tensors)
      if (e.name == name) return &e;
    return nullptr;
  }
  // Case names in first-seen order.
  std::vector<std::string> cases() const {
    std::vector<std::string> out;
    for (const Entry& e : tensors) {
      const std::string c = e.case_name();
      bool seen = false;
      for (const std::string& o : out) seen = seen || o == c;
      if (!seen) out.push_back(c);
    }
    return out;
  }
  std::string path_of(const Entry& e) const { return dir + "/" + e.file; }

  // The array of entry `name`, f32 / i64 / u8 by T; errors name the file.
  template <class T>
  Status load(const std::string& name, std::vector<T>* out) const {
    const Entry* e = find(name);
    if (!e) return Status::error(Error::not_found, "manifest of '%s' has no tensor '%s'", config.c_str(), name.c_str());
    const size_t want = e->dtype == "f32" ? 4 : e->dtype == "i64" ? 8 : e->dtype == "u8" ? 1 : 0;
    if (want != sizeof(T))
      return Status::error(Error::unknown_dtype, "tensor '%s' is %s, read as a %zu-byte type", name.c_str(),
                           e->dtype.c_str(), sizeof(T));
    return cli::read_array<T>(path_of(*e), cli::numel(e->shape), cli::shape_str(e->shape), out);
  }
};

namespace detail {

inline Status read_tolerance(const json::Value& t, Entry* e) {
  if (const json::Value* f = t.find("fp32")) {
    Result<double> a = json::get_number(*f, "atol", "tolerance.fp32");
    Result<double> r = json::get_number(*f, "rtol", "tolerance.fp32");
    if (!a) return a.status();
    if (!r) return r.status();
    e->has_fp32 = true;
    e->fp32.elementwise = true;
    e->fp32.atol = a.value();
    e->fp32.rtol = r.value();
  }
  if (const json::Value* q = t.find("int8_weights")) {
    Result<double> l2 = json::get_number(*q, "rel_l2_max", "tolerance.int8_weights");
    Result<double> cs = json::get_number(*q, "cosine_min", "tolerance.int8_weights");
    Result<double> ma = json::get_number(*q, "max_abs", "tolerance.int8_weights");
    if (!l2) return l2.status();
    if (!cs) return cs.status();
    if (!ma) return ma.status();
    e->has_int8 = true;
    e->int8.elementwise = false;
    e->int8.rel_l2_max = l2.value();
    e->int8.cosine_min = cs.value();
    e->int8.max_abs = ma.value();
  }
  return Status::ok();
}

}  // namespace detail

inline Result<Manifest> load(const std::string& dir) {
  Result<json::Value> doc = json::parse_file(dir + "/manifest.json");
  if (!doc) return doc.status();
  Manifest m;
  m.dir = dir;
  if (const json::Value* c = doc->find("config"))
    if (c->is_string()) m.config = c->as_string();
  Result<const json::Value*> ts = json::member(doc.value(), "tensors", json::Type::array, "manifest.json");
  if (!ts) return ts.status();
  for (size_t i = 0; i < (*ts)->size(); ++i) {
    const json::Value& t = (**ts)[i];
    Entry e;
    Result<std::string> name = json::get_string(t, "name", "manifest.json tensors[]");
    if (!name) return name.status();
    e.name = name.value();
    const std::string where = "manifest.json tensor '" + e.name + "'";
    Result<std::string> file = json::get_string(t, "file", where.c_str());
    Result<std::string> role = json::get_string(t, "role", where.c_str());
    Result<std::string> dtype = json::get_string(t, "dtype", where.c_str());
    Result<std::vector<int64_t>> shape = json::get_ints(t, "shape", where.c_str(), 0);
    if (!file) return file.status();
    if (!role) return role.status();
    if (!dtype) return dtype.status();
    if (!shape) return shape.status();
    e.file = file.value();
    e.role = role.value();
    e.dtype = dtype.value();
    e.shape = shape.value();
    if (const json::Value* d = t.find("desc"))
      if (d->is_string()) e.desc = d->as_string();
    if (const json::Value* tol = t.find("tolerance")) JEPA_RETURN_IF_ERROR(detail::read_tolerance(*tol, &e));
    m.tensors.push_back(std::move(e));
  }
  return m;
}

}  // namespace manifest
}  // namespace jepa

#endif  // JEPA_TOOLS_COMMON_MANIFEST_HPP
