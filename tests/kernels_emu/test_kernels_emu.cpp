// tests/kernels_emu/test_kernels_emu.cpp: every x86 kernel, compiled against
// SIMDe's portable implementations of the intrinsics (JEPA_X86_EMULATE), run
// against the scalar reference on a reduced shape grid; also the x86 attention
// tiles and the AVX-512 activation preparation. This is how the AVX-512 /
// VNNI / BF16 code is checked on machines without them (CI hosts may have
// only AVX2); native runs of the same code happen in test_kernels and
// test_ops wherever the CPU has the ISA. Opt-in, because
// SIMDe makes this one file slow to compile: build with
// -DJEPA_TEST_X86_EMULATE=1 and libsimde-dev installed
// (scripts/test.d/21-x86-emu.sh); otherwise the test only says it skipped.
#if defined(JEPA_TEST_X86_EMULATE) && defined(__has_include)
// SIMDe's portable code at -O3 with every kernel's tile instantiations takes
// many minutes to compile; -O1 is enough for small test shapes.
#pragma GCC optimize("O1")
#if __has_include(<simde/x86/avx512.h>) && defined(__x86_64__)
#define JEPA_X86_EMULATE 1
#endif
#endif

#include <doctest/doctest.h>

#if defined(JEPA_X86_EMULATE)
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "../kernels/kernel_test_util.hpp"
#include "jepa/ops/attention.hpp"
#include "jepa/ops/layernorm.hpp"

TEST_CASE("every x86 kernel (SIMDe-emulated) matches the scalar reference") {
  using namespace kt;
  size_t n = 0;
  const KernelInfo* all = registry(&n);
  int ran = 0;
  for (size_t i = 0; i < n; ++i) {
    const KernelInfo& k = all[i];
    if (!isa_is_x86(k.isa)) continue;
    SUBCASE(k.name) {
      std::mt19937 rng(99);
      int cases = 0;
      const int32_t ms[] = {1, k.mr - 1 > 0 ? k.mr - 1 : 2, k.mr + 1};
      const int32_t ns[] = {5, 16, k.nr + 17};
      const int32_t ks[] = {1, 31, 33, 64, 100};
      for (int32_t m : ms)
        for (int32_t nn : ns)
          for (int32_t K : ks) {
            const int v = cases++ % 4;
            CaseResult r = run_case(k, rng, m, nn, K, v >= 2 ? Epilogue::gelu : Epilogue::none, v != 0, v == 3,
                                    v == 3 && (cases % 8 == 0));
            if (!r.ok) {
              FAIL_CHECK(std::string(k.name) << " (emulated): " << r.message);
              return;
            }
          }
      CaseResult r = run_case(k, rng, k.mr + 1, 3 * 32 + 7, 33, Epilogue::gelu, true, true, false, 32, 3 * 32 + 3);
      if (!r.ok) FAIL_CHECK(std::string(k.name) << " (emulated, column range): " << r.message);
      MESSAGE(std::string(k.name) << " (emulated): " << cases + 1 << " shapes ok");
    }
    ++ran;
  }
  CHECK(ran > 0);
}

// The AVX-512 activation preparation (emulated), byte for byte against the
// reference, every integer format, lengths around the 16-float step, a row
// of ties, an all-zero row and a row with an Inf.
TEST_CASE("prepare_rows__avx512 (SIMDe-emulated) equals the reference byte for byte") {
#if defined(JEPA_HAVE_PREPARE_AVX512)
  using namespace jepa::kernels;
  std::mt19937 rng(17);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  for (int32_t k : {1, 15, 16, 17, 33, 100}) {
    const int32_t m = 4;
    const size_t ldx = (size_t)k + 3;
    std::vector<float> x((size_t)m * ldx);
    for (float& v : x) v = dist(rng);
    for (int32_t i = 0; i < k; ++i) x[ldx + (size_t)i] = (float)((i % 5) - 2) * 0.5f;  // ties
    if (k > 1) x[ldx] = 127.0f;
    for (int32_t i = 0; i < k; ++i) x[2 * ldx + (size_t)i] = 0.0f;
    x[3 * ldx + (size_t)(k / 2)] = std::numeric_limits<float>::infinity();
    for (ActFormat f : {ActFormat::s8, ActFormat::u8, ActFormat::s8_sums}) {
      const size_t bytes = prepared_bytes(f, m, k);
      std::vector<uint8_t> a(bytes + 64, 0xA5), b(bytes + 64, 0xA5);
      uint8_t* pa = a.data() + ((64 - ((uintptr_t)a.data() & 63)) & 63);
      uint8_t* pb = b.data() + ((64 - ((uintptr_t)b.data() & 63)) & 63);
      ref::prepare_rows__ref(f, x.data(), ldx, m, k, 0, m, pa);
      x86::prepare_rows__avx512(f, x.data(), ldx, m, k, 0, m, pb);
      CHECK_MESSAGE(std::memcmp(pa, pb, bytes) == 0, "format " << (int)f << " k " << k);
    }
  }
#else
  MESSAGE("skipped: no AVX-512 prepare in this build");
#endif
}

// The AVX-512 LayerNorm rows against the generic ones, bit for bit (the same
// lane sums and order), tails around the 16 lanes, affine and not.
TEST_CASE("layernorm_rows__avx512 (SIMDe-emulated) matches ops::layernorm_row") {
  std::mt19937 rng(23);
  std::normal_distribution<float> dist(1.0f, 2.0f);
  for (int64_t dim : {1, 15, 16, 17, 100}) {
    const int64_t rows = 3;
    const size_t ld = (size_t)dim + 3;
    std::vector<float> x(ld * rows), g((size_t)dim), b((size_t)dim);
    for (float& v : x) v = dist(rng);
    for (float& v : g) v = dist(rng);
    for (float& v : b) v = dist(rng);
    for (int affine = 0; affine < 2; ++affine) {
      std::vector<float> want(x.size(), -1.0f), got(x.size(), -1.0f);
      const float* gamma = affine ? g.data() : nullptr;
      const float* beta = affine ? b.data() : nullptr;
      for (int64_t r = 0; r < rows; ++r)
        jepa::ops::layernorm_row(x.data() + r * ld, want.data() + r * ld, dim, gamma, beta, 1e-6f);
      jepa::kernels::x86::layernorm_rows__avx512(x.data(), ld, got.data(), ld, rows, dim, gamma, beta, 1e-6f);
      for (size_t i = 0; i < x.size(); ++i)
        CHECK_MESSAGE(std::memcmp(&got[i], &want[i], 4) == 0, "dim " << dim << " affine " << affine << " at " << i);
    }
  }
}

// The attention tile kernels of the x86 list (kernels/attention-dispatch.hpp),
// emulated, against the reference op: no mask, block-causal steps over two
// segments, an explicit mask with a row that sees nothing; head_dim tails
// (20, 88) and query/key counts off the 8 x 64 tile; a bf16 tile against the
// bf16 reference. Tolerances as in tests/ops/test_attention.cpp (relative to
// max |v|).
TEST_CASE("every x86 attention tile (SIMDe-emulated) matches the reference") {
  using jepa::ops::AttentionArgs;
  size_t n = 0;
  const jepa::kernels::AttnKernelInfo* all = jepa::kernels::attention_kernels(&n);
  struct Shape {
    int64_t heads, hd, nq;
    int64_t seg0, seg1;  // key rows of the segments (seg1 0: one segment)
    int64_t step_tokens;
    bool mask;
  };
  const Shape shapes[] = {{2, 64, 19, 70, 0, 0, false}, {1, 20, 9, 130, 0, 0, false},
                          {2, 88, 12, 8, 12, 4, false},  {1, 32, 17, 77, 0, 0, true}};
  int ran = 0;
  for (size_t ki = 0; ki + 1 < n; ++ki) {
    const jepa::kernels::AttnKernelInfo& kern = all[ki];
    if (!jepa::kernels::isa_is_x86(kern.isa)) continue;
    SUBCASE(kern.name) {
      uint32_t seed = 7;
      for (const Shape& sh : shapes) {
        const int64_t D = sh.heads * sh.hd, ld = 3 * D + 3, nk = sh.seg0 + sh.seg1;
        std::mt19937 rng(seed++);
        std::normal_distribution<float> dist(0.0f, 1.5f);
        std::vector<float> q((size_t)(sh.nq * ld)), kv((size_t)(nk * ld));
        for (float& x : q) x = dist(rng);
        for (float& x : kv) x = dist(rng);
        std::vector<uint8_t> mask((size_t)(sh.nq * nk));
        for (uint8_t& m : mask) m = rng() % 10 < 7 ? 1 : 0;
        for (int64_t j = 0; j < nk; ++j) mask[(size_t)((sh.nq / 2) * nk + j)] = 0;
        AttentionArgs a;
        a.heads = sh.heads;
        a.head_dim = sh.hd;
        a.nq = sh.nq;
        a.q = q.data();
        a.ldq = (size_t)ld;
        a.n_kv = sh.seg1 > 0 ? 2 : 1;
        const int64_t rows[2] = {sh.seg0, sh.seg1};
        for (int s = 0; s < a.n_kv; ++s) {
          const float* base = kv.data() + (s == 0 ? 0 : sh.seg0 * ld);
          a.kv[s].k = base;
          a.kv[s].v = base + D;
          a.kv[s].ld = (size_t)ld;
          a.kv[s].rows = rows[s];
          a.kv[s].first_step = s == 0 || sh.step_tokens == 0 ? 0 : sh.seg0 / sh.step_tokens;
        }
        if (sh.step_tokens > 0) {
          a.step_tokens = sh.step_tokens;
          a.q_first_step = sh.seg0 / sh.step_tokens;
        }
        if (sh.mask) a.mask = mask.data();
        a.ldo = (size_t)D;
        a.scale = 1.0f / std::sqrt((float)sh.hd);
        std::vector<float> ref((size_t)(sh.nq * D)), got((size_t)(sh.nq * D), -7.0f);
        std::vector<float> ref_scratch(jepa::ops::attention_ref_scratch_floats(a));
        std::vector<float> scratch(jepa::ops::attention_scratch_floats(a) + 1);
        AttentionArgs r = a;
        r.out = ref.data();
        jepa::ops::attention_ref(jepa::ParallelFor(), r, ref_scratch.data());
        // A bf16 tile against the bf16 reference tile, through the same op.
        const bool bf16 = kern.math == jepa::kernels::AttnMath::bf16;
        if (bf16) jepa::ops::attention_with(jepa::ParallelFor(), r, scratch.data(),
                                            jepa::kernels::reference_attention_kernel(jepa::kernels::AttnMath::bf16));
        r.out = got.data();
        jepa::ops::attention_with(jepa::ParallelFor(), r, scratch.data(), kern);
        double err = 0, vmax = 0;
        for (size_t i = 0; i < ref.size(); ++i) err = std::max(err, (double)std::fabs(ref[i] - got[i]));
        for (float x : kv) vmax = std::max(vmax, (double)std::fabs(x));
        INFO(kern.name << " heads=" << sh.heads << " hd=" << sh.hd << " nq=" << sh.nq << " keys=" << nk
                       << " max err " << err);
        // bf16: an ulp of e^x may move one p across a bf16 rounding boundary
        // (tests/ops/test_attention.cpp, kBf16TileRelTol).
        CHECK(err <= (bf16 ? 1.0 / 256 : 4e-6) * vmax);
      }
      ++ran;
    }
  }
  CHECK(ran > 0);
}
#else
TEST_CASE("SIMDe emulation of the x86 kernels") {
  MESSAGE("skipped: build with -DJEPA_TEST_X86_EMULATE=1 and libsimde-dev to emulate the AVX-512 kernels");
}
#endif
