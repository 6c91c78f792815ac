// bench/common/gemm_case.hpp: the one GEMM problem every row of bench_gemm
// solves, y[M][N] = x[M][K] W[N][K]^T + b[N], and the interface each
// implementation (jepa-rt kernels and the peers XNNPACK, Eigen, oneDNN) fills.
//
// Peers live in their own translation units (bench/peers_gemm/*.cpp) so each
// can get its own compile flags (Eigen only vectorises for the ISA it is
// compiled for) and so a missing library only removes its file from the build.
// Every runner is checked against a double-precision reference on sampled
// outputs before it is timed, so a mis-wired peer (transposed weights, wrong
// scale semantics) shows up as an error, not as a fast wrong number.
#ifndef JEPA_BENCH_COMMON_GEMM_CASE_HPP
#define JEPA_BENCH_COMMON_GEMM_CASE_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace jepa_bench {

struct GemmCase {
  int m = 0, k = 0, n = 0;
  int threads = 1;
  int copies = 1;              // weight copies a runner rotates through (1 = warm cache)
  const float* w = nullptr;    // [n][k] master weights, values in [-1, 1]
  const float* bias = nullptr; // [n]
  const float* x = nullptr;    // [m][k] activations, values in [-1, 1]
};

// Which ceiling a row is compared with (bench_gemm measures each at start-up).
enum class PeakKind { f32, i8, bf16 };

class GemmRunner {
 public:
  virtual ~GemmRunner() = default;
  // One y = x W^T + b with the next weight copy.
  virtual void run() = 0;
  // Element (m, n) of the last output, as float (int8 outputs dequantised).
  virtual float out(int m, int n) const = 0;
  // Bytes of one weight copy as this implementation streams it (packed form).
  virtual double weight_bytes() const = 0;
  // How far out() may be from the exact product (the start-up check).
  // Float paths: |out - ref| <= abs_tol + rel_tol * sum_k |x w|.
  virtual double rel_tol() const { return 1e-4; }
  virtual double abs_tol() const { return 1e-4; }
  // Integer paths: the largest rounding step of row n of W and of row m of x
  // (0: not quantised). Rounding moves each by at most half a step, so
  // |out - ref| <= (sum_k |x_mk| ws_n + sum_k |w_nk| as_m + K ws_n as_m / 2) / 2
  // + abs_tol (+ float accumulation, a 1e-5 relative allowance).
  virtual double weight_step(int n) const { (void)n; return 0.0; }
  virtual double act_step(int m) const { (void)m; return 0.0; }
};

// Largest |v| of a row, as the int8 quantisers see it.
inline double row_amax(const float* v, int k) {
  double a = 0.0;
  for (int i = 0; i < k; ++i) a = std::max(a, (double)std::fabs(v[i]));
  return a;
}

using RunnerPtr = std::unique_ptr<GemmRunner>;
// A factory returns null and sets *why when it cannot run the case.
using RunnerFactory = RunnerPtr (*)(const GemmCase&, std::string* why);

// Symmetric quantisation of one row to [-qmax, qmax]: returns the scale,
// q = round(v/scale).
inline float quantize_row_s8(const float* v, int k, int8_t* q, int qmax = 127) {
  float amax = 0.0f;
  for (int i = 0; i < k; ++i) amax = std::max(amax, std::fabs(v[i]));
  const float lim = (float)qmax;
  const float scale = amax > 0.0f ? amax / lim : 1.0f;
  for (int i = 0; i < k; ++i) {
    const float r = std::nearbyint(v[i] / scale);
    q[i] = (int8_t)std::min(lim, std::max(-lim, r));
  }
  return scale;
}

// Number of weight copies so that all of them together exceed `bytes_needed`
// (2x the last-level cache for the cold rows), within `max_total` bytes.
inline int copies_for(double one_copy, double bytes_needed, double max_total) {
  int c = (int)std::ceil(bytes_needed / std::max(one_copy, 1.0));
  c = std::max(c, 2);
  while (c > 2 && one_copy * c > max_total) --c;
  return c;
}

// Peer factories (defined only when the peer was found at configure time).
RunnerPtr make_eigen_f32(const GemmCase& c, std::string* why);
RunnerPtr make_xnnpack_f32(const GemmCase& c, std::string* why);
RunnerPtr make_xnnpack_qs8(const GemmCase& c, std::string* why);
RunnerPtr make_onednn_f32(const GemmCase& c, std::string* why);
RunnerPtr make_onednn_u8s8(const GemmCase& c, std::string* why);

}  // namespace jepa_bench

#endif  // JEPA_BENCH_COMMON_GEMM_CASE_HPP
