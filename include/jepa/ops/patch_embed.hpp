// jepa/ops/patch_embed.hpp: non-overlapping Conv3d / Conv2d patch embedding
// (kernel == stride), as V-JEPA 2's PatchEmbed3D / PatchEmbed and I-JEPA's
// PatchEmbed, done as im2col rows + one Linear per chunk of tokens.
//
// Input [B][C][T][H][W] (a 2-D image is T = 1, kt = 1). Token (ti, hi, wi) of
// the (T/kt) x (H/p) x (W/p) grid, t slowest (the official flatten(2)
// order), gets the row of C*kt*p*p pixels in (c, dt, kh, kw) order: exactly
// how a Conv3d weight [D][C][kt][p][p] (or Conv2d [D][C][p][p]) flattens
// row-major, so the weight is used in place as a [D][C*kt*p*p] matrix.
// Trailing frames/rows/columns that do not fill a patch are dropped, as the
// strided convolution does.
#ifndef JEPA_OPS_PATCH_EMBED_HPP
#define JEPA_OPS_PATCH_EMBED_HPP

#include <cstdint>
#include <cstring>

#include "linear.hpp"

namespace jepa {
namespace ops {

struct PatchEmbedShape {
  int64_t batch = 1, channels = 3, frames = 1, height = 0, width = 0;  // input [B][C][T][H][W]
  int64_t kt = 1;     // tubelet (temporal kernel); 1 for Conv2d
  int64_t patch = 16; // spatial kernel
  int64_t grid_t() const { return frames / kt; }
  int64_t grid_h() const { return height / patch; }
  int64_t grid_w() const { return width / patch; }
  int64_t tokens() const { return grid_t() * grid_h() * grid_w(); }  // per batch element
  int64_t row_len() const { return channels * kt * patch * patch; }
};

// Tokens embedded per Linear call: bounds the im2col scratch (128 rows of a
// 3x2x16x16 tubelet is 768 KB) while keeping M large enough for the GEMM.
constexpr int64_t kPatchChunkRows = 128;

inline size_t patch_embed_scratch_floats(const PatchEmbedShape& s) {
  const int64_t rows = s.batch * s.tokens();
  return (size_t)((rows < kPatchChunkRows ? rows : kPatchChunkRows) * s.row_len());
}

// im2col row of token `tok` (flat over batch and grid) into row[row_len].
inline void patch_row(const float* x, const PatchEmbedShape& s, int64_t tok, float* row) {
  const int64_t per_b = s.tokens(), gh = s.grid_h(), gw = s.grid_w();
  const int64_t b = tok / per_b, n = tok % per_b;
  const int64_t ti = n / (gh * gw), hi = (n / gw) % gh, wi = n % gw;
  const int64_t p = s.patch;
  for (int64_t c = 0; c < s.channels; ++c)
    for (int64_t dt = 0; dt < s.kt; ++dt) {
      const float* plane = x + (((b * s.channels + c) * s.frames + ti * s.kt + dt) * s.height) * s.width;
      for (int64_t kh = 0; kh < p; ++kh) {
        std::memcpy(row, plane + (hi * p + kh) * s.width + wi * p, (size_t)p * sizeof(float));
        row += p;
      }
    }
}

// out[B*tokens][D] = patches . W^T + bias; w is the conv weight viewed [D][row_len].
inline void patch_embed(const ParallelFor& par, const kernels::WeightMatrix& w, const float* bias,
                        const float* x, const PatchEmbedShape& s, float* out, float* scratch) {
  const int64_t rows = s.batch * s.tokens(), len = s.row_len();
  for (int64_t r0 = 0; r0 < rows; r0 += kPatchChunkRows) {
    const int64_t m = rows - r0 < kPatchChunkRows ? rows - r0 : kPatchChunkRows;
    for (int64_t r = 0; r < m; ++r) patch_row(x, s, r0 + r, scratch + r * len);
    linear(par, w, bias, scratch, (int32_t)m, out + r0 * w.n);
  }
}

}  // namespace ops
}  // namespace jepa

#endif  // JEPA_OPS_PATCH_EMBED_HPP
