// bench/common/roofline.hpp: this machine's compute and memory ceilings, with
// intrinsics (bench only; the library keeps them under kernels/<isa>/). Each
// peak loop runs 12 independent accumulator chains of one instruction (FMA
// needs 4 cycles x 2 pipes = 8) under a per-function target attribute, so no
// -march is needed; callers check cpu_isa() first. bench_roofline reports them;
// bench_gemm measures them at first use for its "% of peak". Ops convention:
// one multiply-add = 2 ops (GFLOP/s and GOP/s alike).
#ifndef JEPA_BENCH_COMMON_ROOFLINE_HPP
#define JEPA_BENCH_COMMON_ROOFLINE_HPP

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#define JEPA_BENCH_X86 1
#include "jepa/kernels/cpu_features.hpp"  // AMX: CPUID + the OS grant of the tile state
#else
#define JEPA_BENCH_X86 0
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace jepa_bench {

// The instruction-set extensions the peak loops (and the peers) may use.
struct CpuIsa {
  bool avx2_fma = false;
  bool avx512f = false;     // with BW/VL (every AVX-512 core we target has them)
  bool avx512vnni = false;  // vpdpbusd zmm
  bool avx512bf16 = false;  // vdpbf16ps
  bool avxvnni = false;     // vpdpbusd ymm (VEX): Alder Lake+, Zen 5
  bool amx = false;         // AMX-INT8 + AMX-BF16 tiles, granted by the OS (Sapphire Rapids+)
  bool neon = false;
  bool dotprod = false;     // aarch64 sdot, compile-time only here
};

inline CpuIsa detect_isa() {
  CpuIsa c;
#if JEPA_BENCH_X86
  __builtin_cpu_init();  // libgcc also checks XCR0: the OS saves YMM/ZMM state
  c.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  c.avx512f = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512vl");
  c.avx512vnni = c.avx512f && __builtin_cpu_supports("avx512vnni");
  c.avx512bf16 = c.avx512f && __builtin_cpu_supports("avx512bf16");
  c.avxvnni = c.avx2_fma && __builtin_cpu_supports("avxvnni");
  c.amx = jepa::kernels::cpu_supports(jepa::kernels::Isa::amx);
#endif
#if defined(__aarch64__)
  c.neon = true;
#if defined(__ARM_FEATURE_DOTPROD)
  c.dotprod = true;
#endif
#endif
  return c;
}

inline const CpuIsa& cpu_isa() {
  static const CpuIsa isa = detect_isa();
  return isa;
}

inline std::string isa_string(const CpuIsa& c) {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(c.avx2_fma, "avx2+fma");
  add(c.avx512f, "avx512f/bw/vl");
  add(c.avx512vnni, "avx512vnni");
  add(c.avx512bf16, "avx512bf16");
  add(c.avxvnni, "avxvnni");
  add(c.amx, "amx");
  add(c.neon, "neon");
  add(c.dotprod, "dotprod");
  return s.empty() ? std::string("scalar") : s;
}

// Twelve copies of a statement for chain index 0..11.
#define JEPA_BENCH_X12(S) S(0) S(1) S(2) S(3) S(4) S(5) S(6) S(7) S(8) S(9) S(10) S(11)

// Makes the compiler forget what it knows about a vector register (emits no
// instruction): stops it hoisting loop-invariant multiplies out of the loop.
#define JEPA_BENCH_OPAQUE(v) __asm__ volatile("" : "+x"(v))

#if JEPA_BENCH_X86

// fp32 FMA, AVX2: 12 x vfmadd ymm = 12 x 8 lanes x 2 ops per iteration.
__attribute__((target("avx2,fma"), noinline)) inline float peak_loop_f32_avx2(int64_t iters) {
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
#define D(i) __m256 a##i = _mm256_set1_ps(1.0f + 0.01f * (i));
  JEPA_BENCH_X12(D)
#undef D
  for (int64_t it = 0; it < iters; ++it) {
#define S(i) a##i = _mm256_fmadd_ps(a##i, m, c);
    JEPA_BENCH_X12(S)
#undef S
  }
  __m256 s = _mm256_setzero_ps();
#define R(i) s = _mm256_add_ps(s, a##i);
  JEPA_BENCH_X12(R)
#undef R
  return _mm256_cvtss_f32(s);
}

// fp32 FMA, AVX-512: 12 x vfmadd zmm.
__attribute__((target("avx512f"), noinline)) inline float peak_loop_f32_avx512(int64_t iters) {
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
#define D(i) __m512 a##i = _mm512_set1_ps(1.0f + 0.01f * (i));
  JEPA_BENCH_X12(D)
#undef D
  for (int64_t it = 0; it < iters; ++it) {
#define S(i) a##i = _mm512_fmadd_ps(a##i, m, c);
    JEPA_BENCH_X12(S)
#undef S
  }
  __m512 s = _mm512_setzero_ps();
#define R(i) s = _mm512_add_ps(s, a##i);
  JEPA_BENCH_X12(R)
#undef R
  return _mm512_reduce_add_ps(s);
}

// int8 on AVX2: vpmaddubsw (u8 x s8 -> pairs of s16) + vpmaddwd (x 1 -> s32)
// + vpaddd, the sequence an AVX2 int8 GEMM runs per 32 multiply-adds.
__attribute__((target("avx2,fma"), noinline)) inline float peak_loop_i8_avx2(int64_t iters) {
  // The opaque step before each chain keeps the compiler from computing the
  // (loop-invariant) product once and sharing it among the 12 chains.
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i u = _mm256_set1_epi8(3), w = _mm256_set1_epi8(-2);
#define D(i) __m256i a##i = _mm256_set1_epi32(i);
  JEPA_BENCH_X12(D)
#undef D
  for (int64_t it = 0; it < iters; ++it) {
#define S(i)          \
  JEPA_BENCH_OPAQUE(w); \
  a##i = _mm256_add_epi32(a##i, _mm256_madd_epi16(_mm256_maddubs_epi16(u, w), ones));
    JEPA_BENCH_X12(S)
#undef S
  }
  __m256i s = _mm256_setzero_si256();
#define R(i) s = _mm256_add_epi32(s, a##i);
  JEPA_BENCH_X12(R)
#undef R
  return (float)_mm256_extract_epi32(s, 0);
}

// int8, AVX-VNNI (VEX vpdpbusd ymm): 12 x 8 lanes x 4 multiply-adds.
__attribute__((target("avx2,fma,avxvnni"), noinline)) inline float peak_loop_i8_avxvnni(int64_t iters) {
  const __m256i u = _mm256_set1_epi8(3), w = _mm256_set1_epi8(-2);
#define D(i) __m256i a##i = _mm256_set1_epi32(i);
  JEPA_BENCH_X12(D)
#undef D
  for (int64_t it = 0; it < iters; ++it) {
#define S(i) a##i = _mm256_dpbusd_avx_epi32(a##i, u, w);
    JEPA_BENCH_X12(S)
#undef S
  }
  __m256i s = _mm256_setzero_si256();
#define R(i) s = _mm256_add_epi32(s, a##i);
  JEPA_BENCH_X12(R)
#undef R
  return (float)_mm256_extract_epi32(s, 0);
}

// int8, AVX-512 VNNI vpdpbusd zmm: 12 x 16 lanes x 4 multiply-adds.
__attribute__((target("avx512f,avx512bw,avx512vnni"), noinline)) inline float peak_loop_i8_avx512vnni(
    int64_t iters) {
  const __m512i u = _mm512_set1_epi8(3), w = _mm512_set1_epi8(-2);
#define D(i) __m512i a##i = _mm512_set1_epi32(i);
  JEPA_BENCH_X12(D)
#undef D
  for (int64_t it = 0; it < iters; ++it) {
#define S(i) a##i = _mm512_dpbusd_epi32(a##i, u, w);
    JEPA_BENCH_X12(S)
#undef S
  }
  __m512i s = _mm512_setzero_si512();
#define R(i) s = _mm512_add_epi32(s, a##i);
  JEPA_BENCH_X12(R)
#undef R
  return (float)_mm512_reduce_add_epi32(s);
}

// bf16 vdpbf16ps zmm: 12 x 16 lanes x 2 multiply-adds.
__attribute__((target("avx512f,avx512bw,avx512bf16"), noinline)) inline float peak_loop_bf16_avx512(
    int64_t iters) {
  // 0x3F80 = bf16 1.0, 0x3380 ~ 6e-8: the accumulators grow slowly, stay finite.
  const __m512bh u = (__m512bh)_mm512_set1_epi16((short)0x3380);
  const __m512bh w = (__m512bh)_mm512_set1_epi16((short)0x3F80);
#define D(i) __m512 a##i = _mm512_set1_ps(1.0f + 0.01f * (i));
  JEPA_BENCH_X12(D)
#undef D
  for (int64_t it = 0; it < iters; ++it) {
#define S(i) a##i = _mm512_dpbf16_ps(a##i, u, w);
    JEPA_BENCH_X12(S)
#undef S
  }
  __m512 s = _mm512_setzero_ps();
#define R(i) s = _mm512_add_ps(s, a##i);
  JEPA_BENCH_X12(R)
#undef R
  return _mm512_reduce_add_ps(s);
}

// AMX: 4 tile multiply-adds per iteration into four 16 x 16 accumulators
// from two A and two B tiles (the blocking of kernels/x86/amx-tiles.hpp,
// without its loads): int8 tdpbssd = 16 x 16 x 64 multiply-adds per tile op,
// bf16 tdpbf16ps = 16 x 16 x 32. Operands are zero (the rate does not depend
// on the values).
struct alignas(64) AmxPeakConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};
template <bool kInt8>
__attribute__((noinline)) inline float peak_loop_amx(int64_t iters) {
  const AmxPeakConfig cfg;
  __asm__ volatile("ldtilecfg %0" ::"m"(cfg) : "memory");  // zeroes every tile
  for (int64_t it = 0; it < iters; ++it) {
    if (kInt8)
      __asm__ volatile(
          "tdpbssd %%tmm6, %%tmm4, %%tmm0\n\ttdpbssd %%tmm7, %%tmm4, %%tmm1\n\t"
          "tdpbssd %%tmm6, %%tmm5, %%tmm2\n\ttdpbssd %%tmm7, %%tmm5, %%tmm3" ::);
    else
      __asm__ volatile(
          "tdpbf16ps %%tmm6, %%tmm4, %%tmm0\n\ttdpbf16ps %%tmm7, %%tmm4, %%tmm1\n\t"
          "tdpbf16ps %%tmm6, %%tmm5, %%tmm2\n\ttdpbf16ps %%tmm7, %%tmm5, %%tmm3" ::);
  }
  __asm__ volatile("tilerelease" ::: "memory");
  return 0.0f;
}
inline float peak_loop_i8_amx(int64_t iters) { return peak_loop_amx<true>(iters); }
inline float peak_loop_bf16_amx(int64_t iters) { return peak_loop_amx<false>(iters); }

// Streaming read: 8 independent vpaddd chains over 256 B per iteration.
__attribute__((target("avx2,fma"), noinline)) inline uint32_t read_loop_avx2(const uint8_t* p, size_t bytes) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
  for (size_t off = 0; off + 256 <= bytes; off += 256) {
    const __m256i* q = reinterpret_cast<const __m256i*>(p + off);
    s0 = _mm256_add_epi32(s0, _mm256_load_si256(q + 0));
    s1 = _mm256_add_epi32(s1, _mm256_load_si256(q + 1));
    s2 = _mm256_add_epi32(s2, _mm256_load_si256(q + 2));
    s3 = _mm256_add_epi32(s3, _mm256_load_si256(q + 3));
    s4 = _mm256_add_epi32(s4, _mm256_load_si256(q + 4));
    s5 = _mm256_add_epi32(s5, _mm256_load_si256(q + 5));
    s6 = _mm256_add_epi32(s6, _mm256_load_si256(q + 6));
    s7 = _mm256_add_epi32(s7, _mm256_load_si256(q + 7));
  }
  __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3)),
                               _mm256_add_epi32(_mm256_add_epi32(s4, s5), _mm256_add_epi32(s6, s7)));
  return (uint32_t)_mm256_extract_epi32(s, 0);
}

#endif  // JEPA_BENCH_X86

#if defined(__aarch64__)
// fp32 FMA, NEON: 12 x fmla v.4s = 12 x 4 lanes x 2 ops.
__attribute__((noinline)) inline float peak_loop_f32_neon(int64_t iters) {
  const float32x4_t m = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-7f);
#define D(i) float32x4_t a##i = vdupq_n_f32(1.0f + 0.01f * (i));
  JEPA_BENCH_X12(D)
#undef D
  for (int64_t it = 0; it < iters; ++it) {
#define S(i) a##i = vfmaq_f32(c, a##i, m);
    JEPA_BENCH_X12(S)
#undef S
  }
  float32x4_t s = vdupq_n_f32(0.0f);
#define R(i) s = vaddq_f32(s, a##i);
  JEPA_BENCH_X12(R)
#undef R
  return vaddvq_f32(s);
}
#if defined(__ARM_FEATURE_DOTPROD)
// int8 sdot v.4s: 12 x 4 lanes x 4 multiply-adds.
__attribute__((noinline)) inline float peak_loop_i8_dotprod(int64_t iters) {
  const int8x16_t u = vdupq_n_s8(3), w = vdupq_n_s8(-2);
#define D(i) int32x4_t a##i = vdupq_n_s32(i);
  JEPA_BENCH_X12(D)
#undef D
  for (int64_t it = 0; it < iters; ++it) {
#define S(i) a##i = vdotq_s32(a##i, u, w);
    JEPA_BENCH_X12(S)
#undef S
  }
  int32x4_t s = vdupq_n_s32(0);
#define R(i) s = vaddq_s32(s, a##i);
  JEPA_BENCH_X12(R)
#undef R
  return (float)vaddvq_s32(s);
}
#endif
#endif  // __aarch64__

// Portable streaming read (used where no SIMD loop exists).
__attribute__((noinline)) inline uint64_t read_loop_scalar(const uint8_t* p, size_t bytes) {
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (size_t off = 0; off + 32 <= bytes; off += 32) {
    uint64_t v[4];
    std::memcpy(v, p + off, 32);
    s0 += v[0];
    s1 += v[1];
    s2 += v[2];
    s3 += v[3];
  }
  return s0 + s1 + s2 + s3;
}

// The compute peaks, by the instruction they time.
enum class Peak {
  f32_avx2, f32_avx512, i8_avx2, i8_avxvnni, i8_avx512vnni, bf16_avx512, i8_amx, bf16_amx, f32_neon, i8_dotprod
};

struct PeakInfo {
  Peak peak;
  const char* name;       // benchmark row name
  double ops_per_iter;    // ops (2 per multiply-add) of one loop iteration
  bool (*supported)();
  float (*loop)(int64_t iters);
};

#if JEPA_BENCH_X86
#define JEPA_BENCH_LOOP(fn) &fn
#else
#define JEPA_BENCH_LOOP(fn) nullptr
#endif

inline const PeakInfo* peak_table(size_t* count) {
  static const PeakInfo table[] = {
#if JEPA_BENCH_X86
      {Peak::f32_avx2, "f32_fma_avx2", 12 * 8 * 2, [] { return cpu_isa().avx2_fma; }, &peak_loop_f32_avx2},
      {Peak::f32_avx512, "f32_fma_avx512", 12 * 16 * 2, [] { return cpu_isa().avx512f; },
       &peak_loop_f32_avx512},
      {Peak::i8_avx2, "i8_maddubs_avx2", 12 * 32 * 2, [] { return cpu_isa().avx2_fma; }, &peak_loop_i8_avx2},
      {Peak::i8_avxvnni, "i8_vpdpbusd_avxvnni", 12 * 32 * 2, [] { return cpu_isa().avxvnni; },
       &peak_loop_i8_avxvnni},
      {Peak::i8_avx512vnni, "i8_vpdpbusd_avx512vnni", 12 * 64 * 2, [] { return cpu_isa().avx512vnni; },
       &peak_loop_i8_avx512vnni},
      {Peak::bf16_avx512, "bf16_vdpbf16ps_avx512", 12 * 32 * 2, [] { return cpu_isa().avx512bf16; },
       &peak_loop_bf16_avx512},
      {Peak::i8_amx, "i8_tdpbssd_amx", 4 * 16 * 16 * 64 * 2, [] { return cpu_isa().amx; }, &peak_loop_i8_amx},
      {Peak::bf16_amx, "bf16_tdpbf16ps_amx", 4 * 16 * 16 * 32 * 2, [] { return cpu_isa().amx; },
       &peak_loop_bf16_amx},
#endif
#if defined(__aarch64__)
      {Peak::f32_neon, "f32_fmla_neon", 12 * 4 * 2, [] { return true; }, &peak_loop_f32_neon},
#if defined(__ARM_FEATURE_DOTPROD)
      {Peak::i8_dotprod, "i8_sdot_neon", 12 * 16 * 2, [] { return true; }, &peak_loop_i8_dotprod},
#endif
#endif
      {Peak::f32_avx2, nullptr, 0, nullptr, nullptr},  // end marker
  };
  *count = sizeof(table) / sizeof(table[0]) - 1;
  return table;
}

inline const PeakInfo* find_peak(Peak p) {
  size_t n = 0;
  const PeakInfo* t = peak_table(&n);
  for (size_t i = 0; i < n; ++i) {
    if (t[i].peak == p) return &t[i];
  }
  return nullptr;
}

// Best-of-`tries` single-thread rate of one peak loop in GOP/s (0 if the CPU
// lacks it). Best, not median: a ceiling is what the core can do when the
// neighbours let it. ~`seconds` per try.
inline double measure_peak_gops(Peak p, double seconds = 0.05, int tries = 3) {
  const PeakInfo* info = find_peak(p);
  if (info == nullptr || !info->supported()) return 0.0;
  using clock = std::chrono::steady_clock;
  int64_t iters = 1 << 16;
  volatile float sink = 0.0f;
  // Grow the iteration count until one call lasts ~seconds.
  for (;;) {
    const auto t0 = clock::now();
    sink = sink + info->loop(iters);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt >= seconds * 0.5 || iters > (int64_t(1) << 40)) break;
    iters *= 2;
  }
  double best = 0.0;
  for (int t = 0; t < tries; ++t) {
    const auto t0 = clock::now();
    sink = sink + info->loop(iters);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::max(best, info->ops_per_iter * (double)iters / dt * 1e-9);
  }
  return best;
}

// The same, with `threads` threads running the loop at once: aggregate GOP/s
// (total ops / wall time of the slowest thread). Best of `tries`.
inline double measure_peak_gops_mt(Peak p, int threads, double seconds = 0.05, int tries = 3) {
  if (threads <= 1) return measure_peak_gops(p, seconds, tries);
  const PeakInfo* info = find_peak(p);
  if (info == nullptr || !info->supported()) return 0.0;
  // Iterations for ~seconds on one thread, from a short single-thread probe.
  const double one = measure_peak_gops(p, seconds * 0.2, 1);
  const int64_t iters = std::max<int64_t>(1 << 16, (int64_t)(one * 1e9 * seconds / info->ops_per_iter));
  using clock = std::chrono::steady_clock;
  double best = 0.0;
  for (int t = 0; t < tries; ++t) {
    std::vector<std::thread> pool;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    auto body = [&] {
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      volatile float sink = info->loop(iters);
      (void)sink;
    };
    for (int i = 1; i < threads; ++i) pool.emplace_back(body);
    while (ready.load() < threads - 1) std::this_thread::yield();
    const auto t0 = clock::now();
    go.store(true);
    {
      volatile float sink = info->loop(iters);
      (void)sink;
    }
    for (auto& th : pool) th.join();
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::max(best, info->ops_per_iter * (double)iters * threads / dt * 1e-9);
  }
  return best;
}

// A 64-byte aligned buffer, filled so every page is really mapped.
struct BigBuffer {
  uint8_t* data = nullptr;
  size_t bytes = 0;
  explicit BigBuffer(size_t n) : bytes(n) {
    data = static_cast<uint8_t*>(std::aligned_alloc(64, (n + 63) & ~size_t(63)));
    if (data != nullptr) {
      for (size_t i = 0; i < n; ++i) data[i] = (uint8_t)(i * 131u >> 7);
    }
  }
  ~BigBuffer() { std::free(data); }
  BigBuffer(const BigBuffer&) = delete;
  BigBuffer& operator=(const BigBuffer&) = delete;
};

inline uint64_t read_bytes(const uint8_t* p, size_t bytes) {
#if JEPA_BENCH_X86
  if (cpu_isa().avx2_fma) return read_loop_avx2(p, bytes);
#endif
  return read_loop_scalar(p, bytes);
}

// Best-of-`tries` single-thread streaming-read bandwidth in GB/s over `buf`.
inline double measure_read_gbs(const BigBuffer& buf, int tries = 3) {
  using clock = std::chrono::steady_clock;
  volatile uint64_t sink = 0;
  double best = 0.0;
  for (int t = 0; t < tries; ++t) {
    const auto t0 = clock::now();
    sink = sink + read_bytes(buf.data, buf.bytes);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::max(best, (double)buf.bytes / dt * 1e-9);
  }
  return best;
}

// Streaming-read bandwidth with `threads` threads, each reading its own slice
// of `buf`: aggregate GB/s, best of `tries`.
inline double measure_read_gbs_mt(const BigBuffer& buf, int threads, int tries = 3) {
  if (threads <= 1) return measure_read_gbs(buf, tries);
  using clock = std::chrono::steady_clock;
  const size_t slice = (buf.bytes / (size_t)threads) & ~size_t(255);
  double best = 0.0;
  for (int t = 0; t < tries; ++t) {
    std::vector<std::thread> pool;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    auto body = [&](int i) {
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      volatile uint64_t sink = read_bytes(buf.data + slice * (size_t)i, slice);
      (void)sink;
    };
    for (int i = 1; i < threads; ++i) pool.emplace_back(body, i);
    while (ready.load() < threads - 1) std::this_thread::yield();
    const auto t0 = clock::now();
    go.store(true);
    {
      volatile uint64_t sink = read_bytes(buf.data, slice);
      (void)sink;
    }
    for (auto& th : pool) th.join();
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::max(best, (double)slice * threads / dt * 1e-9);
  }
  return best;
}

}  // namespace jepa_bench

#endif  // JEPA_BENCH_COMMON_ROOFLINE_HPP
