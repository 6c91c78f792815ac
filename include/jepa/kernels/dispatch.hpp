// jepa/kernels/dispatch.hpp: from the registry (registry.inc) and the CPU's
// features to a KernelTable, chosen once (at load / bind), then used by
// ops::linear for every matmul. Generic code never tests CPU features.
//
//   KernelTable t = choose_kernels();        // or default_table(), built once
//   const KernelInfo* k = t.find(w);         // best compiled-in kernel for W, or null:
//                                            // the scalar reference (never a wrong answer)
//   kernel_report(t, buf, n);                // which kernel each dtype/layout runs, and why
//
// A weight whose packed params no kernel reads (e.g. a panel width packed for
// another CPU) falls back to the reference, which reads every layout.
#ifndef JEPA_KERNELS_DISPATCH_HPP
#define JEPA_KERNELS_DISPATCH_HPP

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "cpu_features.hpp"
#include "gemm.hpp"
#include "kernel_headers.hpp"

namespace jepa {
namespace kernels {

using PrepareFn = void (*)(ActFormat f, const float* x, size_t ldx, int32_t m, int32_t k, int32_t r0,
                           int32_t r1, void* scratch);

// One registry line.
struct KernelInfo {
  const char* name;          // e.g. "q8_gemm_4x16__avx2"
  Isa isa;
  format::DType dtype;
  format::Layout layout;
  uint32_t panel_nr, panel_kr;  // packed params it reads (0 for row_major)
  ActFormat act;
  int mr, nr;                // register tile
  GemmFn fn;

  // Does this kernel read W's bytes as they are?
  bool accepts(const WeightMatrix& w) const {
    if (w.dtype != dtype || w.layout != layout) return false;
    if (layout == format::Layout::panel)
      return w.params[0] == panel_nr && w.params[1] == panel_kr && w.params[2] == 0 && w.params[3] == 0 &&
             w.params[4] == 0 && w.params[5] == 0;
    return true;
  }
  // Caller scratch for the prepared activations of m rows (0 for f32 kernels).
  size_t scratch_bytes(int32_t m, int32_t k) const { return prepared_bytes(act, m, k); }
};

// Every kernel compiled into this build, in registry order.
inline const KernelInfo* registry(size_t* count) {
  static const KernelInfo kAll[] = {
#define JEPA_KERNEL(ns, fn, isa_, dtype_, layout_, pnr, pkr, act_, mr_, nr_)                           \
  {#fn, Isa::isa_, format::DType::dtype_, format::Layout::layout_, pnr, pkr, ActFormat::act_, mr_, nr_, \
   &ns::fn},
#include "registry.inc"
#undef JEPA_KERNEL
      {nullptr, Isa::scalar, format::DType::f32, format::Layout::row_major, 0, 0, ActFormat::f32, 0, 0, nullptr}};
  *count = sizeof(kAll) / sizeof(kAll[0]) - 1;  // the sentinel keeps the array non-empty
  return kAll;
}

// The fastest prepare pass this CPU runs; all give identical bytes.
inline PrepareFn choose_prepare(const CpuFeatures& f, bool cap_allows_avx2, bool cap_allows_neon = false) {
#if defined(JEPA_KERNELS_X86_AVX2) && defined(JEPA_HAVE_PREPARE_AVX2)
  if (f.has(kFeatAvx2) && cap_allows_avx2) return &x86::prepare_rows__avx2;
#endif
#if defined(JEPA_KERNELS_ARM_NEON) && defined(JEPA_HAVE_PREPARE_NEON)
  if (f.has(kFeatNeon) && cap_allows_neon) return &arm::prepare_rows__neon;
#endif
  (void)f;
  (void)cap_allows_avx2;
  (void)cap_allows_neon;
  return &ref::prepare_rows__ref;
}

constexpr size_t kMaxTableKernels = 64;

struct KernelTable {
  const KernelInfo* kernels[kMaxTableKernels] = {};  // usable here, best first
  size_t count = 0;
  PrepareFn prepare = &ref::prepare_rows__ref;
  CpuFeatures cpu;
  int cap = 255;  // Isa value or 255 (none)

  // The best kernel that reads W as it is, or null (use the reference).
  const KernelInfo* find(const WeightMatrix& w) const {
    for (size_t i = 0; i < count; ++i)
      if (kernels[i]->accepts(w)) return kernels[i];
    return nullptr;
  }
};

// Usable = compiled in, supported by the CPU (with OS state), admitted by the cap.
inline bool kernel_usable(const KernelInfo& k, const CpuFeatures& f, int cap) {
  if (!f.has(isa_requires(k.isa))) return false;
  if (cap == 255 || k.isa == Isa::scalar) return true;
  const Isa c = (Isa)cap;
  if (c == Isa::scalar) return false;
  if (isa_is_x86(k.isa) != isa_is_x86(c)) return true;
  return (int)k.isa <= cap;
}

inline KernelTable choose_kernels(const CpuFeatures& f = cpu_features(), int cap = isa_cap_value()) {
  KernelTable t;
  t.cpu = f;
  t.cap = cap;
  size_t n = 0;
  const KernelInfo* all = registry(&n);
  // Highest ISA level first; registry order within a level (stable).
  for (int level = 255; level >= 0; --level)
    for (size_t i = 0; i < n; ++i)
      if ((int)all[i].isa == level && kernel_usable(all[i], f, cap) && t.count < kMaxTableKernels)
        t.kernels[t.count++] = &all[i];
  KernelInfo avx2_probe{};
  avx2_probe.isa = Isa::avx2;
  KernelInfo neon_probe{};
  neon_probe.isa = Isa::neon;
  t.prepare = choose_prepare(f, kernel_usable(avx2_probe, f, cap), kernel_usable(neon_probe, f, cap));
  return t;
}

namespace detail {
inline KernelTable& default_table_storage() {
  static KernelTable t = choose_kernels();
  return t;
}
}  // namespace detail

// Chosen once, on first use, for this CPU and the cap at that time.
inline const KernelTable& default_table() { return detail::default_table_storage(); }

// Caps the ISA for tables chosen afterwards and rebuilds the default table.
// For tests and tools at start-up (not while another thread runs inference).
inline void set_isa_cap(Isa cap) {
  store_isa_cap((int)cap);
  detail::default_table_storage() = choose_kernels();
}
inline void clear_isa_cap() {
  store_isa_cap(255);
  detail::default_table_storage() = choose_kernels();
}

// Runs one kernel (or the reference, k == null) on a whole problem, single
// threaded: prepares the activations into scratch (>= k->scratch_bytes(m, K),
// 64-byte aligned) first. For tests and benchmarks; ops::linear tiles instead.
inline void run_kernel(const KernelInfo* k, GemmArgs a, void* scratch, PrepareFn prepare = nullptr) {
  if (k == nullptr) {
    ref::gemm__ref(a);
    return;
  }
  PreparedX xp;
  if (k->act != ActFormat::f32) {
    if (prepare == nullptr) prepare = default_table().prepare;
    prepare(k->act, a.x, a.ldx, a.m, a.w->k, 0, a.m, scratch);
    xp = prepared_view(k->act, a.m, a.w->k, scratch);
    a.xp = &xp;
  }
  k->fn(a);
}

namespace detail {
struct TextOut {
  char* buf;
  size_t cap, len = 0;
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  void put(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const size_t room = len < cap ? cap - len : 0;
    const int w = std::vsnprintf(buf ? buf + len : nullptr, buf ? room : 0, fmt, ap);
    va_end(ap);
    if (w > 0) len += (size_t)w;
  }
};
}  // namespace detail

// One line: which kernel runs W and why. Returns the length it needed
// (snprintf-style: the text is cut to n - 1 characters).
inline size_t describe_choice(const KernelTable& t, const WeightMatrix& w, char* buf, size_t n) {
  detail::TextOut o{buf, n};
  if (buf && n) buf[0] = 0;
  o.put("%s/%s", format::dtype_name(w.dtype), format::layout_name(w.layout));
  if (w.layout == format::Layout::panel) o.put("(nr=%u,kr=%u)", w.params[0], w.params[1]);
  const KernelInfo* k = t.find(w);
  if (k) {
    o.put(" -> %s [%s, tile %dx%d, activations %s]", k->name, isa_name(k->isa), k->mr, k->nr,
          k->act == ActFormat::f32 ? "f32" : k->act == ActFormat::bf16 ? "bf16" : "int8 per row");
    return o.len;
  }
  size_t all_n = 0;
  const KernelInfo* all = registry(&all_n);
  const KernelInfo* blocked = nullptr;
  for (size_t i = 0; i < all_n; ++i)
    if (all[i].accepts(w)) { blocked = &all[i]; break; }
  if (blocked)
    o.put(" -> gemm__ref [scalar reference: %s needs %s, %s]", blocked->name, isa_name(blocked->isa),
          t.cpu.has(isa_requires(blocked->isa)) ? "excluded by the ISA cap" : "not supported by this CPU");
  else
    o.put(" -> gemm__ref [scalar reference: no kernel in this build reads this dtype/layout]");
  return o.len;
}

// Multi-line report: compile-time options, CPU features seen, cap, then the
// choice for every dtype in canonical and standard packed layouts.
inline size_t kernel_report(const KernelTable& t, char* buf, size_t n) {
  detail::TextOut o{buf, n};
  if (buf && n) buf[0] = 0;
  o.put("build:");
#if defined(JEPA_NO_SIMD)
  o.put(" JEPA_NO_SIMD");
#endif
#if defined(JEPA_NO_RUNTIME_DISPATCH)
  o.put(" JEPA_NO_RUNTIME_DISPATCH");
#endif
#if defined(JEPA_KERNELS_X86_AVX2)
  o.put(" x86-avx2");
#endif
#if defined(JEPA_KERNELS_X86_AVX512)
  o.put(" x86-avx512");
#endif
#if defined(JEPA_KERNELS_X86_AVX512VNNI)
  o.put(" x86-avx512vnni");
#endif
#if defined(JEPA_KERNELS_X86_AVX512BF16)
  o.put(" x86-avx512bf16");
#endif
#if defined(JEPA_KERNELS_ARM_NEON)
  o.put(" arm-neon");
#endif
#if defined(JEPA_KERNELS_ARM_DOTPROD)
  o.put(" arm-dotprod");
#endif
#if defined(JEPA_KERNELS_ARM_I8MM)
  o.put(" arm-i8mm");
#endif
#if defined(JEPA_KERNELS_ARM_SVE)
  o.put(" arm-sve");
#endif
  size_t all_n = 0;
  registry(&all_n);
  o.put(" (%zu kernels compiled in)\ncpu:", all_n);
  static const Isa levels[] = {Isa::avx2, Isa::avx512, Isa::avx512vnni, Isa::avx512bf16,
                               Isa::neon, Isa::neondot, Isa::i8mm, Isa::sve};
  bool any = false;
  for (Isa i : levels)
    if (t.cpu.has(isa_requires(i))) { o.put(" %s", isa_name(i)); any = true; }
  if (!any) o.put(" (no SIMD level this build knows)");
  if (t.cap == 255)
    o.put("\ncap: none (JEPA_MAX_ISA unset or unknown)\n");
  else
    o.put("\ncap: %s\n", isa_name((Isa)t.cap));
  static const format::DType dts[] = {format::DType::f32, format::DType::f16, format::DType::bf16,
                                      format::DType::q8, format::DType::q4};
  for (format::DType dt : dts)
    for (int lay = 0; lay < 2; ++lay) {
      WeightMatrix w;
      w.dtype = dt;
      w.layout = (format::Layout)lay;
      if (lay == 1) standard_panel_params(dt, w.params);
      o.put("  ");
      char line[256];
      describe_choice(t, w, line, sizeof line);
      o.put("%s\n", line);
    }
  return o.len;
}

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_DISPATCH_HPP
