// tests/kernels/test_quantize.cpp: the host-side quantizers and packers
// (kernels/quantize.hpp), the activation preparation (SIMD == reference, byte
// for byte), the f16/bf16 conversions' edge cases (kernels/ref/math.hpp), and
// the loader's view of packed tensors (sizes, scale checks).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "jepa/format/model_file.hpp"
#include "jepa/format/writer.hpp"
#include "kernel_test_util.hpp"

using namespace kt;

namespace {

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

}  // namespace

TEST_CASE("f16 conversion: subnormals, overflow, inf, NaN, ties to even") {
  using ref::f16_to_f32;
  using ref::f32_to_f16;
  CHECK(f32_to_f16(0.0f) == 0x0000);
  CHECK(f32_to_f16(-0.0f) == 0x8000);
  CHECK(f32_to_f16(1.0f) == 0x3C00);
  CHECK(f32_to_f16(65504.0f) == 0x7BFF);        // largest finite
  CHECK(f32_to_f16(65520.0f) == 0x7C00);        // rounds past it: inf
  CHECK(f32_to_f16(65519.0f) == 0x7BFF);
  CHECK(f32_to_f16(INFINITY) == 0x7C00);
  CHECK(f32_to_f16(-INFINITY) == 0xFC00);
  CHECK((f32_to_f16(NAN) & 0x7C00) == 0x7C00);
  CHECK((f32_to_f16(NAN) & 0x03FF) != 0);        // stays NaN
  CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);  // smallest subnormal
  CHECK(f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);  // half of it: tie to even (0)
  CHECK(f32_to_f16(std::ldexp(3.0f, -25)) == 0x0002);  // 1.5 ulp: tie to even (2)
  CHECK(f32_to_f16(std::ldexp(1.0f, -14)) == 0x0400);  // smallest normal
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0)
  CHECK(f32_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);
  CHECK(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);
  // Every f16 value round-trips exactly (NaNs stay NaN).
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32((uint16_t)h);
    if (std::isnan(f)) {
      CHECK(std::isnan(f16_to_f32(f32_to_f16(f))));
    } else if (f32_to_f16(f) != h) {
      FAIL_CHECK("f16 bits " << h << " do not round-trip");
      break;
    }
  }
  CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));
  CHECK(f16_to_f32(0x03FF) == std::ldexp(1023.0f, -24));
}

TEST_CASE("bf16 conversion: ties to even, inf, NaN stays quiet NaN") {
  using ref::bf16_to_f32;
  using ref::f32_to_bf16;
  CHECK(f32_to_bf16(1.0f) == 0x3F80);
  CHECK(f32_to_bf16(from_bits(0x3F808000u)) == 0x3F80);  // exact tie, even stays
  CHECK(f32_to_bf16(from_bits(0x3F818000u)) == 0x3F82);  // exact tie, odd rounds up
  CHECK(f32_to_bf16(from_bits(0x3F808001u)) == 0x3F81);  // above the tie
  CHECK(f32_to_bf16(INFINITY) == 0x7F80);
  CHECK(f32_to_bf16(from_bits(0x7F7FFFFFu)) == 0x7F80);  // FLT_MAX rounds to inf
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(from_bits(0x7F800001u)))));  // signalling NaN: not inf
  CHECK(f32_to_bf16(from_bits(0x00000001u)) == 0x0000);                   // tiny subnormal
  CHECK(bf16_to_f32(0x0001) == from_bits(0x00010000u));                   // bf16 subnormal
}

TEST_CASE("activation preparation: SIMD bytes equal the reference's") {
  std::mt19937 rng(5);
  const KernelTable& t = default_table();
  const ActFormat fmts[] = {ActFormat::s8, ActFormat::u8, ActFormat::s8_sums, ActFormat::bf16};
  for (int32_t k : {1, 7, 31, 32, 33, 100, 257, 1024}) {
    const int32_t m = 5;
    std::vector<float> x = random_floats(rng, (size_t)m * (k + 1), 3.0f);
    x[0] = 0.0f;
    if (k > 3) x[(size_t)(k + 1) + 2] = 1e30f;  // a huge value in row 1
    // Row 2 all zeros (amax = 0), row 3 ties: values at exactly .5 steps.
    for (int32_t i = 0; i < k; ++i) x[2 * (size_t)(k + 1) + i] = 0.0f;
    for (int32_t i = 0; i < k; ++i) x[3 * (size_t)(k + 1) + i] = (float)((i % 5) - 2) * 0.5f;
    if (k > 1) x[3 * (size_t)(k + 1)] = 127.0f;  // amax 127: inv 1, x*inv = -1, -0.5, 0, 0.5, ...
    for (ActFormat f : fmts) {
      AlignedBuf a(prepared_bytes(f, m, k)), b(prepared_bytes(f, m, k));
      ref::prepare_rows__ref(f, x.data(), (size_t)k + 1, m, k, 0, m, a.p);
      t.prepare(f, x.data(), (size_t)k + 1, m, k, 0, m, b.p);
      CHECK_MESSAGE(std::memcmp(a.p, b.p, a.size) == 0, "format " << (int)f << " k " << k);
    }
  }
  // Round half to even on the tie row: q = nearbyint(x * 1) for x = -1, -0.5, 0, 0.5, 1.
  AlignedBuf s(prepared_bytes(ActFormat::s8, 1, 5));
  const float tie[5] = {-1.0f, -0.5f, 127.0f, 0.5f, 1.5f};
  ref::prepare_rows__ref(ActFormat::s8, tie, 5, 1, 5, 0, 1, s.p);
  const int8_t* q = s.as<int8_t>();
  CHECK(q[0] == -1);
  CHECK(q[1] == 0);   // -0.5 -> -0 (even)
  CHECK(q[2] == 127);
  CHECK(q[3] == 0);   // 0.5 -> 0 (even)
  CHECK(q[4] == 2);   // 1.5 -> 2 (even)
  // A row whose amax is too small for 127 / amax (below ~3.7e-37) quantizes
  // to zeros on every path, with zeros in it too (0 * inf would be NaN).
  const float tiny[20] = {1e-38f, 0.0f, -2e-38f, 3e-39f, 0.0f, 1e-45f, -1e-38f, 0.0f, 2e-37f, 0.0f,
                          1e-38f, 0.0f, -2e-38f, 3e-39f, 0.0f, 1e-45f, -1e-38f, 0.0f, 2e-37f, -0.0f};
  for (ActFormat f : {ActFormat::s8, ActFormat::u8, ActFormat::s8_sums}) {
    AlignedBuf a(prepared_bytes(f, 1, 20)), b(prepared_bytes(f, 1, 20));
    ref::prepare_rows__ref(f, tiny, 20, 1, 20, 0, 1, a.p);
    t.prepare(f, tiny, 20, 1, 20, 0, 1, b.p);
    CHECK_MESSAGE(std::memcmp(a.p, b.p, a.size) == 0, "tiny row, format " << (int)f);
    const uint8_t zero = f == ActFormat::u8 ? 0x80 : 0x00;
    for (int i = 0; i < 20; ++i) CHECK(a.as<uint8_t>()[i] == zero);
  }
  // A non-finite row gets a NaN scale (outputs NaN, not garbage).
  const float bad[3] = {1.0f, NAN, 2.0f};
  ref::prepare_rows__ref(ActFormat::s8, bad, 3, 1, 3, 0, 1, s.p);
  CHECK(std::isnan(prepared_view(ActFormat::s8, 1, 3, s.p).scale[0]));
  t.prepare(ActFormat::s8, bad, 3, 1, 3, 0, 1, s.p);
  CHECK(std::isnan(prepared_view(ActFormat::s8, 1, 3, s.p).scale[0]));
}

TEST_CASE("quantizers: round-trip error within the quantization step") {
  std::mt19937 rng(11);
  const int32_t n = 37, k = 100;
  std::vector<float> w = random_floats(rng, (size_t)n * k);
  uint32_t panel[6];
  for (format::DType dt : {format::DType::f16, format::DType::bf16, format::DType::q8, format::DType::q4})
    for (int lay = 0; lay < 2; ++lay) {
      const format::Layout layout = (format::Layout)lay;
      standard_panel_params(dt, panel);
      const uint32_t* params = lay ? panel : nullptr;
      AlignedBuf buf(packed_bytes(dt, layout, n, k, params).value());
      REQUIRE(quantize_matrix(w.data(), n, k, dt, layout, params, buf.p, buf.size));
      const WeightMatrix v = weight_view(dt, layout, params, n, k, buf.p);
      for (int32_t r = 0; r < n; ++r) {
        float amax = 0.0f;
        for (int32_t c = 0; c < k; ++c) amax = std::fmax(amax, std::fabs(w[(size_t)r * k + c]));
        for (int32_t c = 0; c < k; ++c) {
          const float o = w[(size_t)r * k + c], got = ref::weight_at(v, r, c);
          double tol;
          if (dt == format::DType::f16) tol = std::fabs(o) * std::ldexp(1.0, -11) + std::ldexp(1.0, -25);
          else if (dt == format::DType::bf16) tol = std::fabs(o) * std::ldexp(1.0, -8);
          else if (dt == format::DType::q8) tol = 0.5 * amax / 127.0 * (1 + 1e-6) + 1e-12;
          else {  // q4: half a step of the block's scale; the largest element maps to -8, so an
                  // element of the other sign beyond 7 steps is clamped to 7 (up to one step off)
            const double s = std::fabs(ref::q_scale(v, r, c));
            tol = std::fmax(0.5 * s, std::fabs(o) - 7.0 * s) * (1 + 1e-6) + 1e-7;
          }
          if (!(std::fabs(got - o) <= tol)) {
            FAIL_CHECK(std::string(format::dtype_name(dt)) << "/" << lay << " w[" << r << "][" << c << "] = " << o << " -> " << got
                                              << " (tol " << tol << ")");
            r = n;
            break;
          }
        }
      }
      const QuantError e = quant_error(w.data(), v);
      const double rel_limit = dt == format::DType::q4 ? 0.12 : dt == format::DType::q8 ? 0.012 : 0.004;
      CHECK_MESSAGE(e.rel_l2 < rel_limit, std::string(format::dtype_name(dt)) << " rel_l2 " << e.rel_l2);
      CHECK(e.cosine > 1.0 - e.rel_l2 * e.rel_l2);  // cos = sqrt(1 - sin^2) >= 1 - sin^2
      CHECK(e.max_abs >= 0.0);
    }
}

TEST_CASE("repack: the reference reads packed == canonical, for every dtype") {
  std::mt19937 rng(3);
  for (int32_t n : {1, 16, 33})
    for (int32_t k : {1, 31, 64, 70}) {
      std::vector<float> w = random_floats(rng, (size_t)n * k);
      for (format::DType dt : {format::DType::f32, format::DType::f16, format::DType::bf16, format::DType::q8,
                               format::DType::q4}) {
        AlignedBuf canon(packed_bytes(dt, format::Layout::row_major, n, k).value());
        REQUIRE(quantize_matrix(w.data(), n, k, dt, format::Layout::row_major, nullptr, canon.p, canon.size));
        const WeightMatrix c = weight_view(dt, format::Layout::row_major, nullptr, n, k, canon.p);
        for (uint32_t nr : {4u, 16u})
          for (uint32_t kr : {1u, 2u, 4u}) {
            if (dt == format::DType::q4 && kr != 4) continue;
            const uint32_t params[6] = {nr, kr, 0, 0, 0, 0};
            AlignedBuf packed(packed_bytes(dt, format::Layout::panel, n, k, params).value());
            REQUIRE(repack_matrix(c, format::Layout::panel, params, packed.p, packed.size));
            const WeightMatrix p = weight_view(dt, format::Layout::panel, params, n, k, packed.p);
            // Quantizing straight into the panel gives the same bytes as repacking.
            AlignedBuf direct(packed.size);
            REQUIRE(quantize_matrix(w.data(), n, k, dt, format::Layout::panel, params, direct.p, direct.size));
            CHECK(std::memcmp(direct.p, packed.p, packed.size) == 0);
            bool same = true;
            for (int32_t r = 0; r < n && same; ++r)
              for (int32_t q = 0; q < k && same; ++q)
                same = bits_of(ref::weight_at(c, r, q)) == bits_of(ref::weight_at(p, r, q));
            CHECK_MESSAGE(same, std::string(format::dtype_name(dt)) << " n " << n << " k " << k << " nr " << nr << " kr " << kr);
            if (dt == format::DType::q8) {  // row sums for the VNNI offset trick
              const format::PanelGeometry g = ref::geometry(p);
              for (int32_t r = 0; r < n; ++r) {
                int32_t s = 0, stored;
                for (int32_t q = 0; q < k; ++q) s += ref::q_value(c, r, q);
                std::memcpy(&stored, packed.p + g.sum_offset + 4 * (size_t)r, 4);
                CHECK(stored == s);
              }
            }
          }
      }
    }
}

TEST_CASE("packed_bytes / tensor_bytes reject invalid panel params") {
  const uint32_t bad_nr[6] = {0, 1, 0, 0, 0, 0}, bad_kr[6] = {16, 3, 0, 0, 0, 0}, q4_kr1[6] = {16, 1, 0, 0, 0, 0},
                 junk[6] = {16, 1, 0, 0, 0, 9};
  CHECK_FALSE(packed_bytes(format::DType::f32, format::Layout::panel, 4, 4, bad_nr));
  CHECK_FALSE(packed_bytes(format::DType::f32, format::Layout::panel, 4, 4, bad_kr));
  CHECK_FALSE(packed_bytes(format::DType::q4, format::Layout::panel, 4, 4, q4_kr1));
  CHECK_FALSE(packed_bytes(format::DType::f32, format::Layout::panel, 4, 4, junk));
  CHECK_FALSE(packed_bytes(format::DType::i32, format::Layout::panel, 4, 4, bad_kr));
  const uint32_t ok[6] = {16, 4, 0, 0, 0, 0};
  // q8 17 x 5: Np 32, Kp 8 -> 256 int8 (already 64-aligned) + 32 scales + 32 sums.
  CHECK(packed_bytes(format::DType::q8, format::Layout::panel, 17, 5, ok).value() == 256 + 128 + 128);
  // q4 17 x 5: Np 32, Kp 32 -> 512 nibble bytes + 32 x 1 f16 scales.
  CHECK(packed_bytes(format::DType::q4, format::Layout::panel, 17, 5, ok).value() == 512 + 64);
}

TEST_CASE("loader: packed q8/q4 tensors validate; a non-finite scale is rejected in every layout") {
  std::mt19937 rng(8);
  const int32_t n = 20, k = 40;
  std::vector<float> w = random_floats(rng, (size_t)n * k);
  for (format::DType dt : {format::DType::q8, format::DType::q4})
    for (int lay = 0; lay < 2; ++lay) {
      uint32_t params[6];
      standard_panel_params(dt, params);
      const format::Layout layout = (format::Layout)lay;
      const uint32_t* pp = lay ? params : nullptr;
      std::vector<uint8_t> bytes(packed_bytes(dt, layout, n, k, pp).value());
      REQUIRE(quantize_matrix(w.data(), n, k, dt, layout, pp, bytes.data(), bytes.size()));
      for (int corrupt = 0; corrupt < 2; ++corrupt) {
        std::vector<uint8_t> b = bytes;
        if (corrupt) {
          // The scale of row 7 (q8) / of row 7, block 1 (q4), by the layout's formula.
          size_t at;
          const size_t kb = (size_t)(k + 31) / 32;
          if (lay) {
            format::PanelGeometry g;
            REQUIRE(format::panel_geometry(dt, n, k, params, &g));
            at = dt == format::DType::q8 ? g.scale_offset + 4 * 7 : g.scale_offset + 2 * ((0 * (g.kp / 32) + 1) * g.nr + 7);
          } else {
            at = dt == format::DType::q8 ? (((size_t)n * k + 63) & ~(size_t)63) + 4 * 7
                                         : (((size_t)n * kb * 16 + 63) & ~(size_t)63) + 2 * (7 * kb + 1);
          }
          if (dt == format::DType::q8) {
            const float inf = INFINITY;
            std::memcpy(&b[at], &inf, 4);
          } else {
            const uint16_t h = 0x7C00;
            std::memcpy(&b[at], &h, 2);
          }
        }
        format::Writer wr("test.kind");
        REQUIRE(wr.add_tensor("w", dt, {n, k}, b.data(), b.size(), layout, pp));
        Result<std::vector<uint8_t>> file = wr.finish();
        REQUIRE(file);
        AlignedBuf fb(file.value().size());
        std::memcpy(fb.p, file.value().data(), fb.size);
        Result<ModelFile> mf = ModelFile::open(fb.p, fb.size);
        if (corrupt) {
          REQUIRE_FALSE(mf);
          CHECK(mf.status().code() == Error::non_finite);
        } else {
          REQUIRE_MESSAGE(mf, mf.status().message());
          Result<TensorInfo> t = mf->find("w");
          REQUIRE(t);
          CHECK(t->layout == layout);
        }
      }
    }
}
