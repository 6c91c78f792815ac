// jepa/format/model_file.hpp: a validated, zero-copy view of .jepa bytes.
//
// ModelFile::open() checks everything docs/FORMAT.md requires before it hands
// out a single pointer: sizes and offsets with overflow-safe arithmetic,
// checksums, alignment, dtypes, shapes, names. It never reads outside the
// given bytes, never allocates and never aborts; a bad file gives a Status
// whose code says which check failed and whose message says where.
// The bytes are not copied or owned: they must outlive the ModelFile (see
// io/mapped_file.hpp for a mapping that owns them).
#ifndef JEPA_FORMAT_MODEL_FILE_HPP
#define JEPA_FORMAT_MODEL_FILE_HPP

#include <cmath>
#include <cstring>

#include "../kernels/ref/math.hpp"
#include "../status.hpp"
#include "crc32c.hpp"
#include "format.hpp"

namespace jepa {

struct LoadOptions {
  bool verify_tensor_crc = true;  // CRC32C of every tensor's data (one pass over the weights)
  bool require_aligned_base = true;  // the bytes start at a multiple of the file's alignment
};

// One tensor of a file, data in place.
struct TensorInfo {
  const char* name = nullptr;  // NUL-terminated (checked), inside the file
  format::DType dtype = format::DType::f32;
  format::Layout layout = format::Layout::row_major;
  uint32_t rank = 0;
  int64_t shape[format::kMaxRank] = {0};
  const void* data = nullptr;
  uint64_t bytes = 0;
  const uint32_t* layout_params = nullptr;  // 6 values
  uint32_t flags = 0;                       // format::TensorFlag bits, checked at load

  int64_t numel() const {
    int64_t n = 1;
    for (uint32_t i = 0; i < rank; ++i) n *= shape[i];
    return n;
  }
  // Dimension i, or 1 past the rank (so 2-D code can read a 1-D bias).
  int64_t dim(uint32_t i) const { return i < rank ? shape[i] : 1; }
};

struct StringRef {
  const char* data = nullptr;  // not NUL-terminated
  size_t size = 0;
  bool equals(const char* s) const { return std::strlen(s) == size && std::memcmp(s, data, size) == 0; }
};

template <class T>
struct ArrayRef {
  const T* data = nullptr;  // aligned (checked)
  size_t size = 0;
  T operator[](size_t i) const { return data[i]; }
};

// A tensor's bytes re-laid out after loading (kernels/repack.hpp: the file's
// layout has no kernel on this CPU). Same dtype, shape and values; the data
// lives in a buffer the caller owns. data == nullptr: no override.
struct TensorOverride {
  const void* data = nullptr;
  format::Layout layout = format::Layout::row_major;
  uint32_t params[6] = {0, 0, 0, 0, 0, 0};
  uint64_t bytes = 0;
};

struct HParamInfo {
  const char* key = nullptr;
  format::HParamType type = format::HParamType::i64;
  uint32_t count = 0;
  const format::HParamEntry* entry = nullptr;
};

class ModelFile {
 public:
  ModelFile() = default;

  static Result<ModelFile> open(const void* data, size_t size, const LoadOptions& opt = {});

  const format::FileHeader& header() const { return *header_; }
  const char* kind() const { return header_->model_kind; }
  const uint8_t* bytes() const { return base_; }
  size_t size() const { return size_; }

  size_t tensor_count() const { return header_->tensor_count; }
  TensorInfo tensor(size_t i) const;
  // Binary search (the directory is sorted by name). missing_tensor if absent.
  Result<TensorInfo> find(const char* name) const;
  bool has(const char* name) const { return find_index(name) >= 0; }

  size_t hparam_count() const { return header_->hparam_count; }
  HParamInfo hparam(size_t i) const;
  bool has_hparam(const char* key) const { return find_hparam(key) != nullptr; }
  Result<int64_t> get_int(const char* key) const;
  Result<double> get_float(const char* key) const;  // accepts an i64 value too
  Result<StringRef> get_string(const char* key) const;
  Result<ArrayRef<int64_t>> get_ints(const char* key) const;
  Result<ArrayRef<double>> get_floats(const char* key) const;

  // Verify every tensor's CRC now (open() does it unless told not to).
  Status verify_tensor_crcs() const;

  // From now on tensor()/find() report table[i] for tensor i where its data
  // is set (table: tensor_count() entries, caller-owned, outliving this
  // view; null clears). The file's own bytes and checksums are untouched.
  void set_overrides(const TensorOverride* table) { overrides_ = table; }
  const TensorOverride* overrides() const { return overrides_; }

 private:
  const format::TensorEntry* entries() const {
    return reinterpret_cast<const format::TensorEntry*>(base_ + header_->tensor_offset);
  }
  const format::HParamEntry* hparams() const {
    return reinterpret_cast<const format::HParamEntry*>(base_ + header_->hparam_offset);
  }
  long find_index(const char* name) const;
  const format::HParamEntry* find_hparam(const char* key) const;
  Status validate(const LoadOptions& opt);
  Status validate_hparams();
  Status validate_tensors();
  Status check_scales(const format::TensorEntry& e) const;
  Status check_q7_values(const format::TensorEntry& e) const;

  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  const format::FileHeader* header_ = nullptr;
  const TensorOverride* overrides_ = nullptr;
};

namespace detail {

// A fixed-size char field holds a NUL within its capacity and is not empty.
inline bool bounded_cstr(const char* s, size_t cap) {
  return cap > 0 && s[0] != '\0' && std::memchr(s, '\0', cap) != nullptr;
}

inline bool is_little_endian() {
  const uint16_t probe = 1;
  uint8_t b;
  std::memcpy(&b, &probe, 1);
  return b == 1;
}

}  // namespace detail

inline Result<ModelFile> ModelFile::open(const void* data, size_t size, const LoadOptions& opt) {
  ModelFile f;
  f.base_ = static_cast<const uint8_t*>(data);
  f.size_ = size;
  Status s = f.validate(opt);
  if (!s.is_ok()) return s;
  return f;
}

inline Status ModelFile::validate(const LoadOptions& opt) {
  using namespace format;
  if (!detail::is_little_endian())
    return Status::error(Error::unsupported, "big-endian hosts are not supported");
  if (size_ < sizeof(FileHeader))
    return Status::error(Error::truncated, "file is %zu bytes, shorter than the %zu-byte header",
                         size_, sizeof(FileHeader));
  if (base_ == nullptr) return Status::error(Error::invalid_argument, "null model data");
  header_ = reinterpret_cast<const FileHeader*>(base_);
  const FileHeader& h = *header_;
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0)
    return Status::error(Error::bad_magic, "not a .jepa file (magic bytes differ at offset 0)");
  if (h.version_major != kVersionMajor)
    return Status::error(Error::unsupported_version,
                         "format version %u.%u; this reader supports major version %u",
                         h.version_major, h.version_minor, kVersionMajor);
  const uint32_t crc = crc32c(base_, kHeaderCrcSpan);
  if (crc != h.header_crc32c)
    return Status::error(Error::header_crc_mismatch,
                         "header CRC32C is 0x%08x, stored 0x%08x: header corrupted", crc,
                         h.header_crc32c);
  if (h.header_bytes < sizeof(FileHeader) || h.header_bytes > size_)
    return Status::error(Error::out_of_range, "header_bytes %u is invalid (at least %zu, file %zu)",
                         h.header_bytes, sizeof(FileHeader), size_);
  if (h.file_bytes > size_)
    return Status::error(Error::truncated, "file is truncated: header says %llu bytes, got %zu",
                         (unsigned long long)h.file_bytes, size_);
  if (h.file_bytes < size_)
    return Status::error(Error::bad_file_size, "header says %llu bytes but %zu were given",
                         (unsigned long long)h.file_bytes, size_);
  const uint64_t unknown = h.required_features & ~kKnownRequiredFeatures;
  if (unknown != 0)
    return Status::error(Error::unknown_required_feature,
                         "file requires features 0x%llx that this reader does not know",
                         (unsigned long long)unknown);
  if (h.alignment < 8 || h.alignment > 65536 || (h.alignment & (h.alignment - 1)) != 0)
    return Status::error(Error::misaligned, "alignment %u is not a power of two in [8, 65536]",
                         h.alignment);
  if (opt.require_aligned_base && (reinterpret_cast<uintptr_t>(base_) % h.alignment) != 0)
    return Status::error(Error::misaligned,
                         "model bytes start at %p, not a multiple of the file's %u-byte alignment",
                         static_cast<const void*>(base_), h.alignment);
  if (!detail::bounded_cstr(h.model_kind, kKindCapacity))
    return Status::error(Error::bad_name, "model_kind is empty or not NUL-terminated");

  // The three tables: in range, 8-aligned, and covered by tables_crc32c.
  uint64_t hp_bytes = 0, tt_bytes = 0;
  if (!detail::mul_ok(h.hparam_count, sizeof(HParamEntry), &hp_bytes) ||
      !detail::range_ok(h.hparam_offset, hp_bytes, size_))
    return Status::error(Error::out_of_range,
                         "hyper-parameter table (%u entries at offset %llu) lies outside the file",
                         h.hparam_count, (unsigned long long)h.hparam_offset);
  if (!detail::mul_ok(h.tensor_count, sizeof(TensorEntry), &tt_bytes) ||
      !detail::range_ok(h.tensor_offset, tt_bytes, size_))
    return Status::error(Error::out_of_range,
                         "tensor directory (%u entries at offset %llu) lies outside the file",
                         h.tensor_count, (unsigned long long)h.tensor_offset);
  if (!detail::range_ok(h.pool_offset, h.pool_bytes, size_))
    return Status::error(Error::out_of_range, "blob pool (%llu bytes at offset %llu) lies outside the file",
                         (unsigned long long)h.pool_bytes, (unsigned long long)h.pool_offset);
  if (h.hparam_offset % 8 || h.tensor_offset % 8 || h.pool_offset % 8)
    return Status::error(Error::misaligned, "table offsets must be multiples of 8");
  if (h.hparam_offset < h.header_bytes || h.tensor_offset < h.header_bytes ||
      h.pool_offset < h.header_bytes)
    return Status::error(Error::out_of_range, "a table overlaps the file header");
  uint32_t tcrc = crc32c(base_ + h.hparam_offset, hp_bytes);
  tcrc = crc32c(base_ + h.tensor_offset, tt_bytes, tcrc);
  tcrc = crc32c(base_ + h.pool_offset, h.pool_bytes, tcrc);
  if (tcrc != h.tables_crc32c)
    return Status::error(Error::table_crc_mismatch,
                         "tables CRC32C is 0x%08x, stored 0x%08x: hyper-parameters or tensor "
                         "directory corrupted",
                         tcrc, h.tables_crc32c);
  JEPA_RETURN_IF_ERROR(validate_hparams());
  JEPA_RETURN_IF_ERROR(validate_tensors());
  if (opt.verify_tensor_crc && (h.optional_features & kOptTensorCrc)) JEPA_RETURN_IF_ERROR(verify_tensor_crcs());
  // After the CRCs, so corruption reads as corruption. Never skipped: kernels
  // chosen by the flag would saturate silently on values outside the bound.
  for (uint32_t i = 0; i < h.tensor_count; ++i)
    if (entries()[i].flags & kTensorQ7) JEPA_RETURN_IF_ERROR(check_q7_values(entries()[i]));
  return Status::ok();
}

inline Status ModelFile::validate_hparams() {
  using namespace format;
  const FileHeader& h = *header_;
  const HParamEntry* hp = hparams();
  // Bounded so the duplicate-key scan below stays cheap on a hostile file.
  if (h.hparam_count > kMaxHParams)
    return Status::error(Error::bad_hparam, "%u hyper-parameters, at most %u allowed", h.hparam_count,
                         kMaxHParams);
  for (uint32_t i = 0; i < h.hparam_count; ++i) {
    const HParamEntry& e = hp[i];
    if (!detail::bounded_cstr(e.key, kKeyCapacity))
      return Status::error(Error::bad_name, "hyper-parameter %u: key is empty or not NUL-terminated", i);
    const HParamType t = static_cast<HParamType>(e.type);
    size_t elem = 0;
    switch (t) {
      case HParamType::i64:
      case HParamType::f64:
        if (e.count != 1)
          return Status::error(Error::bad_hparam, "hyper-parameter '%s': scalar with count %u", e.key,
                               e.count);
        break;
      case HParamType::str: elem = 1; break;
      case HParamType::i64_array:
      case HParamType::f64_array: elem = 8; break;
      default:
        return Status::error(Error::bad_hparam, "hyper-parameter '%s': unknown type %u", e.key, e.type);
    }
    if (elem != 0) {
      uint64_t bytes = 0;
      if (!detail::mul_ok(e.count, elem, &bytes) || e.value.offset < h.pool_offset ||
          !detail::range_ok(e.value.offset - h.pool_offset, bytes, h.pool_bytes))
        return Status::error(Error::out_of_range,
                             "hyper-parameter '%s': %u values at offset %llu lie outside the blob pool",
                             e.key, e.count, (unsigned long long)e.value.offset);
      if (elem == 8 && e.value.offset % 8 != 0)
        return Status::error(Error::misaligned, "hyper-parameter '%s': array offset not 8-aligned", e.key);
    }
    if (t == HParamType::f64 && !std::isfinite(e.value.f))
      return Status::error(Error::non_finite, "hyper-parameter '%s' is not finite", e.key);
    for (uint32_t j = 0; j < i; ++j)
      if (std::strncmp(hp[j].key, e.key, kKeyCapacity) == 0)
        return Status::error(Error::duplicate_name, "hyper-parameter '%s' appears twice", e.key);
  }
  return Status::ok();
}

inline Status ModelFile::validate_tensors() {
  using namespace format;
  const FileHeader& h = *header_;
  const TensorEntry* te = entries();
  // Tensor data must lie after all metadata.
  uint64_t meta_end = h.header_bytes;
  const uint64_t ends[3] = {h.hparam_offset + (uint64_t)h.hparam_count * sizeof(HParamEntry),
                            h.tensor_offset + (uint64_t)h.tensor_count * sizeof(TensorEntry),
                            h.pool_offset + h.pool_bytes};
  for (uint64_t e : ends) meta_end = e > meta_end ? e : meta_end;
  uint64_t prev_end = meta_end;
  for (uint32_t i = 0; i < h.tensor_count; ++i) {
    const TensorEntry& e = te[i];
    if (!detail::bounded_cstr(e.name, kNameCapacity))
      return Status::error(Error::bad_name, "tensor %u: name is empty or not NUL-terminated", i);
    if (i > 0) {
      const int c = std::strncmp(te[i - 1].name, e.name, kNameCapacity);
      if (c == 0) return Status::error(Error::duplicate_name, "tensor '%s' appears twice", e.name);
      if (c > 0)
        return Status::error(Error::bad_name, "tensor directory not sorted by name at '%s'", e.name);
    }
    if (!dtype_known(e.dtype))
      return Status::error(Error::unknown_dtype, "tensor '%s': unknown dtype %u", e.name, e.dtype);
    if (!layout_known(e.layout))
      return Status::error(Error::unknown_layout, "tensor '%s': unknown layout %u", e.name, e.layout);
    const DType dt = static_cast<DType>(e.dtype);
    const Layout lay = static_cast<Layout>(e.layout);
    if (lay != Layout::row_major && !(h.required_features & kReqPackedLayouts))
      return Status::error(Error::unknown_required_feature,
                           "tensor '%s' is packed but the file does not declare packed layouts", e.name);
    if (dtype_quantized(dt) && !(h.required_features & kReqQuantized))
      return Status::error(Error::unknown_required_feature,
                           "tensor '%s' is quantized but the file does not declare quantization", e.name);
    if (e.rank == 0 || e.rank > kMaxRank)
      return Status::error(Error::size_mismatch, "tensor '%s': rank %u outside [1, %u]", e.name, e.rank,
                           kMaxRank);
    for (uint32_t d = 0; d < kMaxRank; ++d) {
      if (d < e.rank && (e.shape[d] == 0 || e.shape[d] > (uint64_t)INT64_MAX))
        return Status::error(Error::size_mismatch, "tensor '%s': dimension %u is %llu", e.name, d,
                             (unsigned long long)e.shape[d]);
      if (d >= e.rank && e.shape[d] != 0)
        return Status::error(Error::size_mismatch, "tensor '%s': dimension %u set beyond rank %u",
                             e.name, d, e.rank);
    }
    uint64_t expect = 0;
    if (!tensor_bytes(dt, lay, e.shape, e.rank, &expect, e.layout_params))
      return Status::error(Error::size_mismatch, "tensor '%s': %s shape overflows or is invalid for its layout",
                           e.name, dtype_name(dt));
    if (expect != e.bytes)
      return Status::error(Error::size_mismatch, "tensor '%s': %llu bytes stored, %s x shape needs %llu",
                           e.name, (unsigned long long)e.bytes, dtype_name(dt), (unsigned long long)expect);
    if (e.offset % h.alignment != 0)
      return Status::error(Error::misaligned, "tensor '%s': offset %llu is not a multiple of %u", e.name,
                           (unsigned long long)e.offset, h.alignment);
    if (!detail::range_ok(e.offset, e.bytes, size_))
      return Status::error(Error::out_of_range, "tensor '%s': bytes [%llu, +%llu) lie outside the %zu-byte file",
                           e.name, (unsigned long long)e.offset, (unsigned long long)e.bytes, size_);
    // The writer lays data out in directory order, so overlap is a simple
    // comparison with the previous tensor's end.
    if (e.offset < prev_end)
      return Status::error(Error::overlapping_tensors,
                           "tensor '%s' at offset %llu overlaps the previous tensor or the metadata "
                           "(which end at %llu)",
                           e.name, (unsigned long long)e.offset, (unsigned long long)prev_end);
    prev_end = e.offset + e.bytes;
    if (e.flags & ~kKnownTensorFlags)
      return Status::error(Error::bad_tensor_data, "tensor '%s': unknown flags 0x%x", e.name,
                           e.flags & ~kKnownTensorFlags);
    if ((e.flags & kTensorQ7) && dt != DType::q8)
      return Status::error(Error::bad_tensor_data, "tensor '%s': flag q7 on a %s tensor (q8 only)", e.name,
                           dtype_name(dt));
    JEPA_RETURN_IF_ERROR(check_scales(e));
  }
  return Status::ok();
}

// Quantization scales must be finite, or every output using them is garbage.
// Canonical and panel layouts store them at different offsets (format.hpp).
inline Status ModelFile::check_scales(const format::TensorEntry& e) const {
  using namespace format;
  const DType dt = static_cast<DType>(e.dtype);
  if (!dtype_quantized(dt)) return Status::ok();
  const uint8_t* p = base_ + e.offset;
  uint64_t elems = 1;
  for (uint32_t d = 0; d < e.rank; ++d) elems *= e.shape[d];
  const uint64_t cols = elems / e.shape[0];
  const uint8_t* scales = nullptr;
  uint64_t count = 0;  // scales to check (panel padding rows included: they are 0)
  if (static_cast<Layout>(e.layout) == Layout::panel) {
    PanelGeometry g;
    if (!panel_geometry(dt, e.shape[0], cols, e.layout_params, &g))
      return Status::error(Error::size_mismatch, "tensor '%s': invalid panel parameters", e.name);
    scales = p + g.scale_offset;
    count = dt == DType::q8 ? g.np : g.np * (g.kp / kQ4Block);
  } else if (dt == DType::q8) {
    scales = p + ((elems + 63) & ~uint64_t(63));
    count = e.shape[0];
  } else {
    const uint64_t blocks = e.shape[0] * ((cols + kQ4Block - 1) / kQ4Block);
    scales = p + ((blocks * 16 + 63) & ~uint64_t(63));
    count = blocks;
  }
  for (uint64_t i = 0; i < count; ++i) {
    bool finite;
    if (dt == DType::q8) {
      float s;
      std::memcpy(&s, scales + 4 * i, 4);
      finite = std::isfinite(s);
    } else {
      uint16_t s;
      std::memcpy(&s, scales + 2 * i, 2);
      finite = (s & 0x7C00u) != 0x7C00u;
    }
    if (!finite)
      return Status::error(Error::non_finite, "tensor '%s': scale %llu (%s) is not finite", e.name,
                           (unsigned long long)i, dt == DType::q8 ? "row" : "block");
  }
  return Status::ok();
}

// A q7 tensor: every stored int8 value (padding included) in [-63, 63], and
// for panels each row_sum equal to the sum of its row's stored values, which
// is what the u8 x s8 kernels subtract (format.hpp).
inline Status ModelFile::check_q7_values(const format::TensorEntry& e) const {
  using namespace format;
  const int8_t* q = reinterpret_cast<const int8_t*>(base_ + e.offset);
  uint64_t elems = 1;
  for (uint32_t d = 0; d < e.rank; ++d) elems *= e.shape[d];
  const uint64_t rows = e.shape[0], cols = elems / rows;
  PanelGeometry g;
  const bool panel = static_cast<Layout>(e.layout) == Layout::panel;
  if (panel && !panel_geometry(DType::q8, rows, cols, e.layout_params, &g))
    return Status::error(Error::size_mismatch, "tensor '%s': invalid panel parameters", e.name);
  const uint64_t count = panel ? g.np * g.kp : elems;
  int lo = 0, hi = 0;
  for (uint64_t i = 0; i < count; ++i) {
    lo = q[i] < lo ? q[i] : lo;
    hi = q[i] > hi ? q[i] : hi;
  }
  if (lo < -kQ7Max || hi > kQ7Max)
    return Status::error(Error::bad_tensor_data, "tensor '%s' is flagged q7 but holds the value %d (bound +-%d)",
                         e.name, hi > kQ7Max ? hi : lo, kQ7Max);
  if (!panel) return Status::ok();
  // One panel at a time: a k-group is NR rows x KR values, row r at r*KR.
  // Sums modulo 2^32, as the kernels' int32 lanes compute them (no overflow UB).
  const uint8_t* sums = base_ + e.offset + g.sum_offset;
  uint32_t acc[kMaxPanelRows];
  for (uint64_t p = 0; p < g.np / g.nr; ++p) {
    const int8_t* panel_q = q + p * g.nr * g.kp;
    for (uint64_t r = 0; r < g.nr; ++r) acc[r] = 0;
    for (uint64_t grp = 0; grp < g.kp / g.kr; ++grp)
      for (uint64_t r = 0; r < g.nr; ++r)
        for (uint64_t j = 0; j < g.kr; ++j) acc[r] += (uint32_t)(int32_t)panel_q[(grp * g.nr + r) * g.kr + j];
    for (uint64_t r = 0; r < g.nr; ++r) {
      uint32_t stored;
      std::memcpy(&stored, sums + 4 * (p * g.nr + r), 4);
      if (stored != acc[r])
        return Status::error(Error::bad_tensor_data, "tensor '%s': row_sum[%llu] is %d, its values sum to %d",
                             e.name, (unsigned long long)(p * g.nr + r), (int32_t)stored, (int32_t)acc[r]);
    }
  }
  return Status::ok();
}

inline Status ModelFile::verify_tensor_crcs() const {
  const format::TensorEntry* te = entries();
  for (uint32_t i = 0; i < header_->tensor_count; ++i) {
    const uint32_t crc = crc32c(base_ + te[i].offset, te[i].bytes);
    if (crc != te[i].crc32c)
      return Status::error(Error::tensor_crc_mismatch,
                           "tensor '%s': data CRC32C 0x%08x, stored 0x%08x: weights corrupted", te[i].name,
                           crc, te[i].crc32c);
  }
  return Status::ok();
}

inline TensorInfo ModelFile::tensor(size_t i) const {
  const format::TensorEntry& e = entries()[i];
  TensorInfo t;
  t.name = e.name;
  t.dtype = static_cast<format::DType>(e.dtype);
  t.layout = static_cast<format::Layout>(e.layout);
  t.rank = e.rank;
  for (uint32_t d = 0; d < e.rank; ++d) t.shape[d] = (int64_t)e.shape[d];
  t.data = base_ + e.offset;
  t.bytes = e.bytes;
  t.layout_params = e.layout_params;
  t.flags = e.flags;  // a repack keeps every value, so an override keeps the flags
  if (overrides_ && overrides_[i].data) {
    const TensorOverride& o = overrides_[i];
    t.data = o.data;
    t.bytes = o.bytes;
    t.layout = o.layout;
    t.layout_params = o.params;
  }
  return t;
}

inline long ModelFile::find_index(const char* name) const {
  const format::TensorEntry* te = entries();
  long lo = 0, hi = (long)header_->tensor_count - 1;
  while (lo <= hi) {
    const long mid = lo + (hi - lo) / 2;
    const int c = std::strncmp(te[mid].name, name, format::kNameCapacity);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

inline Result<TensorInfo> ModelFile::find(const char* name) const {
  const long i = find_index(name);
  if (i < 0) return Status::error(Error::missing_tensor, "tensor '%s' is not in the file (kind %s)", name, kind());
  return tensor((size_t)i);
}

inline HParamInfo ModelFile::hparam(size_t i) const {
  const format::HParamEntry& e = hparams()[i];
  HParamInfo p;
  p.key = e.key;
  p.type = static_cast<format::HParamType>(e.type);
  p.count = e.count;
  p.entry = &e;
  return p;
}

inline const format::HParamEntry* ModelFile::find_hparam(const char* key) const {
  const format::HParamEntry* hp = hparams();
  for (uint32_t i = 0; i < header_->hparam_count; ++i)
    if (std::strncmp(hp[i].key, key, format::kKeyCapacity) == 0) return &hp[i];
  return nullptr;
}

inline Result<int64_t> ModelFile::get_int(const char* key) const {
  const format::HParamEntry* e = find_hparam(key);
  if (!e) return Status::error(Error::bad_hparam, "hyper-parameter '%s' is missing (kind %s)", key, kind());
  if (e->type != (uint32_t)format::HParamType::i64)
    return Status::error(Error::bad_hparam, "hyper-parameter '%s' is not an integer", key);
  return e->value.i;
}

inline Result<double> ModelFile::get_float(const char* key) const {
  const format::HParamEntry* e = find_hparam(key);
  if (!e) return Status::error(Error::bad_hparam, "hyper-parameter '%s' is missing (kind %s)", key, kind());
  if (e->type == (uint32_t)format::HParamType::i64) return (double)e->value.i;
  if (e->type != (uint32_t)format::HParamType::f64)
    return Status::error(Error::bad_hparam, "hyper-parameter '%s' is not a number", key);
  return e->value.f;
}

inline Result<StringRef> ModelFile::get_string(const char* key) const {
  const format::HParamEntry* e = find_hparam(key);
  if (!e) return Status::error(Error::bad_hparam, "hyper-parameter '%s' is missing (kind %s)", key, kind());
  if (e->type != (uint32_t)format::HParamType::str)
    return Status::error(Error::bad_hparam, "hyper-parameter '%s' is not a string", key);
  StringRef s;
  s.data = reinterpret_cast<const char*>(base_ + e->value.offset);
  s.size = e->count;
  return s;
}

inline Result<ArrayRef<int64_t>> ModelFile::get_ints(const char* key) const {
  const format::HParamEntry* e = find_hparam(key);
  if (!e) return Status::error(Error::bad_hparam, "hyper-parameter '%s' is missing (kind %s)", key, kind());
  if (e->type != (uint32_t)format::HParamType::i64_array)
    return Status::error(Error::bad_hparam, "hyper-parameter '%s' is not an integer array", key);
  ArrayRef<int64_t> a;
  a.data = reinterpret_cast<const int64_t*>(base_ + e->value.offset);
  a.size = e->count;
  return a;
}

inline Result<ArrayRef<double>> ModelFile::get_floats(const char* key) const {
  const format::HParamEntry* e = find_hparam(key);
  if (!e) return Status::error(Error::bad_hparam, "hyper-parameter '%s' is missing (kind %s)", key, kind());
  if (e->type != (uint32_t)format::HParamType::f64_array)
    return Status::error(Error::bad_hparam, "hyper-parameter '%s' is not a float array", key);
  ArrayRef<double> a;
  a.data = reinterpret_cast<const double*>(base_ + e->value.offset);
  a.size = e->count;
  return a;
}

}  // namespace jepa

#endif  // JEPA_FORMAT_MODEL_FILE_HPP
