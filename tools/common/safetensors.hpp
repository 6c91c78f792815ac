// tools/common/safetensors.hpp: a validating reader and a writer for the
// safetensors format (u64 little-endian header length N, N bytes of JSON
// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}`,
// then the data; offsets are relative to the end of the header).
//
// The reader checks everything before handing out a byte: the header length
// against the file, the JSON (strictly), every dtype, shape and offset pair
// (in range, end - begin == dtype size x numel, overflow-safe) and that no two
// tensors overlap. The checkpoint converter, jepa-verify and tests use it;
// tests also use the writer to make small checkpoints. Host code: allocates.
#ifndef JEPA_TOOLS_COMMON_SAFETENSORS_HPP
#define JEPA_TOOLS_COMMON_SAFETENSORS_HPP

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "json.hpp"
#include "jepa/detail/checked.hpp"
#include "jepa/io/mapped_file.hpp"
#include "jepa/kernels/ref/math.hpp"
#include "jepa/status.hpp"

namespace jepa {
namespace safetensors {

enum class DType : uint8_t { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

struct DTypeInfo {
  DType dtype;
  const char* name;  // as spelled in the header
  size_t bytes;      // per element
};

constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::BOOL, "BOOL", 1},
};

inline const DTypeInfo& dtype_info(DType t) {
  for (const DTypeInfo& d : kDTypes)
    if (d.dtype == t) return d;
  return kDTypes[0];
}
inline const char* dtype_name(DType t) { return dtype_info(t).name; }
inline size_t dtype_bytes(DType t) { return dtype_info(t).bytes; }

inline bool parse_dtype(const std::string& s, DType* out) {
  for (const DTypeInfo& d : kDTypes)
    if (s == d.name) { *out = d.dtype; return true; }
  return false;
}

// A header larger than this is a hostile file, not a checkpoint (the
// reference implementation uses the same 100 MB bound).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // empty for a scalar
  const uint8_t* data = nullptr;  // inside the File's bytes; no alignment promised
  uint64_t bytes = 0;
  uint64_t begin = 0;  // data_offsets[0], relative to the data section

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  std::string shape_str() const {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
  }
};

// A parsed checkpoint. Owns (or maps) its bytes; move-only. Tensors are
// sorted by name.
class File {
 public:
  File() = default;
  File(File&&) = default;
  File& operator=(File&&) = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Maps the file (falls back to reading it) and validates it.
  static Result<File> open(const std::string& path) {
    Result<MappedFile> m = MappedFile::open(path.c_str());
    if (!m) return m.status();
    File f;
    f.map_ = std::move(m.value());
    f.base_ = static_cast<const uint8_t*>(f.map_.data());
    f.size_ = f.map_.size();
    Status s = f.validate();
    if (!s.is_ok()) return Status::error(s.code(), "%s: %s", path.c_str(), s.message());
    return f;
  }

  // Takes the bytes (e.g. a checkpoint made in memory by Writer).
  static Result<File> from_bytes(std::vector<uint8_t> bytes) {
    File f;
    f.owned_ = std::move(bytes);
    f.base_ = f.owned_.data();
    f.size_ = f.owned_.size();
    Status s = f.validate();
    if (!s.is_ok()) return s;
    return f;
  }

  const std::vector<TensorView>& tensors() const { return tensors_; }
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  const TensorView* find(const std::string& name) const {
    auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                               [](const TensorView& t, const std::string& n) { return t.name < n; });
    return (it != tensors_.end() && it->name == name) ? &*it : nullptr;
  }
  const std::string* find_metadata(const std::string& key) const {
    for (const auto& kv : metadata_)
      if (kv.first == key) return &kv.second;
    return nullptr;
  }
  uint64_t header_bytes() const { return header_len_; }

 private:
  Status validate();
  Status parse_entry(const std::string& name, const json::Value& v, uint64_t data_size, TensorView* t);

  MappedFile map_;
  std::vector<uint8_t> owned_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint64_t header_len_ = 0;
  std::vector<TensorView> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

inline Status File::validate() {
  if (size_ < 8)
    return Status::error(Error::truncated, "safetensors file is %zu bytes, shorter than its 8-byte header length",
                         size_);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | base_[i];  // little-endian, whatever the host
  if (n > kMaxHeaderBytes)
    return Status::error(Error::bad_checkpoint, "safetensors header length %llu exceeds the %llu-byte limit",
                         (unsigned long long)n, (unsigned long long)kMaxHeaderBytes);
  if (n > size_ - 8)
    return Status::error(Error::truncated, "safetensors header length %llu runs past the end of the %zu-byte file",
                         (unsigned long long)n, size_);
  if (n < 2 || base_[8] != '{')
    return Status::error(Error::bad_checkpoint, "safetensors header does not start with a JSON object");
  header_len_ = n;
  Result<json::Value> hdr = json::parse(reinterpret_cast<const char*>(base_ + 8), (size_t)n);
  if (!hdr) return Status::error(Error::bad_checkpoint, "safetensors header: %s", hdr.status().message());
  if (!hdr->is_object()) return Status::error(Error::bad_checkpoint, "safetensors header is not a JSON object");
  const uint64_t data_size = size_ - 8 - n;
  for (const json::Value::Member& m : hdr->members()) {
    if (m.first == "__metadata__") {
      if (!m.second.is_object())
        return Status::error(Error::bad_checkpoint, "safetensors __metadata__ is not an object");
      for (const json::Value::Member& kv : m.second.members()) {
        if (!kv.second.is_string())
          return Status::error(Error::bad_checkpoint, "safetensors __metadata__ \"%.60s\" is not a string",
                               kv.first.c_str());
        metadata_.emplace_back(kv.first, kv.second.as_string());
      }
      continue;
    }
    TensorView t;
    JEPA_RETURN_IF_ERROR(parse_entry(m.first, m.second, data_size, &t));
    t.data = base_ + 8 + n + t.begin;
    tensors_.push_back(std::move(t));
  }
  // Overlap: sorted by begin, each non-empty tensor must start at or after the
  // previous one's end.
  std::vector<const TensorView*> by_offset;
  for (const TensorView& t : tensors_)
    if (t.bytes) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorView* a, const TensorView* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorView& a = *by_offset[i - 1];
    const TensorView& b = *by_offset[i];
    if (b.begin < a.begin + a.bytes)
      return Status::error(Error::overlapping_tensors, "safetensors tensors '%.60s' and '%.60s' overlap at data offset %llu",
                           a.name.c_str(), b.name.c_str(), (unsigned long long)b.begin);
  }
  std::sort(tensors_.begin(), tensors_.end(), [](const TensorView& a, const TensorView& b) { return a.name < b.name; });
  return Status::ok();
}

inline Status File::parse_entry(const std::string& name, const json::Value& v, uint64_t data_size, TensorView* t) {
  const char* nm = name.c_str();
  if (name.empty()) return Status::error(Error::bad_name, "safetensors tensor with an empty name");
  if (!v.is_object()) return Status::error(Error::bad_checkpoint, "safetensors entry '%.80s' is not an object", nm);
  for (const json::Value::Member& m : v.members())
    if (m.first != "dtype" && m.first != "shape" && m.first != "data_offsets")
      return Status::error(Error::bad_checkpoint, "safetensors entry '%.80s' has unknown key \"%.30s\"", nm,
                           m.first.c_str());
  const json::Value* dt = v.find("dtype");
  const json::Value* sh = v.find("shape");
  const json::Value* off = v.find("data_offsets");
  if (!dt || !dt->is_string() || !sh || !sh->is_array() || !off || !off->is_array())
    return Status::error(Error::bad_checkpoint,
                         "safetensors entry '%.80s' needs a string dtype, a shape array and data_offsets", nm);
  t->name = name;
  if (!parse_dtype(dt->as_string(), &t->dtype))
    return Status::error(Error::unknown_dtype, "safetensors tensor '%.80s': unsupported dtype \"%.20s\"", nm,
                         dt->as_string().c_str());
  uint64_t numel = 1;
  for (size_t i = 0; i < sh->size(); ++i) {
    const json::Value& d = (*sh)[i];
    if (!d.is_integer() || d.as_int() < 0)
      return Status::error(Error::bad_checkpoint, "safetensors tensor '%.80s': shape[%zu] is not a non-negative integer",
                           nm, i);
    if (!detail::mul_ok(numel, (uint64_t)d.as_int(), &numel))
      return Status::error(Error::size_mismatch, "safetensors tensor '%.80s': shape overflows", nm);
    t->shape.push_back(d.as_int());
  }
  if (off->size() != 2 || !(*off)[0].is_integer() || !(*off)[1].is_integer() || (*off)[0].as_int() < 0 ||
      (*off)[1].as_int() < 0)
    return Status::error(Error::bad_checkpoint, "safetensors tensor '%.80s': data_offsets must be two non-negative integers",
                         nm);
  const uint64_t b = (uint64_t)(*off)[0].as_int(), e = (uint64_t)(*off)[1].as_int();
  if (b > e || e > data_size)
    return Status::error(Error::out_of_range,
                         "safetensors tensor '%.80s': data_offsets [%llu, %llu] outside the %llu-byte data section", nm,
                         (unsigned long long)b, (unsigned long long)e, (unsigned long long)data_size);
  uint64_t want = 0;
  if (!detail::mul_ok(numel, dtype_bytes(t->dtype), &want) || want != e - b)
    return Status::error(Error::size_mismatch, "safetensors tensor '%.80s': %llu bytes stored, %s x %s needs %llu", nm,
                         (unsigned long long)(e - b), dtype_name(t->dtype), t->shape_str().c_str(),
                         (unsigned long long)want);
  t->begin = b;
  t->bytes = e - b;
  return Status::ok();
}

// Values of a floating tensor (F32/F16/BF16/F64) as float32. F64 rounds.
inline Status to_f32(const TensorView& t, std::vector<float>* out) {
  const size_t n = (size_t)t.numel();
  out->resize(n);
  switch (t.dtype) {
    case DType::F32:
      if (n) std::memcpy(out->data(), t.data, n * 4);
      return Status::ok();
    case DType::F16:
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        (*out)[i] = t.dtype == DType::F16 ? kernels::ref::f16_to_f32(h) : kernels::ref::bf16_to_f32(h);
      }
      return Status::ok();
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, t.data + 8 * i, 8);
        (*out)[i] = (float)d;
      }
      return Status::ok();
    default:
      return Status::error(Error::unknown_dtype, "tensor '%.80s' is %s, not a floating type", t.name.c_str(),
                           dtype_name(t.dtype));
  }
}

// Builds a checkpoint in memory: header keys sorted, compact JSON padded with
// spaces to a multiple of 8, tensors packed in name order without gaps (the
// layout of the golden files and of tools/export_checkpoint.py).
class Writer {
 public:
  Status add(const std::string& name, DType dtype, const std::vector<int64_t>& shape, const void* data,
             size_t bytes) {
    if (name.empty() || name == "__metadata__")
      return Status::error(Error::bad_name, "safetensors tensor name '%s' is not allowed", name.c_str());
    uint64_t numel = 1;
    for (int64_t d : shape) {
      if (d < 0 || !detail::mul_ok(numel, (uint64_t)d, &numel))
        return Status::error(Error::size_mismatch, "tensor '%s': invalid shape", name.c_str());
    }
    if (numel * dtype_bytes(dtype) != bytes)
      return Status::error(Error::size_mismatch, "tensor '%s': %zu bytes given, %s x shape needs %llu", name.c_str(),
                           bytes, dtype_name(dtype), (unsigned long long)(numel * dtype_bytes(dtype)));
    for (const Entry& e : entries_)
      if (e.name == name) return Status::error(Error::duplicate_name, "tensor '%s' added twice", name.c_str());
    Entry e;
    e.name = name;
    e.dtype = dtype;
    e.shape = shape;
    const uint8_t* b = static_cast<const uint8_t*>(data);
    e.data.assign(b, b + bytes);
    entries_.push_back(std::move(e));
    return Status::ok();
  }
  Status add_f32(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& v) {
    return add(name, DType::F32, shape, v.data(), v.size() * 4);
  }
  void set_metadata(const std::string& key, const std::string& value) {
    for (auto& kv : metadata_)
      if (kv.first == key) { kv.second = value; return; }
    metadata_.emplace_back(key, value);
  }

  std::vector<uint8_t> finish() const {
    std::vector<const Entry*> order;
    for (const Entry& e : entries_) order.push_back(&e);
    std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) { return a->name < b->name; });
    std::string h = "{";
    bool first = true;
    if (!metadata_.empty()) {
      auto md = metadata_;
      std::sort(md.begin(), md.end());
      h += "\"__metadata__\":{";
      for (size_t i = 0; i < md.size(); ++i)
        h += (i ? "," : "") + json::quote(md[i].first) + ":" + json::quote(md[i].second);
      h += "}";
      first = false;
    }
    uint64_t cursor = 0;
    for (const Entry* e : order) {
      if (!first) h += ",";
      first = false;
      h += json::quote(e->name) + ":{\"data_offsets\":[" + std::to_string(cursor) + "," +
           std::to_string(cursor + e->data.size()) + "],\"dtype\":\"" + dtype_name(e->dtype) + "\",\"shape\":[";
      for (size_t i = 0; i < e->shape.size(); ++i) h += (i ? "," : "") + std::to_string(e->shape[i]);
      h += "]}";
      cursor += e->data.size();
    }
    h += "}";
    while (h.size() % 8) h += ' ';
    std::vector<uint8_t> out(8 + h.size() + cursor);
    const uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) out[i] = (uint8_t)(n >> (8 * i));
    std::memcpy(out.data() + 8, h.data(), h.size());
    uint8_t* p = out.data() + 8 + h.size();
    for (const Entry* e : order) {
      if (!e->data.empty()) std::memcpy(p, e->data.data(), e->data.size());
      p += e->data.size();
    }
    return out;
  }

 private:
  struct Entry {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
  };
  std::vector<Entry> entries_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

}  // namespace safetensors
}  // namespace jepa

#endif  // JEPA_TOOLS_COMMON_SAFETENSORS_HPP
