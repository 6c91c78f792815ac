// jepa/kernels/x86/bf16-attention-128x64-amx.hpp: bf16_attention_128x64__amx,
// the online-softmax attention tile (kernels/attention-tile.hpp) with
// AttnMath::bf16 arithmetic on AMX: up to 128 query rows (a whole task of the
// op) x 64 keys, head_dim <= 96. Both products run as tdpbf16ps (bf16 pairs
// summed into f32), 16 rows a tile:
//   S = Q K^T: A = the query rows in bf16 (32 dims a k-step), B = the key
//       block packed once per task (bf16-attention-pack-avx512bf16.hpp);
//   P V:       A = p in bf16 (32 keys a k-step), B = the value block packed
//       likewise; C = the op's accumulator rows, loaded, summed into and
//       stored in place.
// Scaling, masks and the online softmax between them are the AVX-512 f32
// tile's own (attn512::softmax_row / softmax_4rows_dense), on the stored S.
// What it computes is ref::bf16_attention_tile__ref, within the float
// accumulation bound (AMX also flushes bf16 denormals to zero).
//
// Why a whole task per call: a tile load waits until the vector stores before
// it have committed, and vector loads wait for tile stores, so each switch
// between the tile unit and the vector unit drains the pipeline. At 8 rows a
// call those drains cost more than the products (measured: no faster than
// the f32 AVX-512 tile); a call of a task's rows switches 3 times for all.
//
// Tile registers (the asm macros of tile-gemm-amx.hpp take their numbers as
// immediates), all 16 rows x 64 bytes: 0-3 accumulators (16 x 16 f32), 4 the
// A operand (16 x 32 bf16), 5-7 B operands (16 pair rows x 16 columns) in
// turn, so a load can overlap the products before it. The op configures
// them once a task (task_begin / task_end).
#ifndef JEPA_KERNELS_X86_BF16_ATTENTION_128X64_AMX_HPP
#define JEPA_KERNELS_X86_BF16_ATTENTION_128X64_AMX_HPP

#include "bf16-attention-pack-avx512bf16.hpp"
#include "f32-attention-8x64-avx512.hpp"
#include "tile-gemm-amx.hpp"

#if defined(JEPA_KERNELS_X86_AMX)
namespace jepa {
namespace kernels {
namespace x86 {
namespace attn_amx {

using namespace attn_bf16;

// C_t += A (tile 4) x B_t for t < n (1..4): B_t loaded from b[t] (64-byte
// rows), through B tiles 5, 6, 7, 5 in turn.
inline void dp_bf16_into_c(const uint8_t* const b[4], int n) {
  JEPA_AMX_LOAD(5, b[0], 64);
  JEPA_AMX_DP("tdpbf16ps", 0, 4, 5);
  if (n > 1) {
    JEPA_AMX_LOAD(6, b[1], 64);
    JEPA_AMX_DP("tdpbf16ps", 1, 4, 6);
  }
  if (n > 2) {
    JEPA_AMX_LOAD(7, b[2], 64);
    JEPA_AMX_DP("tdpbf16ps", 2, 4, 7);
  }
  if (n > 3) {
    JEPA_AMX_LOAD(5, b[3], 64);
    JEPA_AMX_DP("tdpbf16ps", 3, 4, 5);
  }
}

}  // namespace attn_amx

// The op's task_begin: all 8 tiles 16 rows x 64 bytes (the tile kernel
// assumes it; the op's task_end is amx_release).
inline void bf16_attention_begin__amx() { amx_configure(16, 16); }

// Needs a.kt and a.vp packed by bf16_attention_pack_k / _v__avx512bf16, head_dim <= 96,
// a.acc rows padded as the contract says (ldacc >= head_dim rounded up to 16,
// rows rounded up to 16), and the tiles configured by bf16_attention_begin__amx.
JEPA_TARGET_AMX inline void bf16_attention_128x64__amx(const AttnTileArgs& a) {
  using namespace attn_amx;
  constexpr int32_t kRows = kAttnMaxCallRows;
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const int32_t hd = a.head_dim, rows = a.rows;
  int32_t jmax = 0;  // keys any row of the call sees
  for (int32_t r = 0; r < rows; ++r) jmax = a.visible[r] > jmax ? a.visible[r] : jmax;
  if (jmax == 0) return;
  const int ksteps = (hd + 31) / 32, groups = (jmax + 15) / 16;
  const int vsteps = (jmax + 31) / 32, dgroups = (hd + 15) / 16;
  const int32_t rows16 = (rows + 15) / 16 * 16;  // tiles run whole 16-row groups
  const uint8_t* kp = reinterpret_cast<const uint8_t*>(a.kt);
  const uint8_t* vp = static_cast<const uint8_t*>(a.vp);

  // The query rows in bf16, zeros past head_dim and past the call's rows.
  alignas(64) uint16_t qb[kRows][kMaxKSteps * 32];
  for (int32_t r = 0; r < rows16; ++r)
    for (int ks = 0; ks < ksteps; ++ks) {
      const __m512i x = r < rows ? bf16x32(a.q + (size_t)r * a.ldq + ks * 32, hd - ks * 32) : _mm512_setzero_si512();
      _mm512_store_si512(&qb[r][ks * 32], x);
    }

  // S = Q K^T, 16 rows at a time, into this call's own scores.
  alignas(64) float sc[kRows][kAttnKeys];
  for (int32_t r0 = 0; r0 < rows16; r0 += 16) {
    JEPA_AMX_ZERO(0);
    JEPA_AMX_ZERO(1);
    JEPA_AMX_ZERO(2);
    JEPA_AMX_ZERO(3);
    for (int ks = 0; ks < ksteps; ++ks) {
      JEPA_AMX_LOAD(4, &qb[r0][ks * 32], sizeof qb[0]);
      const uint8_t* const b[4] = {kp + k_tile(ks, 0), kp + k_tile(ks, 1), kp + k_tile(ks, 2), kp + k_tile(ks, 3)};
      dp_bf16_into_c(b, groups);
    }
    JEPA_AMX_STORE(0, &sc[r0][0], sizeof sc[0]);
    if (groups > 1) JEPA_AMX_STORE(1, &sc[r0][16], sizeof sc[0]);
    if (groups > 2) JEPA_AMX_STORE(2, &sc[r0][32], sizeof sc[0]);
    if (groups > 3) JEPA_AMX_STORE(3, &sc[r0][48], sizeof sc[0]);
  }

  // Scale; keys past jmax (zero-padded, or keys of a longer block) -inf; row maxima.
  const __m512 vscale = _mm512_set1_ps(a.scale), vneg = _mm512_set1_ps(neg_inf);
  float row_max[kRows];
  for (int32_t r = 0; r < rows16; ++r) {
    __m512 m = vneg;
    for (int g = 0; g < groups; ++g) {
      const __m512 scaled = _mm512_mul_ps(_mm512_load_ps(&sc[r][16 * g]), vscale);
      const __m512 x = _mm512_mask_mov_ps(vneg, tail_mask16(jmax - 16 * g), scaled);
      _mm512_store_ps(&sc[r][16 * g], x);
      m = _mm512_max_ps(m, x);
    }
    row_max[r] = hmax16(m);
  }
  // The f32 tile's online softmax, 4 rows at a time: p in the scores, zero
  // for keys a row does not see (to jmax); then acc *= alpha, row by row.
  AttnTileArgs t = a;
  t.scores = &sc[0][0];
  float alpha[kRows];
  for (int32_t i0 = 0; i0 < rows; i0 += 4) {
    const int32_t nrows = rows - i0 < 4 ? rows - i0 : 4;
    bool dense = a.mask == nullptr;
    for (int32_t r = 0; r < nrows; ++r) dense = dense && a.visible[i0 + r] == jmax;
    if (dense) {
      attn512::softmax_4rows_dense(t, i0, nrows, jmax, row_max + i0, alpha + i0);
    } else {
      for (int32_t r = 0; r < nrows; ++r) alpha[i0 + r] = attn512::softmax_row(t, i0 + r, jmax);
    }
  }
  // p in bf16 for P V (zeros past jmax, to the 32-key step, and past the
  // rows); acc *= alpha.
  alignas(64) uint16_t pb[kRows][kAttnKeys];
  for (int32_t r = 0; r < rows16; ++r) {
    for (int kk = 0; kk < vsteps; ++kk) {
      const __m512i x = r < rows ? bf16x32(&sc[r][kk * 32], jmax - kk * 32) : _mm512_setzero_si512();
      _mm512_store_si512(&pb[r][kk * 32], x);
    }
    if (r < rows && alpha[r] != 1.0f) {
      float* o = a.acc + (size_t)r * a.ldacc;
      const __m512 al = _mm512_set1_ps(alpha[r]);
      for (int dg = 0; dg < dgroups; ++dg)
        _mm512_storeu_ps(o + dg * 16, _mm512_mul_ps(_mm512_loadu_ps(o + dg * 16), al));
    }
  }

  // acc += P V in place, 16 rows x 4 dim groups (64 dims) of tiles at a time.
  const long lda = (long)(a.ldacc * 4);
  for (int32_t r0 = 0; r0 < rows16; r0 += 16) {
    float* o = a.acc + (size_t)r0 * a.ldacc;
    for (int dg0 = 0; dg0 < dgroups; dg0 += 4) {
      const int n = dgroups - dg0 < 4 ? dgroups - dg0 : 4;
      JEPA_AMX_LOAD(0, o + dg0 * 16, lda);
      if (n > 1) JEPA_AMX_LOAD(1, o + (dg0 + 1) * 16, lda);
      if (n > 2) JEPA_AMX_LOAD(2, o + (dg0 + 2) * 16, lda);
      if (n > 3) JEPA_AMX_LOAD(3, o + (dg0 + 3) * 16, lda);
      for (int kk = 0; kk < vsteps; ++kk) {
        JEPA_AMX_LOAD(4, &pb[r0][kk * 32], sizeof pb[0]);
        const uint8_t* const b[4] = {vp + v_tile(kk, dg0), vp + v_tile(kk, dg0 + 1), vp + v_tile(kk, dg0 + 2),
                                     vp + v_tile(kk, dg0 + 3)};
        dp_bf16_into_c(b, n);
      }
      JEPA_AMX_STORE(0, o + dg0 * 16, lda);
      if (n > 1) JEPA_AMX_STORE(1, o + (dg0 + 1) * 16, lda);
      if (n > 2) JEPA_AMX_STORE(2, o + (dg0 + 2) * 16, lda);
      if (n > 3) JEPA_AMX_STORE(3, o + (dg0 + 3) * 16, lda);
    }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AMX

#endif  // JEPA_KERNELS_X86_BF16_ATTENTION_128X64_AMX_HPP
