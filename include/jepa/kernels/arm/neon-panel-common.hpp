// jepa/kernels/arm/neon-panel-common.hpp: what the AArch64 kernels that read
// Layout::panel weights share (format.hpp documents the layout; the standard
// params are NR = 16 rows per panel, KR = 1 for f32/f16, 2 for bf16, 4 for
// q8/q4, the same bytes the x86 kernels read): views of the panel tensors, and
// the loop over panels x row tiles that every panel kernel runs.
// The panel kernels put columns in vector lanes ("broadcast" form, FMLA/SDOT by
// element), so no lane reduction is needed at the end.
#ifndef JEPA_KERNELS_ARM_NEON_PANEL_COMMON_HPP
#define JEPA_KERNELS_ARM_NEON_PANEL_COMMON_HPP

#include "neon-int8-common.hpp"

#if defined(JEPA_KERNELS_ARM_NEON)
namespace jepa {
namespace kernels {
namespace arm {

// The panel width every ARM panel kernel is written for (registry: panel_nr).
constexpr int32_t kPanelRows = 16;

// A panel-packed weight: geometry plus typed pointers to its parts. Panel p
// (rows 16p .. 16p+15) is 16 x Kp elements; the weights of every panel come
// first, then (q8, q4) the scales.
struct PanelView {
  format::PanelGeometry g;
  const uint8_t* base = nullptr;
  size_t stride = 0;  // bytes per panel
  explicit PanelView(const WeightMatrix& w) : base(static_cast<const uint8_t*>(w.data)) {
    format::panel_geometry(w.dtype, (uint64_t)w.n, (uint64_t)w.k, w.params, &g);
    const size_t elems = (size_t)kPanelRows * (size_t)g.kp;
    stride = w.dtype == format::DType::q4 ? elems / 2 : elems * format::dtype_scalar_bytes(w.dtype);
  }
  // Start of the panel holding row n (n a multiple of 16).
  const uint8_t* panel(int32_t n) const { return base + (size_t)(n / kPanelRows) * stride; }
  const float* q8_scales() const { return reinterpret_cast<const float*>(base + g.scale_offset); }
  const uint16_t* q4_scales() const { return reinterpret_cast<const uint16_t*>(base + g.scale_offset); }
  int32_t kp() const { return (int32_t)g.kp; }
};

// Rows [0, a.m) x columns [a.n0, a.n_end()) of a panel kernel: panels outer (a
// 16 x K panel stays in L1/L2 while every row tile passes), tiles of MR rows
// inner, smaller tiles for the M tail. T::tile<R>(a, view, m0, n, valid)
// computes rows m0..m0+R of columns n..n+valid (valid <= 16) of the panel at n.
template <class T, int MR>
inline void panel_gemm(const GemmArgs& a) {
  static_assert(MR == 4 || MR == 2, "row tiles of 4 or 2");
  const PanelView v(*a.w);
  const int32_t n1 = a.n_end();
  for (int32_t n = a.n0; n < n1; n += kPanelRows) {
    const int32_t valid = min_i32(kPanelRows, n1 - n);
    int32_t m0 = 0;
    for (; m0 + MR <= a.m; m0 += MR) T::template tile<MR>(a, v, m0, n, valid);
    if (MR == 4 && a.m - m0 == 3) T::template tile<3>(a, v, m0, n, valid);
    if (MR == 4 && a.m - m0 == 2) T::template tile<2>(a, v, m0, n, valid);
    if (a.m - m0 == 1) T::template tile<1>(a, v, m0, n, valid);
  }
}

// Stores columns [n + 4c, n + 4c + 4) ∩ valid of one row from 4-lane strips.
inline void store_panel_row(const GemmArgs& a, int32_t m, int32_t n, int32_t valid, const float32x4_t* strips,
                            int nstrips) {
  for (int c = 0; c < nstrips && 4 * c < valid; ++c)
    store_strip(a, m, n + 4 * c, min_i32(4, valid - 4 * c), strips[c]);
}

// The 8 f16 scales of rows h*8 .. h*8+7 of block b, as two float32x4.
inline void q4_panel_scales8(const uint16_t* s, float32x4_t* out) {
  const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(s));
  out[0] = vcvt_f32_f16(vget_low_f16(h));
  out[1] = vcvt_high_f32_f16(h);
}

// Baseline (ARMv8.0) stand-in for SDOT-by-element: w = 4 rows x 4 k, xb = one
// k-group repeated; lo += the pairwise-summed products of rows 0,1, hi those of
// rows 2,3 (vpaddq_s32(lo, hi) = the 4 row sums). Each int16 holds one product,
// so nothing overflows.
inline void dot4x4_neon(int8x16_t w, int8x16_t xb, int32x4_t* lo, int32x4_t* hi) {
  *lo = vpadalq_s16(*lo, vmull_s8(vget_low_s8(w), vget_low_s8(xb)));
  *hi = vpadalq_s16(*hi, vmull_high_s8(w, xb));
}

// The 4 bytes of k-group L of xv, repeated 4 times.
template <int L>
inline int8x16_t broadcast_group(int8x16_t xv) {
  return vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(xv), L));
}

}  // namespace arm
}  // namespace kernels
}  // namespace jepa
#endif  // JEPA_KERNELS_ARM_NEON

#endif  // JEPA_KERNELS_ARM_NEON_PANEL_COMMON_HPP
