// jepa/kernels/x86/tile-gemm-amx.hpp: the AMX tile driver shared by the q8 and
// bf16 AMX GEMMs (q8-gemm-32x32-amx.hpp, bf16-gemm-32x32-amx.hpp).
//
// AMX holds eight tile registers of up to 16 rows x 64 bytes. A 32 x 32
// block of y uses all of them: four accumulators C[i][j] (16 x 16 int32 or
// f32), two tiles of x rows (A: 16 rows x 64 bytes of K) and two of weights
// (B: 16 k-groups x 16 columns x 4 bytes). The standard panels are already
// B tiles: a panel's k-groups (q8: 16 rows x 4 int8, bf16: 16 rows x 2 bf16)
// are 64 contiguous bytes, so 16 of them (1 KiB) load as one tile, in place.
// The prepared activations (PreparedX) are rows of a multiple of 64 bytes,
// zero past K, so A tiles never read past a row.
//
// The tile instructions are written as inline asm with a memory clobber:
// GCC's <amx*intrin.h> macros have none, so the compiler could move a tile
// load ahead of the stores that fill its source (the K tail copy below).
#ifndef JEPA_KERNELS_X86_TILE_GEMM_AMX_HPP
#define JEPA_KERNELS_X86_TILE_GEMM_AMX_HPP

#include "common-x86.hpp"

#if defined(JEPA_KERNELS_X86_AMX)
namespace jepa {
namespace kernels {
namespace x86 {

// Tile numbers (immediates in the asm below).
#define JEPA_AMX_C00 0
#define JEPA_AMX_C01 1
#define JEPA_AMX_C10 2
#define JEPA_AMX_C11 3
#define JEPA_AMX_A0 4
#define JEPA_AMX_A1 5
#define JEPA_AMX_B0 6
#define JEPA_AMX_B1 7

#define JEPA_AMX_STR2(x) #x
#define JEPA_AMX_STR(x) JEPA_AMX_STR2(x)
#define JEPA_AMX_LOAD(t, base, stride)                                                                    \
  __asm__ volatile("{tileloadd (%0,%1,1), %%tmm" JEPA_AMX_STR(t) "|tileloadd tmm" JEPA_AMX_STR(t) ", [%0+%1*1]}" \
                   ::"r"((const void*)(base)), "r"((long)(stride)) : "memory")
#define JEPA_AMX_STORE(t, base, stride)                                                                      \
  __asm__ volatile("{tilestored %%tmm" JEPA_AMX_STR(t) ", (%0,%1,1)|tilestored [%0+%1*1], tmm" JEPA_AMX_STR(t) "}" \
                   ::"r"((void*)(base)), "r"((long)(stride)) : "memory")
#define JEPA_AMX_ZERO(t) __asm__ volatile("{tilezero %%tmm" JEPA_AMX_STR(t) "|tilezero tmm" JEPA_AMX_STR(t) "}" ::)
#define JEPA_AMX_DP(op, c, a, b)                                                                 \
  __asm__ volatile("{" op " %%tmm" JEPA_AMX_STR(b) ", %%tmm" JEPA_AMX_STR(a) ", %%tmm" JEPA_AMX_STR(c) \
                   "|" op " tmm" JEPA_AMX_STR(c) ", tmm" JEPA_AMX_STR(a) ", tmm" JEPA_AMX_STR(b) "}" ::)

// The 64-byte operand of ldtilecfg (palette 1).
struct alignas(64) AmxTileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};  // bytes per row of tile i
  uint8_t rows[16] = {};
};
static_assert(sizeof(AmxTileConfig) == 64, "ldtilecfg reads 64 bytes");

// Tiles for a block of rows0 + rows1 rows of x (rows0 <= 16, rows1 <= 16;
// the C1* / A1 tiles stay unconfigured when rows1 = 0, and are not used).
inline void amx_configure(int rows0, int rows1) {
  AmxTileConfig c;
  const int rows_of[8] = {rows0, rows0, rows1, rows1, rows0, rows1, 16, 16};
  for (int t = 0; t < 8; ++t) {
    c.rows[t] = (uint8_t)rows_of[t];
    c.colsb[t] = rows_of[t] > 0 ? 64 : 0;
  }
  __asm__ volatile("ldtilecfg %0" ::"m"(c) : "memory");
}

inline void amx_release() { __asm__ volatile("tilerelease" ::: "memory"); }

// A block of 16*MT rows x 16*NT columns, all of K: acc[i][j] (row stride 32
// elements, int32 for tdpbssd, f32 for tdpbf16ps) = sum over the k-steps of
// the A tiles of x (rows x, x + 16 ldx; 64 bytes per step) times the B tiles
// of the panels b, b + panel_bytes (1 KiB per step). The last `tail` bytes of
// a panel's K (fewer than 1 KiB, when K is not a multiple of the step) load
// from zero-padded copies in `tail_buf`.
template <bool kInt8, int MT, int NT>
JEPA_TARGET_AMX inline void amx_block(const uint8_t* x, size_t ldx, const uint8_t* b, size_t panel_bytes, int32_t steps,
                      size_t tail, uint8_t (*tail_buf)[1024], void* acc) {
  JEPA_AMX_ZERO(JEPA_AMX_C00);
  if (NT == 2) JEPA_AMX_ZERO(JEPA_AMX_C01);
  if (MT == 2) JEPA_AMX_ZERO(JEPA_AMX_C10);
  if (MT == 2 && NT == 2) JEPA_AMX_ZERO(JEPA_AMX_C11);
  const uint8_t* x1 = x + 16 * ldx;
  const int32_t all = steps + (tail ? 1 : 0);
  for (int32_t s = 0; s < all; ++s) {
    const uint8_t* b0 = b + (size_t)s * 1024;
    const uint8_t* b1 = b0 + panel_bytes;
    if (s == steps) {  // the K tail
      std::memcpy(tail_buf[0], b0, tail);
      if (NT == 2) std::memcpy(tail_buf[1], b1, tail);
      b0 = tail_buf[0];
      b1 = tail_buf[1];
    }
    JEPA_AMX_LOAD(JEPA_AMX_B0, b0, 64);
    JEPA_AMX_LOAD(JEPA_AMX_A0, x + (size_t)s * 64, ldx);
    if (NT == 2) JEPA_AMX_LOAD(JEPA_AMX_B1, b1, 64);
    if (MT == 2) JEPA_AMX_LOAD(JEPA_AMX_A1, x1 + (size_t)s * 64, ldx);
    if (kInt8) {
      JEPA_AMX_DP("tdpbssd", JEPA_AMX_C00, JEPA_AMX_A0, JEPA_AMX_B0);
      if (NT == 2) JEPA_AMX_DP("tdpbssd", JEPA_AMX_C01, JEPA_AMX_A0, JEPA_AMX_B1);
      if (MT == 2) JEPA_AMX_DP("tdpbssd", JEPA_AMX_C10, JEPA_AMX_A1, JEPA_AMX_B0);
      if (MT == 2 && NT == 2) JEPA_AMX_DP("tdpbssd", JEPA_AMX_C11, JEPA_AMX_A1, JEPA_AMX_B1);
    } else {
      JEPA_AMX_DP("tdpbf16ps", JEPA_AMX_C00, JEPA_AMX_A0, JEPA_AMX_B0);
      if (NT == 2) JEPA_AMX_DP("tdpbf16ps", JEPA_AMX_C01, JEPA_AMX_A0, JEPA_AMX_B1);
      if (MT == 2) JEPA_AMX_DP("tdpbf16ps", JEPA_AMX_C10, JEPA_AMX_A1, JEPA_AMX_B0);
      if (MT == 2 && NT == 2) JEPA_AMX_DP("tdpbf16ps", JEPA_AMX_C11, JEPA_AMX_A1, JEPA_AMX_B1);
    }
  }
  uint8_t* c = static_cast<uint8_t*>(acc);
  JEPA_AMX_STORE(JEPA_AMX_C00, c, 128);
  if (NT == 2) JEPA_AMX_STORE(JEPA_AMX_C01, c + 64, 128);
  if (MT == 2) JEPA_AMX_STORE(JEPA_AMX_C10, c + 16 * 128, 128);
  if (MT == 2 && NT == 2) JEPA_AMX_STORE(JEPA_AMX_C11, c + 16 * 128 + 64, 128);
}

// y[m][n] for rows [0, a.m) and columns [n0, n1) in 32 x 32 blocks, each
// panel `panel_bytes` long: the accumulators of each block land in a stack
// buffer and `finish(acc, m0, rows, n, valid)` writes the block's y (the
// dtype's epilogue; acc rows are 32 elements apart). Rows walk in
// the outer loop, so the tile shapes change (ldtilecfg) at most twice.
template <bool kInt8, typename Finish>
JEPA_TARGET_AMX inline void amx_gemm_32x32(const GemmArgs& a, const uint8_t* panels, size_t panel_bytes,
                                           const Finish& finish) {
  const PreparedX& xp = *a.xp;
  const int32_t steps = (int32_t)(panel_bytes / 1024);
  const size_t tail = panel_bytes % 1024;
  alignas(64) uint8_t tail_buf[2][1024];
  if (tail) std::memset(tail_buf, 0, sizeof tail_buf);
  alignas(64) uint8_t acc[32 * 32 * 4];  // int32 or f32 accumulators
  const int32_t n1 = a.n_end();
  int configured = -1;
  for (int32_t m = 0; m < a.m; m += 32) {
    const int rows = a.m - m < 32 ? a.m - m : 32;
    if (rows != configured) {
      amx_configure(rows < 16 ? rows : 16, rows > 16 ? rows - 16 : 0);
      configured = rows;
    }
    const uint8_t* x = static_cast<const uint8_t*>(xp.data) + (size_t)m * xp.ld;
    for (int32_t n = a.n0; n < n1; n += 32) {
      const uint8_t* b = panels + (size_t)(n / 16) * panel_bytes;
      const int valid = n1 - n < 32 ? n1 - n : 32;
      if (rows > 16) {
        if (valid > 16) amx_block<kInt8, 2, 2>(x, xp.ld, b, panel_bytes, steps, tail, tail_buf, acc);
        else amx_block<kInt8, 2, 1>(x, xp.ld, b, panel_bytes, steps, tail, tail_buf, acc);
      } else {
        if (valid > 16) amx_block<kInt8, 1, 2>(x, xp.ld, b, panel_bytes, steps, tail, tail_buf, acc);
        else amx_block<kInt8, 1, 1>(x, xp.ld, b, panel_bytes, steps, tail, tail_buf, acc);
      }
      finish(acc, m, rows, n, valid);
    }
  }
  amx_release();
}

}  // namespace x86
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_X86_AMX

#endif  // JEPA_KERNELS_X86_TILE_GEMM_AMX_HPP
