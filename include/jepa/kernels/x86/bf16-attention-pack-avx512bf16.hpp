// jepa/kernels/x86/bf16-attention-pack-avx512bf16.hpp: the key and value
// layouts of the x86 bf16 attention tiles (AttnMath::bf16), and their packers
// (kernels/attention-tile.hpp: AttnPackKtFn / AttnPackVFn). The op packs each
// key block once per task; the tiles read it as bf16 pairs, the B operand of
// both vdpbf16ps (bf16-attention-8x64-avx512bf16.hpp) and tdpbf16ps
// (bf16-attention-128x64-amx.hpp), so one layout serves both:
//   K tile (ks, g), 1 KiB: row r holds dims ks*32 + 2r and + 1 as a bf16 pair
//       for each of the 16 keys g*16 + c (4 bytes a column);
//   V tile (kk, dg), 1 KiB: row r holds keys kk*32 + 2r and + 1 as a bf16
//       pair for each of the 16 dims dg*16 + c.
// Both are zero past the block's keys and past head_dim, to whole tiles.
#ifndef JEPA_KERNELS_X86_BF16_ATTENTION_PACK_AVX512BF16_HPP
#define JEPA_KERNELS_X86_BF16_ATTENTION_PACK_AVX512BF16_HPP

#include "../attention-tile.hpp"
#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AVX512BF16)
namespace jepa {
namespace kernels {
namespace x86 {
namespace attn_bf16 {

constexpr int kMaxKSteps = (kAttnBf16MaxHeadDim + 31) / 32;     // q.k: 32 dims a K tile
constexpr int kKeyGroups = kAttnKeys / 16;                      // S: 16 keys a K tile
constexpr int kMaxDimGroups = (kAttnBf16MaxHeadDim + 15) / 16;  // P V: 16 dims a V tile
constexpr int kKeySteps = kAttnKeys / 32;                       // P V: 32 keys a V tile

inline size_t k_tile(int ks, int g) { return (size_t)(ks * kKeyGroups + g) * 1024; }
inline size_t v_tile(int kk, int dg) { return (size_t)(kk * kMaxDimGroups + dg) * 1024; }
static_assert(kMaxKSteps * kKeyGroups * 1024 <= kAttnKeys * kAttnBf16MaxHeadDim * 4, "packed K fits the op's kt");
static_assert(kKeySteps * kMaxDimGroups * 1024 <= kAttnKeys * kAttnBf16MaxHeadDim * 4, "packed V fits the op's vp");

// The 32 floats at p (those at or past n read as zero) rounded to bf16.
JEPA_INLINE_AVX512BF16 __m512i bf16x32(const float* p, int32_t n) {
  const __m512 lo = _mm512_maskz_loadu_ps(tail_mask16(n), p);
  const __m512 hi = _mm512_maskz_loadu_ps(tail_mask16(n - 16), p + 16);
  return cvt2_bf16(hi, lo);  // element e = p[e], e < 32
}

// r[i] = column i of the 16 x 16 dword matrix whose rows are r[0..15].
JEPA_INLINE_AVX512 void transpose16x16_epi32(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {  // 2 x 2 blocks of dwords
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // 4 x 4 blocks within each 128-bit lane
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  for (int i = 0; i < 4; ++i) {  // 128-bit lanes: rows 4 apart, then 8 apart
    t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xDD);
    t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xDD);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xDD);
    r[i + 4] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0x88);
    r[i + 12] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0xDD);
  }
}

}  // namespace attn_bf16

// K block -> the packed K tiles, zeros past keys (to the 16-key group) and
// past head_dim (to the 32-dim step). Each 16 keys x 32 dims, converted row by
// row, is a 16 x 16 matrix of dword pairs whose transpose is the tile.
JEPA_TARGET_AVX512BF16 inline void bf16_attention_pack_k__avx512bf16(const float* k, size_t ldk, int32_t keys,
                                                                      int32_t head_dim, float* kt) {
  using namespace attn_bf16;
  uint8_t* dst = reinterpret_cast<uint8_t*>(kt);
  const int ksteps = (head_dim + 31) / 32, groups = (keys + 15) / 16;
  for (int g = 0; g < groups; ++g)
    for (int ks = 0; ks < ksteps; ++ks) {
      __m512i r[16];
      for (int c = 0; c < 16; ++c) {
        const int32_t j = g * 16 + c;
        r[c] = j < keys ? bf16x32(k + (size_t)j * ldk + ks * 32, head_dim - ks * 32) : _mm512_setzero_si512();
      }
      transpose16x16_epi32(r);
      for (int d2 = 0; d2 < 16; ++d2) _mm512_storeu_si512(dst + k_tile(ks, g) + (size_t)d2 * 64, r[d2]);
    }
}

// V block -> the packed V tiles, zeros past keys (to the 32-key step) and
// past head_dim (to the 16-dim group).
JEPA_TARGET_AVX512BF16 inline void bf16_attention_pack_v__avx512bf16(const float* v, size_t ldv, int32_t keys,
                                                                      int32_t head_dim, void* vp) {
  using namespace attn_bf16;
  uint8_t* dst = static_cast<uint8_t*>(vp);
  const int groups = (head_dim + 15) / 16, ksteps = (keys + 31) / 32;
  // [even row's 16 bf16 | odd row's 16] -> (even, odd) pairs, dim by dim.
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                              22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512 zero = _mm512_setzero_ps();
  for (int32_t j = 0; j < ksteps * 32; j += 2) {
    const float* r0 = v + (size_t)j * ldv;
    const float* r1 = r0 + ldv;
    const int kk = j / 32, r = (j % 32) / 2;
    for (int dg = 0; dg < groups; ++dg) {
      const __mmask16 lanes = tail_mask16(head_dim - dg * 16);
      const __m512 e = j < keys ? _mm512_maskz_loadu_ps(lanes, r0 + dg * 16) : zero;
      const __m512 o = j + 1 < keys ? _mm512_maskz_loadu_ps(lanes, r1 + dg * 16) : zero;
      _mm512_storeu_si512(dst + v_tile(kk, dg) + (size_t)r * 64, _mm512_permutexvar_epi16(interleave, cvt2_bf16(o, e)));
    }
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AVX512BF16

#endif  // JEPA_KERNELS_X86_BF16_ATTENTION_PACK_AVX512BF16_HPP
