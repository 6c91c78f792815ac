// tests/kernels/test_dispatch.cpp: which kernel the table picks under each
// ISA cap (kernels/dispatch.hpp), the report texts, and ops::linear: the
// same bits for any thread count and task order, with or without caller
// scratch, equal to the chosen kernel run whole; plus a small model-level
// accuracy check of the quantized paths (a 2-layer MLP vs f32).
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

#include "jepa/ops/linear.hpp"
#include "jepa/runtime/thread_pool.hpp"
#include "kernel_test_util.hpp"

using namespace kt;

namespace {

WeightMatrix probe(format::DType dt, bool panel) {
  WeightMatrix w;
  w.dtype = dt;
  w.layout = panel ? format::Layout::panel : format::Layout::row_major;
  if (panel) standard_panel_params(dt, w.params);
  return w;
}

// Restores the cap the process started with.
struct CapGuard {
  ~CapGuard() { clear_isa_cap(); }
};

// Runs tasks in reverse order on the calling thread: results must not care.
void reverse_run(void*, size_t n, TaskFn task, void* arg) {
  for (size_t i = n; i-- > 0;) task(arg, i);
}

}  // namespace

TEST_CASE("dispatch: the cap admits only lower levels; scalar means the reference") {
  CapGuard guard;
  const CpuFeatures& f = cpu_features();
  set_isa_cap(Isa::scalar);
  for (format::DType dt : {format::DType::f32, format::DType::q8, format::DType::q4})
    CHECK(default_table().find(probe(dt, true)) == nullptr);
  if (f.has(isa_requires(Isa::avx2))) {
    set_isa_cap(Isa::avx2);
    const KernelInfo* k = default_table().find(probe(format::DType::q8, true));
    REQUIRE(k);
    CHECK(std::string(k->name) == "q8_gemm_4x16__avx2");
    // 7-bit weights (flag q7, checked at load) take the u8 x s8 kernel; unflagged ones never do.
    WeightMatrix q7 = probe(format::DType::q8, true);
    q7.flags = format::kTensorQ7;
    REQUIRE(default_table().find(q7));
    CHECK(std::string(default_table().find(q7)->name) == "q8_gemm_4x16__avx2_q7");
    CHECK(std::string(default_table().find(probe(format::DType::f32, false))->name) == "f32_gemm_3x4__avx2_dot");
    for (size_t i = 0; i < default_table().count; ++i) CHECK((int)default_table().kernels[i]->isa <= (int)Isa::avx2);
  } else {
    MESSAGE("skipped the avx2 cap check: this CPU lacks avx2");
  }
  clear_isa_cap();
  // No cap: the highest level the CPU has wins for q8 panels.
  const KernelInfo* best = default_table().find(probe(format::DType::q8, true));
#if defined(JEPA_KERNELS_X86_AMX)
  if (f.has(isa_requires(Isa::amx))) {
    REQUIRE(best);
    CHECK(std::string(best->name) == "q8_gemm_32x32__amx");
  } else
#endif
  if (f.has(isa_requires(Isa::avx512vnni))) {
    REQUIRE(best);
    CHECK(std::string(best->name) == "q8_gemm_8x32__avx512vnni");
  } else if (f.has(isa_requires(Isa::avx2))) {
    REQUIRE(best);
    CHECK(std::string(best->name) == "q8_gemm_4x16__avx2");
  }
  // A table for a pretend CPU: every x86 level present.
  CpuFeatures all;
  all.bits = kFeatAvx2 | kFeatAvx512 | kFeatAvx512Vnni | kFeatAvx512Bf16;
  const KernelTable t = choose_kernels(all, 255);
#if defined(JEPA_KERNELS_X86_AMX)
  {  // AMX on top: the tile kernels take q8 and bf16; the cap below AMX gives them back.
    CpuFeatures amx = all;
    amx.bits |= kFeatAmx;
    const KernelTable ta = choose_kernels(amx, 255);
    CHECK(std::string(ta.find(probe(format::DType::q8, true))->name) == "q8_gemm_32x32__amx");
    CHECK(std::string(ta.find(probe(format::DType::bf16, true))->name) == "bf16_gemm_32x32__amx");
    CHECK(std::string(ta.find(probe(format::DType::q4, true))->name) == "q4_gemm_4x32__avx512vnni");
    const KernelTable tb = choose_kernels(amx, (int)Isa::avx512bf16);
    CHECK(std::string(tb.find(probe(format::DType::q8, true))->name) == "q8_gemm_8x32__avx512vnni");
  }
#endif
#if defined(JEPA_KERNELS_X86_AVX512BF16)
  CHECK(std::string(t.find(probe(format::DType::bf16, true))->name) == "bf16_gemm_12x32__avx512bf16");
  CHECK(std::string(t.find(probe(format::DType::q4, true))->name) == "q4_gemm_4x32__avx512vnni");
  const KernelTable t512 = choose_kernels(all, (int)Isa::avx512);
  CHECK(std::string(t512.find(probe(format::DType::bf16, true))->name) == "bf16_gemm_12x32__avx512");
  CHECK(std::string(t512.find(probe(format::DType::q8, true))->name) == "q8_gemm_4x16__avx2");
#endif
  // Panel params no kernel reads: the reference, and the report says why.
  WeightMatrix odd = probe(format::DType::q8, true);
  odd.params[0] = 8;
  CHECK(t.find(odd) == nullptr);
  char line[256];
  describe_choice(t, odd, line, sizeof line);
  CHECK(std::string(line).find("gemm__ref") != std::string::npos);
}

TEST_CASE("dispatch: parse_isa and the report") {
  Isa i;
  CHECK(parse_isa("avx512vnni", &i));
  CHECK(i == Isa::avx512vnni);
  CHECK_FALSE(parse_isa("avx9", &i));
  CHECK_FALSE(parse_isa(nullptr, &i));
  char buf[4096];
  const size_t need = kernel_report(default_table(), buf, sizeof buf);
  CHECK(need < sizeof buf);
  const std::string r(buf);
  CHECK(r.find("cpu:") != std::string::npos);
  CHECK(r.find("q8/panel(nr=16,kr=4) -> ") != std::string::npos);
  MESSAGE("kernel_report:\n" << r);
  // Truncation is snprintf-like: the length needed comes back.
  char tiny[8];
  CHECK(kernel_report(default_table(), tiny, sizeof tiny) == need);
  CHECK(std::strlen(tiny) == 7);
}

TEST_CASE("ops::linear: bit-identical for any thread count, task order and scratch") {
  std::mt19937 rng(21);
  const int32_t m = 37, n = 200, k = 150;
  std::vector<float> x = random_floats(rng, (size_t)m * k), wf = random_floats(rng, (size_t)n * k, 0.1f);
  std::vector<float> bias = random_floats(rng, n), resid = random_floats(rng, (size_t)m * n);
  for (format::DType dt : {format::DType::f32, format::DType::f16, format::DType::bf16, format::DType::q8,
                           format::DType::q4})
    for (int lay = 0; lay < 2; ++lay) {
      if (lay == 0 && dt != format::DType::f32 && dt != format::DType::q8) continue;  // reference only: slow
      uint32_t params[6];
      standard_panel_params(dt, params);
      const format::Layout layout = (format::Layout)lay;
      const uint32_t* pp = lay ? params : nullptr;
      AlignedBuf wb(packed_bytes(dt, layout, n, k, pp).value());
      REQUIRE(quantize_matrix(wf.data(), n, k, dt, layout, pp, wb.p, wb.size));
      const WeightMatrix w = weight_view(dt, layout, pp, n, k, wb.p);
      std::vector<float> y1((size_t)m * n), y2, y3, y4, ywhole((size_t)m * n);
      ParallelFor serial;
      ops::linear(serial, w, bias.data(), x.data(), m, y1.data(), Epilogue::gelu, resid.data());
      ParallelFor rev;
      rev.run = &reverse_run;
      rev.threads = 4;
      y2 = y1;
      std::fill(y2.begin(), y2.end(), 0.f);
      ops::linear(rev, w, bias.data(), x.data(), m, y2.data(), Epilogue::gelu, resid.data());
      ThreadPool pool(3);
      y3.assign(y1.size(), 0.f);
      ops::linear(pool.parallel_for(), w, bias.data(), x.data(), m, y3.data(), Epilogue::gelu, resid.data());
      // Caller scratch (one pass over all rows) instead of the stack chunks.
      ops::LinearContext ctx;
      ctx.par = pool.parallel_for();
      AlignedBuf scratch(ops::linear_scratch_bytes(w, m) + 64);
      ctx.scratch = scratch.p;
      ctx.scratch_bytes = scratch.size;
      y4.assign(y1.size(), 0.f);
      ops::linear(ctx, w, bias.data(), x.data(), m, y4.data(), Epilogue::gelu, resid.data());
      CHECK_MESSAGE(std::memcmp(y1.data(), y2.data(), y1.size() * 4) == 0, std::string(format::dtype_name(dt)) << lay);
      CHECK_MESSAGE(std::memcmp(y1.data(), y3.data(), y1.size() * 4) == 0, std::string(format::dtype_name(dt)) << lay);
      CHECK_MESSAGE(std::memcmp(y1.data(), y4.data(), y1.size() * 4) == 0, std::string(format::dtype_name(dt)) << lay);
      // The same as the chosen kernel over the whole problem (tiling changes nothing).
      GemmArgs a;
      a.m = m;
      a.x = x.data();
      a.ldx = k;
      a.w = &w;
      a.bias = bias.data();
      a.residual = resid.data();
      a.ldr = n;
      a.y = ywhole.data();
      a.ldy = n;
      a.epilogue = Epilogue::gelu;
      const KernelInfo* kinfo = default_table().find(w);
      AlignedBuf s2(kinfo ? kinfo->scratch_bytes(m, k) + 64 : 64);
      run_kernel(kinfo, a, s2.p);
      CHECK_MESSAGE(std::memcmp(y1.data(), ywhole.data(), y1.size() * 4) == 0,
                    std::string(format::dtype_name(dt)) << lay << " " << std::string(kinfo ? kinfo->name : "ref"));
    }
}

TEST_CASE("model-level accuracy: a 2-layer MLP with quantized weights vs f32") {
  // x[64][256] -> fc1 (1024, GELU) -> fc2 (256) + residual, as a ViT MLP block;
  // weights N(0, 1/fan_in) as the golden data's init, inputs ~ LayerNorm outputs.
  std::mt19937 rng(42);
  const int32_t m = 64, d = 256, h = 1024;
  std::vector<float> x = random_floats(rng, (size_t)m * d);
  std::vector<float> w1 = random_floats(rng, (size_t)h * d, 1.0f / std::sqrt((float)d));
  std::vector<float> w2 = random_floats(rng, (size_t)d * h, 1.0f / std::sqrt((float)h));
  std::vector<float> b1 = random_floats(rng, h, 0.1f), b2 = random_floats(rng, d, 0.1f);
  auto mlp = [&](format::DType dt, uint32_t flags, std::vector<float>& out) {
    uint32_t params[6];
    standard_panel_params(dt, params);
    AlignedBuf p1(packed_bytes(dt, format::Layout::panel, h, d, params).value());
    AlignedBuf p2(packed_bytes(dt, format::Layout::panel, d, h, params).value());
    REQUIRE(quantize_matrix(w1.data(), h, d, dt, format::Layout::panel, params, p1.p, p1.size, flags));
    REQUIRE(quantize_matrix(w2.data(), d, h, dt, format::Layout::panel, params, p2.p, p2.size, flags));
    const WeightMatrix m1 = weight_view(dt, format::Layout::panel, params, h, d, p1.p, flags);
    const WeightMatrix m2 = weight_view(dt, format::Layout::panel, params, d, h, p2.p, flags);
    std::vector<float> hid((size_t)m * h);
    out.assign((size_t)m * d, 0.f);
    ParallelFor serial;
    ops::linear(serial, m1, b1.data(), x.data(), m, hid.data(), Epilogue::gelu);
    ops::linear(serial, m2, b2.data(), hid.data(), m, out.data(), Epilogue::none, x.data());
  };
  // The f32 truth: double-precision MLP.
  std::vector<double> truth((size_t)m * d);
  for (int32_t i = 0; i < m; ++i) {
    std::vector<double> hid(h);
    for (int32_t j = 0; j < h; ++j) {
      double s = b1[j];
      for (int32_t q = 0; q < d; ++q) s += (double)x[(size_t)i * d + q] * w1[(size_t)j * d + q];
      hid[j] = 0.5 * s * (1.0 + std::erf(s / std::sqrt(2.0)));
    }
    for (int32_t j = 0; j < d; ++j) {
      double s = b2[j] + x[(size_t)i * d + j];
      for (int32_t q = 0; q < h; ++q) s += hid[q] * w2[(size_t)j * h + q];
      truth[(size_t)i * d + j] = s;
    }
  }
  // Limits: the golden int8 tolerance is 3x a simulated ~1% single-layer error;
  // q4 (16 levels per 32-block) is coarser; bf16/f16 round weights only.
  // q8 with 7-bit weights (q7) halves the weight step: still within the int8 limit.
  const struct { format::DType dt; uint32_t flags; double max_rel_l2; } cases[] = {
      {format::DType::f32, 0, 1e-5}, {format::DType::f16, 0, 2e-3}, {format::DType::bf16, 0, 1e-2},
      {format::DType::q8, 0, 0.03}, {format::DType::q8, format::kTensorQ7, 0.03}, {format::DType::q4, 0, 0.15}};
  for (const auto& c : cases) {
    std::vector<float> out;
    mlp(c.dt, c.flags, out);
    double d2 = 0, t2 = 0, dot = 0, o2 = 0, maxabs = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      const double e = out[i] - truth[i];
      d2 += e * e;
      t2 += truth[i] * truth[i];
      o2 += (double)out[i] * out[i];
      dot += out[i] * truth[i];
      maxabs = std::fmax(maxabs, std::fabs(e));
    }
    const double rel = std::sqrt(d2 / t2), cosine = dot / std::sqrt(t2 * o2);
    const std::string label = std::string(format::dtype_name(c.dt)) + (c.flags ? " (q7)" : "");
    MESSAGE(label << " MLP (per-row int8 activations for q8/q4): rel_l2 " << rel << " cosine " << cosine
                  << " max_abs " << maxabs);
    CHECK(rel < c.max_rel_l2);
  }
}
