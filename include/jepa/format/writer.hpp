// jepa/format/writer.hpp: builds a .jepa file in memory (used by the tools,
// the converter and the tests). Unlike the rest of the library this API
// allocates: it is for the host side, not for the device.
//
// Tensors may be added in any order; finish() sorts the directory by name and
// lays the data out in that order, each tensor at a multiple of the alignment,
// so the loader's overlap check is one comparison per tensor.
#ifndef JEPA_FORMAT_WRITER_HPP
#define JEPA_FORMAT_WRITER_HPP

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "../status.hpp"
#include "crc32c.hpp"
#include "format.hpp"

namespace jepa {
namespace format {

class Writer {
 public:
  explicit Writer(const char* model_kind = "") { set_kind(model_kind); }

  void set_kind(const char* kind) { kind_ = kind; }
  void set_alignment(uint32_t a) { alignment_ = a; }

  void add_int(const char* key, int64_t v) { add_scalar(key, HParamType::i64, &v); }
  void add_float(const char* key, double v) { add_scalar(key, HParamType::f64, &v); }
  void add_string(const char* key, const std::string& s) {
    add_blob(key, HParamType::str, s.data(), s.size(), (uint32_t)s.size());
  }
  void add_ints(const char* key, const std::vector<int64_t>& v) {
    add_blob(key, HParamType::i64_array, v.data(), v.size() * 8, (uint32_t)v.size());
  }
  void add_floats(const char* key, const std::vector<double>& v) {
    add_blob(key, HParamType::f64_array, v.data(), v.size() * 8, (uint32_t)v.size());
  }

  // Copies the bytes. `bytes` must equal tensor_bytes(dtype, layout, shape).
  // flags: TensorFlag bits; the loader checks what they promise.
  Status add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                    const void* data, size_t bytes, Layout layout = Layout::row_major,
                    const uint32_t* layout_params = nullptr, uint32_t flags = 0) {
    if (name.empty() || name.size() >= kNameCapacity)
      return Status::error(Error::bad_name, "tensor name '%s' is empty or longer than %u", name.c_str(),
                           kNameCapacity - 1);
    if (shape.empty() || shape.size() > kMaxRank)
      return Status::error(Error::size_mismatch, "tensor '%s': rank %zu outside [1, %u]", name.c_str(),
                           shape.size(), kMaxRank);
    Pending p;
    p.name = name;
    p.dtype = dtype;
    p.layout = layout;
    p.shape = shape;
    if (layout_params) std::memcpy(p.params, layout_params, sizeof(p.params));
    if ((flags & ~kKnownTensorFlags) || ((flags & kTensorQ7) && dtype != DType::q8))
      return Status::error(Error::bad_tensor_data, "tensor '%s': flags 0x%x invalid for %s", name.c_str(), flags,
                           dtype_name(dtype));
    p.flags = flags;
    uint64_t s[kMaxRank] = {0};
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] <= 0) return Status::error(Error::size_mismatch, "tensor '%s': dimension %zu is %lld",
                                              name.c_str(), i, (long long)shape[i]);
      s[i] = (uint64_t)shape[i];
    }
    uint64_t expect = 0;
    if (!tensor_bytes(dtype, layout, s, (uint32_t)shape.size(), &expect, p.params) || expect != bytes)
      return Status::error(Error::size_mismatch, "tensor '%s': %zu bytes given, %s x shape needs %llu",
                           name.c_str(), bytes, dtype_name(dtype), (unsigned long long)expect);
    for (const Pending& q : tensors_)
      if (q.name == name) return Status::error(Error::duplicate_name, "tensor '%s' added twice", name.c_str());
    const uint8_t* b = static_cast<const uint8_t*>(data);
    p.data.assign(b, b + bytes);
    tensors_.push_back(std::move(p));
    return Status::ok();
  }

  size_t tensor_count() const { return tensors_.size(); }

  // Serialises everything; the result is a valid file.
  Result<std::vector<uint8_t>> finish(uint64_t optional_features = kOptTensorCrc) const {
    if (kind_.empty() || kind_.size() >= kKindCapacity)
      return Status::error(Error::bad_name, "model kind '%s' is empty or longer than %u", kind_.c_str(),
                           kKindCapacity - 1);
    std::vector<const Pending*> order;
    for (const Pending& p : tensors_) order.push_back(&p);
    std::sort(order.begin(), order.end(), [](const Pending* a, const Pending* b) {
      return std::strcmp(a->name.c_str(), b->name.c_str()) < 0;
    });

    FileHeader h;
    std::memset(&h, 0, sizeof(h));
    std::memcpy(h.magic, kMagic, sizeof(kMagic));
    h.version_major = kVersionMajor;
    h.version_minor = kVersionMinor;
    h.header_bytes = sizeof(FileHeader);
    h.optional_features = optional_features;
    if (!error_.is_ok()) return error_;
    copy_name(h.model_kind, kind_.c_str(), kKindCapacity);
    h.alignment = alignment_;
    h.hparam_count = (uint32_t)hparams_.size();
    h.hparam_offset = sizeof(FileHeader);
    h.tensor_count = (uint32_t)order.size();
    h.tensor_offset = h.hparam_offset + hparams_.size() * sizeof(HParamEntry);
    h.pool_offset = h.tensor_offset + order.size() * sizeof(TensorEntry);
    h.pool_bytes = round8(pool_.size());
    uint64_t cursor = round_to(h.pool_offset + h.pool_bytes, alignment_);

    std::vector<TensorEntry> dir(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      const Pending& p = *order[i];
      TensorEntry& e = dir[i];
      std::memset(&e, 0, sizeof(e));
      copy_name(e.name, p.name.c_str(), kNameCapacity);
      e.dtype = (uint32_t)p.dtype;
      e.layout = (uint32_t)p.layout;
      e.rank = (uint32_t)p.shape.size();
      for (size_t d = 0; d < p.shape.size(); ++d) e.shape[d] = (uint64_t)p.shape[d];
      e.offset = cursor;
      e.bytes = p.data.size();
      e.crc32c = crc32c(p.data.data(), p.data.size());
      std::memcpy(e.layout_params, p.params, sizeof(p.params));
      e.flags = p.flags;
      if (p.layout != Layout::row_major) h.required_features |= kReqPackedLayouts;
      if (dtype_quantized(p.dtype)) h.required_features |= kReqQuantized;
      cursor = round_to(cursor + e.bytes, alignment_);
    }
    // The file ends right after the last tensor (no trailing pad).
    uint64_t end = h.pool_offset + h.pool_bytes;
    if (!dir.empty()) end = dir.back().offset + dir.back().bytes;
    h.file_bytes = end;

    std::vector<uint8_t> out((size_t)end, 0);
    std::vector<HParamEntry> hp = hparams_;
    for (size_t i = 0; i < hp.size(); ++i)
      if (hp_is_blob(hp[i])) hp[i].value.offset += h.pool_offset;  // pool-relative -> absolute
    if (!hp.empty()) std::memcpy(out.data() + h.hparam_offset, hp.data(), hp.size() * sizeof(HParamEntry));
    if (!dir.empty()) std::memcpy(out.data() + h.tensor_offset, dir.data(), dir.size() * sizeof(TensorEntry));
    if (!pool_.empty()) std::memcpy(out.data() + h.pool_offset, pool_.data(), pool_.size());
    for (size_t i = 0; i < order.size(); ++i)
      if (!order[i]->data.empty())
        std::memcpy(out.data() + dir[i].offset, order[i]->data.data(), order[i]->data.size());
    uint32_t tcrc = crc32c(out.data() + h.hparam_offset, hp.size() * sizeof(HParamEntry));
    tcrc = crc32c(out.data() + h.tensor_offset, dir.size() * sizeof(TensorEntry), tcrc);
    tcrc = crc32c(out.data() + h.pool_offset, h.pool_bytes, tcrc);
    h.tables_crc32c = tcrc;
    std::memcpy(out.data(), &h, sizeof(h));
    h.header_crc32c = crc32c(out.data(), kHeaderCrcSpan);
    std::memcpy(out.data(), &h, sizeof(h));
    return out;
  }

 private:
  struct Pending {
    std::string name;
    DType dtype = DType::f32;
    Layout layout = Layout::row_major;
    std::vector<int64_t> shape;
    uint32_t params[6] = {0, 0, 0, 0, 0, 0};
    uint32_t flags = 0;  // TensorFlag
    std::vector<uint8_t> data;
  };

  static uint64_t round_to(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
  static uint64_t round8(uint64_t v) { return round_to(v, 8); }
  static bool hp_is_blob(const HParamEntry& e) {
    return e.type == (uint32_t)HParamType::str || e.type == (uint32_t)HParamType::i64_array ||
           e.type == (uint32_t)HParamType::f64_array;
  }

  // Copies a name known to fit (checked by the callers) into a NUL-padded field.
  static void copy_name(char* field, const char* name, size_t capacity) {
    const size_t n = std::min(std::strlen(name), capacity - 1);
    std::memset(field, 0, capacity);
    std::memcpy(field, name, n);
  }

  HParamEntry make_entry(const char* key, HParamType t, uint32_t count) {
    HParamEntry e;
    std::memset(&e, 0, sizeof(e));
    // A key that does not fit is an error finish() reports (never a silent truncation).
    if ((key[0] == '\0' || std::strlen(key) >= kKeyCapacity) && error_.is_ok())
      error_ = Status::error(Error::bad_name, "hyper-parameter key '%s' is empty or longer than %u", key,
                             kKeyCapacity - 1);
    copy_name(e.key, key, kKeyCapacity);
    e.type = (uint32_t)t;
    e.count = count;
    return e;
  }
  void replace_or_add(const HParamEntry& e) {
    for (HParamEntry& q : hparams_)
      if (std::strncmp(q.key, e.key, kKeyCapacity) == 0) { q = e; return; }
    hparams_.push_back(e);
  }
  void add_scalar(const char* key, HParamType t, const void* v) {
    HParamEntry e = make_entry(key, t, 1);
    std::memcpy(&e.value, v, 8);
    replace_or_add(e);
  }
  void add_blob(const char* key, HParamType t, const void* data, size_t bytes, uint32_t count) {
    HParamEntry e = make_entry(key, t, count);
    pool_.resize(round8(pool_.size()), 0);
    e.value.offset = pool_.size();  // made absolute in finish()
    const uint8_t* b = static_cast<const uint8_t*>(data);
    pool_.insert(pool_.end(), b, b + bytes);
    replace_or_add(e);
  }

  std::string kind_;
  Status error_;  // first add_* error, returned by finish()
  uint32_t alignment_ = kDefaultAlignment;
  std::vector<HParamEntry> hparams_;
  std::vector<uint8_t> pool_;
  std::vector<Pending> tensors_;
};

}  // namespace format
}  // namespace jepa

#endif  // JEPA_FORMAT_WRITER_HPP
