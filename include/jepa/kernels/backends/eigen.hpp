// jepa/kernels/backends/eigen.hpp: Eigen's float GEMM behind the GemmFn
// contract (gemm.hpp), the optional `eigen` backend (JEPA_WITH_EIGEN; the
// registry lines are tagged eigen, so only Backend::eigen tables use them).
//
//   f32_gemm__eigen        f32 row_major: W rows mapped in place
//   f32_gemm_panel__eigen  f32 standard panels (16, 1): each 16-row panel is a
//                          [K][16] row-major block, i.e. W_p^T, mapped in place
//   q8_gemm__eigen         q8 row_major  } int8 activations from the prepare
//   q8_gemm_panel__eigen   q8 panel 16,4 } pass (s8), int8 weights decoded
//
// q8 is the integer arithmetic of the jepa q8 kernels, run on Eigen's float
// GEMM: Eigen has no int8 GEMM and its int32 one is slow (no integer FMA),
// but int8 values are exact in float and a K block of 128 keeps every partial
// sum below 127*127*128 < 2^24, so the float products of a block are the
// exact int32 dot. Blocks are summed in int32, then the epilogue of
// ref::gemm_prepared__ref: results are bit-identical to the reference (and to
// every jepa q8 kernel), not merely close.
//
// No heap: every block lives on the stack; destinations have a fixed maximum
// size (kRows x kCols), which also keeps Eigen from parallelising a block
// with OpenMP (ops::linear supplies the threads), and K is walked in blocks
// so Eigen's packing buffers (alloca, <= EIGEN_STACK_ALLOCATION_LIMIT) never
// reach its heap fallback. Eigen vectorises for the ISA the including
// translation unit is compiled for (-mavx2 -mfma, -march=native, ...; plain
// x86-64 gives SSE2).
#ifndef JEPA_KERNELS_BACKENDS_EIGEN_HPP
#define JEPA_KERNELS_BACKENDS_EIGEN_HPP

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "../gemm.hpp"
#include "../ref/gemm-ref.hpp"

#if defined(EIGEN_STACK_ALLOCATION_LIMIT) && EIGEN_STACK_ALLOCATION_LIMIT != 0 && \
    EIGEN_STACK_ALLOCATION_LIMIT < 65536
#error "jepa's Eigen backend needs EIGEN_STACK_ALLOCATION_LIMIT >= 64 KiB (packing buffers on the stack)"
#endif

namespace jepa {
namespace kernels {
namespace eigen {

namespace detail {

constexpr int kRows = 32;     // rows of x per Eigen product (<= 32: Eigen never parallelises it)
constexpr int kCols = 64;     // columns of y per product (a multiple of the panel NR, 16)
constexpr int kDepthF32 = 256;  // K block: Eigen's packed blocks <= 64 KiB each
constexpr int kDepthQ8 = 128;   // K block: 127 * 127 * 128 < 2^24, float sums exact

using Acc = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor, kRows, kCols>;
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstStrided = Eigen::Map<const RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;
// One f32 panel of 16 rows of W: [K][16] row-major, which is W_p^T.
using ConstPanel = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, 16, Eigen::RowMajor>>;

// y[r][c] for the block at (m0, n0): bias, GELU, residual as every kernel (ref::finish).
inline void store_f32(const GemmArgs& a, const Acc& acc, int32_t m0, int32_t n0, int32_t cols) {
  for (int32_t r = 0; r < (int32_t)acc.rows(); ++r)
    for (int32_t c = 0; c < cols; ++c)
      a.y[(size_t)(m0 + r) * a.ldy + (size_t)(n0 + c)] = ref::finish(acc(r, c), a, m0 + r, n0 + c);
}

// acc = x[m0 .. m0+rows) . W[n0 .. n0+cols)^T in K blocks (row_major W mapped in place).
inline void block_f32_row_major(const GemmArgs& a, int32_t m0, int32_t rows, int32_t n0, int32_t cols, Acc& acc) {
  const WeightMatrix& w = *a.w;
  const float* wd = static_cast<const float*>(w.data);
  acc.setZero(rows, cols);
  for (int32_t k0 = 0; k0 < w.k; k0 += kDepthF32) {
    const int32_t kc = w.k - k0 < kDepthF32 ? w.k - k0 : kDepthF32;
    ConstStrided x(a.x + (size_t)m0 * a.ldx + (size_t)k0, rows, kc, Eigen::OuterStride<>((Eigen::Index)a.ldx));
    ConstStrided wb(wd + (size_t)n0 * (size_t)w.k + (size_t)k0, cols, kc, Eigen::OuterStride<>((Eigen::Index)w.k));
    acc.noalias() += x * wb.transpose();
  }
}

// The same over standard f32 panels (NR 16, KR 1: kp == K): per 16-column
// panel, a [kc][16] slice of W_p^T. cols is rounded up to whole panels (the
// padded rows of the last panel are zeros in the file; store() drops them).
inline void block_f32_panel(const GemmArgs& a, int32_t m0, int32_t rows, int32_t n0, int32_t cols, Acc& acc) {
  const WeightMatrix& w = *a.w;
  const float* wd = static_cast<const float*>(w.data);
  const int32_t panels = (cols + 15) / 16;
  acc.setZero(rows, panels * 16);
  for (int32_t k0 = 0; k0 < w.k; k0 += kDepthF32) {
    const int32_t kc = w.k - k0 < kDepthF32 ? w.k - k0 : kDepthF32;
    ConstStrided x(a.x + (size_t)m0 * a.ldx + (size_t)k0, rows, kc, Eigen::OuterStride<>((Eigen::Index)a.ldx));
    for (int32_t p = 0; p < panels; ++p) {
      const size_t panel = (size_t)(n0 / 16 + p);
      ConstPanel wp(wd + (panel * (size_t)w.k + (size_t)k0) * 16, kc, 16);
      acc.middleCols(p * 16, 16).noalias() += x * wp;
    }
  }
}

template <void (*Block)(const GemmArgs&, int32_t, int32_t, int32_t, int32_t, Acc&)>
inline void gemm_f32(const GemmArgs& a) {
  const int32_t n_end = a.n_end();
  Acc acc;
  for (int32_t m0 = 0; m0 < a.m; m0 += kRows) {
    const int32_t rows = a.m - m0 < kRows ? a.m - m0 : kRows;
    for (int32_t n0 = a.n0; n0 < n_end; n0 += kCols) {
      const int32_t cols = n_end - n0 < kCols ? n_end - n0 : kCols;
      Block(a, m0, rows, n0, cols, acc);
      store_f32(a, acc, m0, n0, cols);
    }
  }
}

// int8 weights of columns [n0, n0+cols), k in [k0, k0+kc), as floats wf[c][k].
inline void decode_q8(const WeightMatrix& w, const format::PanelGeometry* g, int32_t n0, int32_t cols, int32_t k0,
                      int32_t kc, float* wf) {
  const int8_t* base = static_cast<const int8_t*>(w.data);
  for (int32_t c = 0; c < cols; ++c) {
    const int32_t n = n0 + c;
    float* out = wf + (size_t)c * kDepthQ8;
    if (!g) {
      const int8_t* row = base + (size_t)n * (size_t)w.k + (size_t)k0;
      for (int32_t k = 0; k < kc; ++k) out[k] = (float)row[k];
      continue;
    }
    // Panel p holds k-groups of kr bytes for its nr rows: row r's group j
    // sits at ((p * groups + j) * nr + r) * kr (k0 is a multiple of kr).
    const size_t p = (size_t)n / g->nr, r = (size_t)n % g->nr, groups = g->kp / g->kr;
    const size_t kr = g->kr, step = g->nr * kr;
    const int8_t* src = base + ((p * groups + (size_t)k0 / kr) * g->nr + r) * kr;
    for (int32_t k = 0; k < kc; k += (int32_t)kr, src += step)
      for (size_t j = 0; j < kr && k + (int32_t)j < kc; ++j) out[k + (int32_t)j] = (float)src[j];
  }
}

// q8, either layout: exact int32 dots through float blocks (see the top).
inline void gemm_q8(const GemmArgs& a) {
  const WeightMatrix& w = *a.w;
  const PreparedX& p = *a.xp;
  format::PanelGeometry geom;
  const format::PanelGeometry* g = nullptr;
  if (w.layout == format::Layout::panel) {
    geom = ref::geometry(w);
    g = &geom;
  }
  const int32_t n_end = a.n_end();
  alignas(64) float xf[kRows * kDepthQ8];
  alignas(64) float wf[kCols * kDepthQ8];
  int32_t dot[kRows * kCols];
  float wscale[kCols];
  Acc acc;
  for (int32_t m0 = 0; m0 < a.m; m0 += kRows) {
    const int32_t rows = a.m - m0 < kRows ? a.m - m0 : kRows;
    for (int32_t n0 = a.n0; n0 < n_end; n0 += kCols) {
      const int32_t cols = n_end - n0 < kCols ? n_end - n0 : kCols;
      std::memset(dot, 0, sizeof dot);
      for (int32_t k0 = 0; k0 < w.k; k0 += kDepthQ8) {
        const int32_t kc = w.k - k0 < kDepthQ8 ? w.k - k0 : kDepthQ8;
        for (int32_t r = 0; r < rows; ++r) {
          const int8_t* q = static_cast<const int8_t*>(p.data) + (size_t)(m0 + r) * p.ld + (size_t)k0;
          for (int32_t k = 0; k < kc; ++k) xf[r * kDepthQ8 + k] = (float)q[k];
        }
        decode_q8(w, g, n0, cols, k0, kc, wf);
        Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, Eigen::Unaligned,
                   Eigen::OuterStride<kDepthQ8>>
            xb(xf, rows, kc), wb(wf, cols, kc);
        acc.noalias() = xb * wb.transpose();
        for (int32_t r = 0; r < rows; ++r)
          for (int32_t c = 0; c < cols; ++c) dot[r * kCols + c] += (int32_t)acc(r, c);
      }
      for (int32_t c = 0; c < cols; ++c) wscale[c] = ref::q_scale(w, n0 + c, 0);
      for (int32_t r = 0; r < rows; ++r)
        for (int32_t c = 0; c < cols; ++c) {
          const int32_t m = m0 + r, n = n0 + c;
          // ref::prepared_dot's q8 rule, then ref::gemm_prepared__ref's epilogue.
          float v = std::fma((float)dot[r * kCols + c], p.scale[m] * wscale[c], a.bias ? a.bias[n] : 0.0f);
          if (a.epilogue == Epilogue::gelu) v = ref::gelu(v);
          if (a.residual) v += a.residual[(size_t)m * a.ldr + (size_t)n];
          a.y[(size_t)m * a.ldy + (size_t)n] = v;
        }
    }
  }
}

}  // namespace detail

inline void f32_gemm__eigen(const GemmArgs& a) { detail::gemm_f32<&detail::block_f32_row_major>(a); }
inline void f32_gemm_panel__eigen(const GemmArgs& a) { detail::gemm_f32<&detail::block_f32_panel>(a); }
inline void q8_gemm__eigen(const GemmArgs& a) { detail::gemm_q8(a); }
inline void q8_gemm_panel__eigen(const GemmArgs& a) { detail::gemm_q8(a); }

}  // namespace eigen
}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_BACKENDS_EIGEN_HPP
