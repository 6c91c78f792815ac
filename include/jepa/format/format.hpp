// jepa/format/format.hpp: the .jepa file format, the one header that mirrors
// docs/FORMAT.md. Every on-disk struct is here, with static_asserted sizes and
// offsets; a test checks them against the offsets the spec documents.
//
// Conventions (used everywhere in jepa-rt, never deviated from):
//  * little-endian, fixed-width fields; all offsets are absolute file offsets;
//  * row-major tensors; a Linear layer computes y = x W^T + b with W stored
//    [out][in] = [N][K], exactly as PyTorch stores nn.Linear;
//  * every tensor starts at a multiple of FileHeader::alignment (64), so a
//    mapped file or a const array in flash is used in place.
//
// File layout:
//   FileHeader (128 B) | HParamEntry[hparam_count] | TensorEntry[tensor_count]
//   | blob pool (hparam strings/arrays) | pad | tensor data (each aligned)
#ifndef JEPA_FORMAT_FORMAT_HPP
#define JEPA_FORMAT_FORMAT_HPP

#include <cstddef>
#include <cstdint>

#include "../detail/checked.hpp"

namespace jepa {
namespace format {

// "JEPART" then 0x1A (stops `type` on DOS) and '\n' (catches CRLF mangling),
// in the spirit of PNG's signature.
constexpr uint8_t kMagic[8] = {'J', 'E', 'P', 'A', 'R', 'T', 0x1A, '\n'};
constexpr uint16_t kVersionMajor = 1;
constexpr uint16_t kVersionMinor = 0;
// 64 B: a cache line, and the widest SIMD load (AVX-512) we issue on weights.
constexpr uint32_t kDefaultAlignment = 64;
constexpr uint32_t kMaxRank = 8;
constexpr uint32_t kNameCapacity = 128;   // TensorEntry::name, NUL-padded
constexpr uint32_t kKeyCapacity = 40;     // HParamEntry::key, NUL-padded
constexpr uint32_t kKindCapacity = 32;    // FileHeader::model_kind
constexpr uint32_t kMaxHParams = 1024;    // more is a hostile file, not a model

// Required features: a reader that does not know a set bit must reject the
// file. Optional features may be ignored.
enum RequiredFeature : uint64_t {
  kReqPackedLayouts = 1ull << 0,  // some tensor uses a non-canonical layout
  kReqQuantized = 1ull << 1,      // some tensor is q8/q4
};
constexpr uint64_t kKnownRequiredFeatures = kReqPackedLayouts | kReqQuantized;

enum OptionalFeature : uint64_t {
  kOptTensorCrc = 1ull << 0,  // TensorEntry::crc32c is filled in
  kOptSelfTest = 1ull << 1,   // "selftest.*" tensors hold an input/output pair
};

// TensorEntry::flags. A reader rejects bits it does not know (bad_tensor_data).
enum TensorFlag : uint32_t {
  // q8 only: every stored int8 value lies in [-kQ7Max, kQ7Max] (7-bit
  // weights), and panel row sums are exact. The loader checks both; kernels
  // that multiply u8 activations by these weights with vpmaddubsw (no int8
  // dot product on AVX2) need the bound to never saturate their int16 pairs.
  kTensorQ7 = 1u << 0,
};
constexpr uint32_t kKnownTensorFlags = kTensorQ7;
constexpr int32_t kQ7Max = 63;

// Element types. Values are stable on disk.
enum class DType : uint32_t {
  f32 = 1,
  f16 = 2,
  bf16 = 3,
  q8 = 4,   // int8 symmetric, one f32 scale per output row (dim 0)
  q4 = 5,   // int4 symmetric, blocks of 32 along K, one f16 scale per block
  i32 = 6,
  i64 = 7,
  u8 = 8,
};

// How a tensor's bytes are arranged. Canonical row-major is the portable
// fallback; packed layouts are what a microkernel reads (params in
// TensorEntry::layout_params). Values are stable on disk.
enum class Layout : uint32_t {
  row_major = 0,
  panel = 1,  // N-panels of NR rows, K interleaved by KR (params: NR, KR); see below
};

// q8, canonical: int8 q[N][K] (row-major), then, at the next 64-byte
// boundary inside the tensor, float scale[N]; w[n][k] = q[n][k] * scale[n].
// q4, canonical: KB = ceil(K/32) blocks per row. nibbles[N][KB][16] bytes:
// byte j of a block holds element j in its low nibble and element j+16 in its
// high nibble, each stored as v+8 (v in [-8,7]; K padded with v=0). Then, at the
// next 64-byte boundary, f16 scale[N][KB]; w = v * scale.
constexpr uint32_t kQ4Block = 32;

constexpr size_t dtype_scalar_bytes(DType t) {
  switch (t) {
    case DType::f32: case DType::i32: return 4;
    case DType::f16: case DType::bf16: return 2;
    case DType::i64: return 8;
    case DType::u8: case DType::q8: return 1;
    case DType::q4: return 0;  // sub-byte; see tensor_bytes
  }
  return 0;
}

constexpr bool dtype_known(uint32_t t) { return t >= 1 && t <= 8; }
constexpr bool dtype_quantized(DType t) { return t == DType::q8 || t == DType::q4; }

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::q8: return "q8";
    case DType::q4: return "q4";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::u8: return "u8";
  }
  return "?";
}

inline const char* layout_name(Layout l) {
  switch (l) {
    case Layout::row_major: return "row_major";
    case Layout::panel: return "panel";
  }
  return "?";
}

constexpr bool layout_known(uint32_t l) { return l <= 1; }

// Hyper-parameter value types.
enum class HParamType : uint32_t {
  i64 = 1,        // value.i
  f64 = 2,        // value.f
  str = 3,        // count bytes (no NUL) at value.offset in the blob pool
  i64_array = 4,  // count int64 at value.offset (8-aligned)
  f64_array = 5,  // count double at value.offset (8-aligned)
};

#pragma pack(push, 1)
struct FileHeader {
  uint8_t magic[8];              // kMagic
  uint16_t version_major;        // kVersionMajor; a reader rejects another major
  uint16_t version_minor;        // newer minors only add optional features
  uint32_t header_bytes;         // sizeof(FileHeader)
  uint64_t file_bytes;           // total file size
  uint64_t required_features;    // RequiredFeature bits
  uint64_t optional_features;    // OptionalFeature bits
  char model_kind[kKindCapacity];  // e.g. "vjepa2.encoder", NUL-padded
  uint32_t alignment;            // every tensor offset is a multiple of it
  uint32_t hparam_count;
  uint64_t hparam_offset;        // HParamEntry[hparam_count]
  uint64_t tensor_offset;        // TensorEntry[tensor_count]
  uint32_t tensor_count;
  uint32_t reserved0;            // 0
  uint64_t pool_offset;          // blob pool for hparam strings and arrays
  uint64_t pool_bytes;
  uint32_t tables_crc32c;        // CRC32C of hparam table + tensor directory + pool
  uint32_t header_crc32c;        // CRC32C of bytes [0, 124) of this header
};

union HParamValue {
  int64_t i;
  double f;
  uint64_t offset;  // str and arrays: absolute offset inside the blob pool
};

struct HParamEntry {
  char key[kKeyCapacity];  // NUL-padded, non-empty
  uint32_t type;           // HParamType
  uint32_t count;          // 1 for scalars; elements (or bytes for str)
  HParamValue value;
};

struct TensorEntry {
  char name[kNameCapacity];   // NUL-padded, non-empty, unique
  uint32_t dtype;             // DType
  uint32_t layout;            // Layout
  uint32_t rank;              // 1..kMaxRank
  uint32_t flags;             // TensorFlag bits (0 for most tensors)
  uint64_t shape[kMaxRank];   // logical shape; unused dims are 0
  uint64_t offset;            // absolute, multiple of FileHeader::alignment
  uint64_t bytes;             // must equal tensor_bytes(dtype, layout, shape)
  uint32_t crc32c;            // CRC32C of the data (if kOptTensorCrc)
  uint32_t reserved1;         // 0
  uint32_t layout_params[6];  // meaning depends on layout (0 for row_major)
};
#pragma pack(pop)

static_assert(sizeof(FileHeader) == 128, "FileHeader is 128 bytes");
static_assert(offsetof(FileHeader, version_major) == 8, "");
static_assert(offsetof(FileHeader, header_bytes) == 12, "");
static_assert(offsetof(FileHeader, file_bytes) == 16, "");
static_assert(offsetof(FileHeader, required_features) == 24, "");
static_assert(offsetof(FileHeader, optional_features) == 32, "");
static_assert(offsetof(FileHeader, model_kind) == 40, "");
static_assert(offsetof(FileHeader, alignment) == 72, "");
static_assert(offsetof(FileHeader, hparam_count) == 76, "");
static_assert(offsetof(FileHeader, hparam_offset) == 80, "");
static_assert(offsetof(FileHeader, tensor_offset) == 88, "");
static_assert(offsetof(FileHeader, tensor_count) == 96, "");
static_assert(offsetof(FileHeader, pool_offset) == 104, "");
static_assert(offsetof(FileHeader, pool_bytes) == 112, "");
static_assert(offsetof(FileHeader, tables_crc32c) == 120, "");
static_assert(offsetof(FileHeader, header_crc32c) == 124, "");
static_assert(sizeof(HParamEntry) == 56, "HParamEntry is 56 bytes");
static_assert(offsetof(HParamEntry, type) == 40, "");
static_assert(offsetof(HParamEntry, count) == 44, "");
static_assert(offsetof(HParamEntry, value) == 48, "");
static_assert(sizeof(TensorEntry) == 256, "TensorEntry is 256 bytes");
static_assert(offsetof(TensorEntry, dtype) == 128, "");
static_assert(offsetof(TensorEntry, layout) == 132, "");
static_assert(offsetof(TensorEntry, rank) == 136, "");
static_assert(offsetof(TensorEntry, flags) == 140, "");
static_assert(offsetof(TensorEntry, shape) == 144, "");
static_assert(offsetof(TensorEntry, offset) == 208, "");
static_assert(offsetof(TensorEntry, bytes) == 216, "");
static_assert(offsetof(TensorEntry, crc32c) == 224, "");
static_assert(offsetof(TensorEntry, layout_params) == 232, "");
constexpr size_t kHeaderCrcSpan = offsetof(FileHeader, header_crc32c);

// Layout::panel (docs/FORMAT.md "Packed layouts"): what the SIMD GEMMs read.
// layout_params[0] = NR (rows per panel, 1..64), [1] = KR (K interleave:
// 1, 2 or 4; q4 needs 4), [2..5] = 0. Np = N rounded up to NR, Kp = K rounded
// up to KR (q4: to 32); padding rows/columns hold zero weights. Panel p holds
// rows [p*NR, p*NR+NR). Element (n, k), r = n % NR, lives at
//   f32/f16/bf16/q8 element index ((p*(Kp/KR) + k/KR)*NR + r)*KR + k%KR
// so one k-group of a panel is NR*KR contiguous elements (a SIMD load).
//   q8: those int8 values (Np*Kp bytes), then at the next 64-byte boundary
//       float scale[Np], then int32 row_sum[Np] (sum over k of q[n][k], for
//       the u8*s8 dot-product offset trick); padding rows have scale 0.
//   q4: for block b (32 k), quad j in 0..3, row r, i in 0..3, the byte at
//       ((p*KB + b)*4 + j)*NR*4 + r*4 + i holds v(n, 32b+4j+i)+8 in its low
//       nibble and v(n, 32b+16+4j+i)+8 in its high nibble (KB = Kp/32), so
//       masking / shifting 64 bytes gives two KR=4 int8 k-groups. Then, at the
//       next 64-byte boundary, f16 scale[Np/NR][KB][NR] (scale of row p*NR+r,
//       block b at (p*KB + b)*NR + r).
constexpr uint32_t kMaxPanelRows = 64;

struct PanelGeometry {
  uint64_t nr = 0, kr = 0;  // rows per panel, K interleave
  uint64_t np = 0, kp = 0;  // padded N and K
  uint64_t data_bytes = 0;  // weights (elements, int8 or nibbles), before padding to 64
  uint64_t scale_offset = 0;  // q8/q4: byte offset of the scales (64-aligned)
  uint64_t sum_offset = 0;    // q8: byte offset of row_sum
  uint64_t bytes = 0;         // the whole tensor
};

// Geometry of a panel-packed [n][k] matrix, or false for invalid params /
// overflow. Shared by tensor_bytes, the loader's scale check and the kernels.
inline bool panel_geometry(DType dtype, uint64_t n, uint64_t k, const uint32_t* params,
                           PanelGeometry* g) {
  const uint64_t nr = params[0], kr = params[1];
  if (nr == 0 || nr > kMaxPanelRows || !(kr == 1 || kr == 2 || kr == 4)) return false;
  for (int i = 2; i < 6; ++i)
    if (params[i] != 0) return false;
  if (dtype == DType::q4 && kr != 4) return false;
  const uint64_t kalign = dtype == DType::q4 ? kQ4Block : kr;
  PanelGeometry r;
  r.nr = nr;
  r.kr = kr;
  if (!detail::round_up_ok(n, nr, &r.np) || !detail::round_up_ok(k, kalign, &r.kp)) return false;
  uint64_t elems = 0;
  if (!detail::mul_ok(r.np, r.kp, &elems)) return false;
  switch (dtype) {
    case DType::f32: case DType::f16: case DType::bf16:
      if (!detail::mul_ok(elems, dtype_scalar_bytes(dtype), &r.data_bytes)) return false;
      r.bytes = r.data_bytes;
      break;
    case DType::q8: {
      r.data_bytes = elems;
      uint64_t s4 = 0;
      if (!detail::round_up_ok(elems, 64, &r.scale_offset) || !detail::mul_ok(r.np, 4, &s4) ||
          !detail::add_ok(r.scale_offset, s4, &r.sum_offset) || !detail::add_ok(r.sum_offset, s4, &r.bytes))
        return false;
      break;
    }
    case DType::q4: {
      r.data_bytes = elems / 2;
      uint64_t s2 = 0;
      if (!detail::round_up_ok(r.data_bytes, 64, &r.scale_offset) ||
          !detail::mul_ok(r.np, (r.kp / kQ4Block) * 2, &s2) || !detail::add_ok(r.scale_offset, s2, &r.bytes))
        return false;
      break;
    }
    default:
      return false;  // integer tensors are never packed
  }
  *g = r;
  return true;
}

// Byte size of a tensor's data, or false on overflow / unsupported combination.
// rows = shape[0]; cols = product of the other dims (the K of a weight).
// params = TensorEntry::layout_params (needed by packed layouts; may be null
// for row_major).
inline bool tensor_bytes(DType dtype, Layout layout, const uint64_t* shape, uint32_t rank,
                         uint64_t* out, const uint32_t* params = nullptr) {
  if (rank == 0 || rank > kMaxRank) return false;
  uint64_t elems = 1;
  for (uint32_t i = 0; i < rank; ++i)
    if (!detail::mul_ok(elems, shape[i], &elems)) return false;
  if (layout == Layout::panel) {
    if (params == nullptr || rank < 2) return false;
    PanelGeometry g;
    if (!panel_geometry(dtype, shape[0], elems / shape[0], params, &g)) return false;
    *out = g.bytes;
    return true;
  }
  if (layout != Layout::row_major) return false;
  switch (dtype) {
    case DType::q8: {
      // int8 block then f32 scale per row; needs a matrix view (rank >= 2)
      if (rank < 2) return false;
      uint64_t q = 0, scales = 0;
      if (!detail::round_up_ok(elems, 64, &q)) return false;
      if (!detail::mul_ok(shape[0], 4, &scales)) return false;
      return detail::add_ok(q, scales, out);
    }
    case DType::q4: {
      if (rank < 2) return false;
      const uint64_t rows = shape[0];
      const uint64_t cols = rows ? elems / rows : 0;
      uint64_t blocks_per_row = (cols + kQ4Block - 1) / kQ4Block;
      uint64_t blocks = 0, nib = 0, nib_pad = 0, scales = 0;
      if (!detail::mul_ok(rows, blocks_per_row, &blocks)) return false;
      if (!detail::mul_ok(blocks, 16, &nib)) return false;
      if (!detail::round_up_ok(nib, 64, &nib_pad)) return false;
      if (!detail::mul_ok(blocks, 2, &scales)) return false;
      return detail::add_ok(nib_pad, scales, out);
    }
    default:
      return detail::mul_ok(elems, dtype_scalar_bytes(dtype), out);
  }
}

}  // namespace format
}  // namespace jepa

#endif  // JEPA_FORMAT_FORMAT_HPP
