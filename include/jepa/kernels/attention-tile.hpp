// jepa/kernels/attention-tile.hpp: the contract between the fused attention op
// (ops/attention.hpp) and its microkernels (scalar reference and SIMD alike).
//
// One call is one step of the online softmax (flash attention) for a block of
// up to kAttnRows query rows against a block of up to kAttnKeys keys of one
// head: scores s = q k^T * scale (masked keys = -inf), then per row
//   m' = max(m, max_j s_j);  alpha = e^(m - m');  p_j = e^(s_j - m')
//   sum = sum * alpha + sum_j p_j;  acc = acc * alpha + sum_j p_j v_j
// The op divides acc by sum after the last key block. Scores exist only for
// one tile (kernel scratch, kAttnRows x kAttnKeys floats): never N x N.
// The op packs each key block once for all the query blocks of a task: V
// rows contiguous, and K transposed when the kernel has a packer
// (AttnPackKtFn; AVX2 does, for contiguous 16-key score vectors). A bf16
// kernel (AttnMath::bf16) packs both K and V into its own tile layouts.
#ifndef JEPA_KERNELS_ATTENTION_TILE_HPP
#define JEPA_KERNELS_ATTENTION_TILE_HPP

#include <cstddef>
#include <cstdint>

namespace jepa {
namespace kernels {

constexpr int32_t kAttnRows = 8;   // query rows per tile of the f32 kernels
// Query rows per task of the op, and the most a kernel may take per call
// (AttnKernelInfo::rows_per_call: the AMX tiles take a task's rows at once).
constexpr int32_t kAttnMaxCallRows = 16 * kAttnRows;
constexpr int32_t kAttnKeys = 64;  // keys per tile: scores of a tile stay in L1

// The arithmetic a tile kernel does; the model chooses how much it allows
// (a run-time choice, never stored in the file).
//   f32:  q.k and p.v from f32 q, k, p and v, summed in f32 (every kernel).
//   bf16: q, k, p and v rounded to bf16 (nearest even), products summed in
//         f32; the softmax (max, e^x, sum) stays f32. Allowed, not forced:
//         it runs only where a bf16 tile kernel is compiled in and the CPU has
//         it (AMX, or AVX-512 BF16), and where the op's shape suits it;
//         elsewhere the f32 tile runs. ref::bf16_attention_tile__ref is its statement in C++.
//   automatic: a model's policy (models::attention_math_for), never seen by a
//         kernel: bf16 allowed where the layer's weights are not f32, else f32.
//         The attention op treats it as f32.
enum class AttnMath : uint8_t { f32 = 0, bf16 = 1, automatic = 2 };

// The widest head a bf16 tile takes (the op's stack buffers hold its packed
// K and V); wider heads run the f32 tile.
constexpr int32_t kAttnBf16MaxHeadDim = 96;

struct AttnTileArgs {
  int32_t rows = 0;      // query rows, 1..the kernel's rows_per_call (kAttnRows or up to kAttnMaxCallRows)
  int32_t keys = 0;      // keys in this block, 1..kAttnKeys
  int32_t head_dim = 0;
  float scale = 1.0f;    // applied to q.k
  const float* q = nullptr;  // row i at q + i*ldq (head_dim floats)
  size_t ldq = 0;
  const float* k = nullptr;  // key j at k + j*ldk, value j at v + j*ldv
  const float* v = nullptr;
  size_t ldk = 0;
  size_t ldv = 0;
  // Null, or the same keys in the layout of the kernel's packer (f32 kernels:
  // key j's element d at kt[d*kAttnKeys + j], zeros for j in [keys, keys
  // rounded up to 8); bf16 kernels: their own tiles, in the same buffer).
  const float* kt = nullptr;
  // Null, or the values packed by the kernel's AttnPackVFn (v is then unused).
  const void* vp = nullptr;
  // Row i attends to keys [0, visible[i]) of the block (block-causal prefix;
  // 0..keys), further restricted by mask (row i, key j allowed iff
  // mask[i*ldmask + j] != 0) when mask is not null. Keys a row does not see
  // get p = 0 exactly, whatever their k holds.
  const int32_t* visible = nullptr;
  const uint8_t* mask = nullptr;
  size_t ldmask = 0;
  float* max = nullptr;  // [rows] running row max, -inf before the first block
  float* sum = nullptr;  // [rows] running sum of p, 0 before the first block
  // [R][ldacc] running sum of p v, R = rows rounded up to kAttnRows (and to
  // 16 for a kernel of more rows per call); rows >= `rows` are scratch.
  // ldacc >= head_dim rounded up to 16 when head_dim <= 96 (columns past
  // head_dim are scratch too).
  float* acc = nullptr;
  size_t ldacc = 0;
  float* scores = nullptr;  // [kAttnRows][kAttnKeys] kernel scratch (a kernel of more rows has its own)
};

// Rows [i0, i0 + rows) of a call, as the SIMD tiles walk them (at most
// max_rows at a time): the keys any of them sees (jmax; 0: skip the group),
// and whether every one sees exactly those keys with no mask (dense: the
// tiles' faster softmax path).
struct AttnRowGroup {
  int32_t rows = 0;
  int32_t jmax = 0;
  bool dense = false;
};

inline AttnRowGroup attn_row_group(const AttnTileArgs& a, int32_t i0, int32_t max_rows) {
  AttnRowGroup g;
  g.rows = a.rows - i0 < max_rows ? a.rows - i0 : max_rows;
  for (int32_t r = 0; r < g.rows; ++r) g.jmax = a.visible[i0 + r] > g.jmax ? a.visible[i0 + r] : g.jmax;
  g.dense = a.mask == nullptr;
  for (int32_t r = 0; r < g.rows; ++r) g.dense = g.dense && a.visible[i0 + r] == g.jmax;
  return g;
}

// A tile kernel (or the reference). A row whose visible keys in the block are
// all masked is left exactly as it was.
using AttnTileFn = void (*)(const AttnTileArgs& a);

// Writes the kt layout above for keys [0, keys) (keys <= kAttnKeys) of k (row
// stride ldk), head_dim floats each, into kt [head_dim][kAttnKeys] (a bf16
// kernel: its own layout, as for AttnPackVFn).
using AttnPackKtFn = void (*)(const float* k, size_t ldk, int32_t keys, int32_t head_dim, float* kt);

// Writes keys [0, keys) of v (row stride ldv, head_dim floats each) into the
// kernel's own layout at dst, zeros where its tiles run past keys or
// head_dim. A packer of both K and V (the bf16 tiles) writes at most
// kAttnKeys x 96 floats' bytes into each buffer: the op runs such kernels for
// head_dim <= 96 only, where its buffers have that size whatever head_dim.
using AttnPackVFn = void (*)(const float* v, size_t ldv, int32_t keys, int32_t head_dim, void* dst);

// Widens rows x n halfs (rows ld elements apart) to floats (ld_dst apart):
// f16 K/V caches are read through it, once per key block and task.
using AttnWidenF16Fn = void (*)(const uint16_t* src, size_t ld, int32_t rows, int32_t n, float* dst, size_t ld_dst);

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_ATTENTION_TILE_HPP
