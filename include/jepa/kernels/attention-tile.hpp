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
// (AttnPackKtFn; AVX2 does, for contiguous 16-key score vectors).
#ifndef JEPA_KERNELS_ATTENTION_TILE_HPP
#define JEPA_KERNELS_ATTENTION_TILE_HPP

#include <cstddef>
#include <cstdint>

namespace jepa {
namespace kernels {

constexpr int32_t kAttnRows = 8;   // query rows per tile (and per task of the op)
constexpr int32_t kAttnKeys = 64;  // keys per tile: scores of a tile stay in L1

struct AttnTileArgs {
  int32_t rows = 0;      // query rows, 1..kAttnRows
  int32_t keys = 0;      // keys in this block, 1..kAttnKeys
  int32_t head_dim = 0;
  float scale = 1.0f;    // applied to q.k
  const float* q = nullptr;  // row i at q + i*ldq (head_dim floats)
  size_t ldq = 0;
  const float* k = nullptr;  // key j at k + j*ldk, value j at v + j*ldv
  const float* v = nullptr;
  size_t ldk = 0;
  size_t ldv = 0;
  // Null, or the same keys transposed by the kernel's packer: key j's
  // element d at kt[d*kAttnKeys + j], zeros for j in [keys, keys rounded up to 8).
  const float* kt = nullptr;
  // Row i attends to keys [0, visible[i]) of the block (block-causal prefix;
  // 0..keys), further restricted by mask (row i, key j allowed iff
  // mask[i*ldmask + j] != 0) when mask is not null. Keys a row does not see
  // get p = 0 exactly, whatever their k holds.
  const int32_t* visible = nullptr;
  const uint8_t* mask = nullptr;
  size_t ldmask = 0;
  float* max = nullptr;  // [kAttnRows] running row max, -inf before the first block
  float* sum = nullptr;  // [kAttnRows] running sum of p, 0 before the first block
  float* acc = nullptr;  // [kAttnRows][ldacc] running sum of p v (rows >= `rows` too: scratch)
  size_t ldacc = 0;
  float* scores = nullptr;  // [kAttnRows][kAttnKeys] kernel scratch
};

// A tile kernel (or the reference). A row whose visible keys in the block are
// all masked is left exactly as it was.
using AttnTileFn = void (*)(const AttnTileArgs& a);

// Writes the kt layout above for keys [0, keys) (keys <= kAttnKeys) of k (row
// stride ldk), head_dim floats each, into kt [head_dim][kAttnKeys].
using AttnPackKtFn = void (*)(const float* k, size_t ldk, int32_t keys, int32_t head_dim, float* kt);

// Widens rows x n halfs (rows ld elements apart) to floats (ld_dst apart):
// f16 K/V caches are read through it, once per key block and task.
using AttnWidenF16Fn = void (*)(const uint16_t* src, size_t ld, int32_t rows, int32_t n, float* dst, size_t ld_dst);

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_ATTENTION_TILE_HPP
