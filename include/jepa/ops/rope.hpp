// jepa/ops/rope.hpp: V-JEPA 2's 3D rotary position embedding, exactly as the
// released checkpoints need it (modules.py rotate_queries_or_keys; ARCHITECTURE.md
// §1.1). Per head, segments of s = 2*((head_dim/3)/2) dims rotate by t, h, w;
// the tail is not rotated; only q and k. omega_j = 10000^(-j/(s/2)), float
// positions. Pairs are adjacent, (x[2i], x[2i+1]) -> (-x[2i+1], x[2i]), but the
// sin/cos tables are the s/2 angles *tiled* (repeat, not repeat_interleave):
// element k uses angle k mod s/2. Not a true rotation, but what the models were
// trained with (the "fixed" pairing is 1e4x off the goldens). AC conditioning
// tokens rotate only the t segment. Angles in double, rounded to float.
#ifndef JEPA_OPS_ROPE_HPP
#define JEPA_OPS_ROPE_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace jepa {
namespace ops {

// Dims rotated per axis for a head of head_dim dims.
inline int64_t rope_segment(int64_t head_dim) { return 2 * ((head_dim / 3) / 2); }

// cos/sin of the half = s/2 angles of one position.
inline void rope_angles(double pos, int64_t half, float* cos_out, float* sin_out) {
  for (int64_t j = 0; j < half; ++j) {
    const double omega = 1.0 / std::pow(10000.0, (double)j / (double)half);
    const double a = pos * omega;
    cos_out[j] = (float)std::cos(a);
    sin_out[j] = (float)std::sin(a);
  }
}

// Rotates seg values in place with the official tiled tables cos/sin[seg/2].
inline void rope_rotate(float* x, int64_t seg, const float* cos_t, const float* sin_t) {
  const int64_t half = seg / 2;
  for (int64_t i = 0; i + 1 < seg; i += 2) {
    const float x0 = x[i], x1 = x[i + 1];
    const int64_t a0 = i % half, a1 = (i + 1) % half;
    x[i] = x0 * cos_t[a0] - x1 * sin_t[a0];
    x[i + 1] = x1 * cos_t[a1] + x0 * sin_t[a1];
  }
}

// Per-token tables, computed once per forward (positions are the same in
// every layer and head). Layout per token: [axis t,h,w][cos, sin][half].
inline int64_t rope_token_floats(int64_t head_dim) { return 3 * 2 * (rope_segment(head_dim) / 2); }

inline void rope_fill_token(float* table, int64_t head_dim, double t, double h, double w) {
  const int64_t half = rope_segment(head_dim) / 2;
  const double pos[3] = {t, h, w};
  for (int axis = 0; axis < 3; ++axis)
    rope_angles(pos[axis], half, table + (2 * axis) * half, table + (2 * axis + 1) * half);
}

// Rotates one head vector x[head_dim] with a token's table: all three axes, or
// (axes == 1) only the t segment, as for the AC predictor's action/state tokens.
inline void rope_apply_head(float* x, int64_t head_dim, const float* table, int axes) {
  const int64_t seg = rope_segment(head_dim), half = seg / 2;
  if (half == 0) return;
  for (int axis = 0; axis < axes; ++axis)
    rope_rotate(x + axis * seg, seg, table + (2 * axis) * half, table + (2 * axis + 1) * half);
}

// Rotates q and k (not v) of one qkv row laid out [3][heads][head_dim].
inline void rope_apply_qk(float* qkv_row, int64_t heads, int64_t head_dim, const float* table, int axes) {
  const int64_t dim = heads * head_dim;
  for (int64_t h = 0; h < heads; ++h) {
    rope_apply_head(qkv_row + h * head_dim, head_dim, table, axes);
    rope_apply_head(qkv_row + dim + h * head_dim, head_dim, table, axes);
  }
}

// Grid position of flat token index n in a (t, h, w) grid with grid_h x grid_w
// tokens per frame, t slowest (the official separate_positions).
inline void rope_grid_position(int64_t n, int64_t grid_h, int64_t grid_w, double* t, double* h, double* w) {
  const int64_t per_frame = grid_h * grid_w;
  const int64_t tt = n / per_frame, rem = n - tt * per_frame;
  const int64_t hh = rem / grid_w;
  *t = (double)tt;
  *h = (double)hh;
  *w = (double)(rem - hh * grid_w);
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_ROPE_HPP
