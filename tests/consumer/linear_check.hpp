// One small f32 GEMM through the kernel the default table picks for this CPU,
// against plain loops, so each consumer compiles and links the SIMD kernels.
#ifndef JEPA_CONSUMER_LINEAR_CHECK_HPP
#define JEPA_CONSUMER_LINEAR_CHECK_HPP

#include <cmath>
#include <cstdio>

#include <jepa/jepa.hpp>

inline bool linear_check() {
  constexpr int M = 5, K = 37, N = 19;
  float x[M * K], w[N * K], y[M * N];
  for (int i = 0; i < M * K; ++i) x[i] = (float)(i % 11) * 0.25f - 1.0f;
  for (int i = 0; i < N * K; ++i) w[i] = (float)(i % 7) * 0.5f - 1.5f;
  jepa::kernels::WeightMatrix wm;
  wm.n = N;
  wm.k = K;
  wm.data = w;
  jepa::kernels::GemmArgs a;
  a.m = M;
  a.x = x;
  a.ldx = K;
  a.w = &wm;
  a.y = y;
  a.ldy = N;
  const jepa::kernels::KernelInfo* k = jepa::kernels::default_table().find(wm);
  jepa::kernels::run_kernel(k, a, nullptr);  // f32 kernels need no scratch
  double worst = 0;
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double s = 0;
      for (int i = 0; i < K; ++i) s += (double)x[m * K + i] * w[n * K + i];
      worst = std::fmax(worst, std::fabs(s - y[m * N + n]));
    }
  std::printf("linear: %s, max error %.2g\n", k ? k->name : "gemm__ref", worst);
  return worst < 1e-3;
}

#endif  // JEPA_CONSUMER_LINEAR_CHECK_HPP
