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
#include <cstdlib>
#include <cstring>

#include "cpu_features.hpp"
#include "gemm.hpp"
#include "ref/gemm-ref.hpp"
#include "ref/prepare-ref.hpp"
#if !defined(JEPA_KERNELS_DECLARE_ONLY)
#include "kernel_headers.hpp"
#endif

namespace jepa {
namespace kernels {

using PrepareFn = void (*)(ActFormat f, const float* x, size_t ldx, int32_t m, int32_t k, int32_t r0,
                           int32_t r1, void* scratch);

// Who computes the Linear layers: jepa-rt's own kernels (default), or an
// optional library backend compiled in with JEPA_WITH_EIGEN / JEPA_WITH_XNNPACK
// (kernels/backends/). Eigen is stateless: its GEMMs are registry lines
// tagged `eigen`, in a table only when the table's backend is eigen.
// XNNPACK packs weights into operators at load: it plugs in as an
// ExternalLinear (XnnpackLinearCache::hook()). Dtypes/layouts a backend does
// not cover run on jepa-rt's kernels. Chosen once, like the ISA cap: by
// set_backend() or, at first use, the environment variable
// JEPA_BACKEND=jepa|eigen|xnnpack.
enum class Backend : uint8_t {
  jepa = 0,
  eigen = 1,
  xnnpack = 2,
};

inline const char* backend_name(Backend b) {
  switch (b) {
    case Backend::jepa: return "jepa";
    case Backend::eigen: return "eigen";
    case Backend::xnnpack: return "xnnpack";
  }
  return "?";
}

// Parses a backend name (as backend_name prints it); false if unknown.
inline bool parse_backend(const char* s, Backend* out) {
  static const Backend all[] = {Backend::jepa, Backend::eigen, Backend::xnnpack};
  for (Backend b : all)
    if (s && std::strcmp(s, backend_name(b)) == 0) {
      *out = b;
      return true;
    }
  return false;
}

// Was this backend compiled into this build?
inline bool backend_compiled_in(Backend b) {
  switch (b) {
    case Backend::jepa: return true;
#if defined(JEPA_WITH_EIGEN)
    case Backend::eigen: return true;
#endif
#if defined(JEPA_WITH_XNNPACK)
    case Backend::xnnpack: return true;
#endif
    default: return false;
  }
}

// A library that runs a whole Linear itself (its own packed weights and
// threads). run() computes rows [0, a.m) and every column of a.w (a.n0 == 0,
// a.n1 < 0, contiguous rows) with the GemmArgs epilogue, using scratch if it
// needs some and it is large enough; it returns false, having written
// nothing, when it does not handle this W (ops::linear then runs the kernels).
struct ExternalLinear {
  bool (*run)(const void* self, const GemmArgs& a, void* scratch, size_t scratch_bytes) = nullptr;
  // Scratch that lets run() work in one pass (0: none needed); may be null.
  size_t (*scratch_bytes)(const void* self, const WeightMatrix& w, int32_t m) = nullptr;
  // One line for kernel_report (snprintf-like); may be null.
  size_t (*describe)(const void* self, char* buf, size_t n) = nullptr;
  const void* self = nullptr;
};

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
  int32_t kc;                // K block walked inside the kernel (0: all of K per tile)
  Backend backend;           // jepa: jepa-rt's own kernel; else the library behind it (no ISA)
  uint32_t needs_flags;      // format::TensorFlag bits W must carry (kTensorQ7: 7-bit q8 weights)

  // Are W's values in the range this kernel computes exactly?
  bool flags_ok(const WeightMatrix& w) const { return (w.flags & needs_flags) == needs_flags; }
  // Does this kernel read W's bytes as they are?
  bool accepts(const WeightMatrix& w) const {
    if (w.dtype != dtype || w.layout != layout || !flags_ok(w)) return false;
    if (layout == format::Layout::panel)
      return w.params[0] == panel_nr && w.params[1] == panel_kr && w.params[2] == 0 && w.params[3] == 0 &&
             w.params[4] == 0 && w.params[5] == 0;
    return true;
  }
  // Caller scratch for the prepared activations of m rows (0 for f32 kernels).
  size_t scratch_bytes(int32_t m, int32_t k) const { return prepared_bytes(act, m, k); }
};

// Every kernel compiled into this build, in registry order.
JEPA_KERNEL_TABLE const KernelInfo* registry(size_t* count);

// The fastest prepare pass this CPU runs; all give identical bytes.
JEPA_KERNEL_TABLE PrepareFn choose_prepare(const CpuFeatures& f, bool cap_allows_avx2, bool cap_allows_neon = false,
                                           bool cap_allows_avx512 = false);

// The two tables above reach every SIMD kernel: defined here unless this
// translation unit only declares them (config.hpp: JEPA_KERNELS_EXTERN).
#if !defined(JEPA_KERNELS_DECLARE_ONLY)
JEPA_KERNEL_TABLE const KernelInfo* registry(size_t* count) {
  static const KernelInfo kAll[] = {
#define JEPA_KERNEL_FLAGGED(ns, fn, isa_, dtype_, layout_, pnr, pkr, act_, mr_, nr_, kc_, flags_)        \
  {#fn, Isa::isa_, format::DType::dtype_, format::Layout::layout_, pnr, pkr, ActFormat::act_, mr_, nr_, \
   &ns::fn, kc_, Backend::jepa, flags_},
#define JEPA_KERNEL(ns, fn, isa_, dtype_, layout_, pnr, pkr, act_, mr_, nr_, kc_) \
  JEPA_KERNEL_FLAGGED(ns, fn, isa_, dtype_, layout_, pnr, pkr, act_, mr_, nr_, kc_, 0)
#define JEPA_BACKEND_KERNEL(backend_, ns, fn, dtype_, layout_, pnr, pkr, act_, mr_, nr_)                   \
  {#fn, Isa::scalar, format::DType::dtype_, format::Layout::layout_, pnr, pkr, ActFormat::act_, mr_, nr_, \
   &ns::fn, 0, Backend::backend_, 0},
#include "registry.inc"
#undef JEPA_BACKEND_KERNEL
#undef JEPA_KERNEL
#undef JEPA_KERNEL_FLAGGED
      {nullptr, Isa::scalar, format::DType::f32, format::Layout::row_major, 0, 0, ActFormat::f32, 0, 0, nullptr, 0,
       Backend::jepa, 0}};
  *count = sizeof(kAll) / sizeof(kAll[0]) - 1;  // the sentinel keeps the array non-empty
  return kAll;
}

JEPA_KERNEL_TABLE PrepareFn choose_prepare(const CpuFeatures& f, bool cap_allows_avx2, bool cap_allows_neon,
                                           bool cap_allows_avx512) {
#if defined(JEPA_HAVE_PREPARE_AVX512)
  if (f.has(kFeatAvx2 | kFeatAvx512) && cap_allows_avx512) return &x86::prepare_rows__avx512;
#endif
  (void)cap_allows_avx512;
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
#endif  // !JEPA_KERNELS_DECLARE_ONLY

constexpr size_t kMaxTableKernels = 64;

struct KernelTable {
  const KernelInfo* kernels[kMaxTableKernels] = {};  // usable here, best first
  size_t count = 0;
  PrepareFn prepare = &ref::prepare_rows__ref;
  CpuFeatures cpu;
  int cap = 255;  // Isa value or 255 (none)
  Backend backend = Backend::jepa;  // requested; its registry lines come first in kernels[]
  ExternalLinear external;          // xnnpack: set by set_backend() or by hand; run == null: none

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

// backend: its registry lines (if any) go first, then jepa-rt's kernels as
// the fallback for what it does not cover. An ExternalLinear (xnnpack) is
// not chosen here: set KernelTable::external (or use set_backend()).
inline KernelTable choose_kernels(const CpuFeatures& f = cpu_features(), int cap = isa_cap_value(),
                                  Backend backend = Backend::jepa) {
  KernelTable t;
  t.cpu = f;
  t.cap = cap;
  t.backend = backend;
  size_t n = 0;
  const KernelInfo* all = registry(&n);
  if (backend != Backend::jepa)
    for (size_t i = 0; i < n; ++i)
      if (all[i].backend == backend && t.count < kMaxTableKernels) t.kernels[t.count++] = &all[i];
  // Highest ISA level first; registry order within a level (stable).
  for (int level = 255; level >= 0; --level)
    for (size_t i = 0; i < n; ++i)
      if (all[i].backend == Backend::jepa && (int)all[i].isa == level && kernel_usable(all[i], f, cap) &&
          t.count < kMaxTableKernels)
        t.kernels[t.count++] = &all[i];
  KernelInfo avx2_probe{};
  avx2_probe.isa = Isa::avx2;
  KernelInfo neon_probe{};
  neon_probe.isa = Isa::neon;
  KernelInfo avx512_probe{};
  avx512_probe.isa = Isa::avx512;
  t.prepare = choose_prepare(f, kernel_usable(avx2_probe, f, cap), kernel_usable(neon_probe, f, cap),
                             kernel_usable(avx512_probe, f, cap));
  return t;
}

namespace detail {
// The default table's backend: set_backend() or JEPA_BACKEND (read once; an
// unknown value means jepa, and kernel_report shows what is in force).
inline Backend& backend_slot() {
  static Backend b = [] {
    Backend v = Backend::jepa;
#if !defined(JEPA_NO_GETENV)
    const char* e = std::getenv("JEPA_BACKEND");
    if (e && !parse_backend(e, &v)) v = Backend::jepa;
#endif
    return v;
  }();
  return b;
}
inline ExternalLinear& external_slot() {
  static ExternalLinear e;
  return e;
}
inline KernelTable build_default_table() {
  KernelTable t = choose_kernels(cpu_features(), isa_cap_value(), backend_slot());
  if (t.backend == Backend::xnnpack) t.external = external_slot();
  return t;
}
inline KernelTable& default_table_storage() {
  static KernelTable t = build_default_table();
  return t;
}
}  // namespace detail

// Chosen once, on first use, for this CPU, the cap and the backend at that time.
inline const KernelTable& default_table() { return detail::default_table_storage(); }

// The backend the default table was asked for (JEPA_BACKEND or set_backend()).
inline Backend default_backend() { return detail::backend_slot(); }

// Caps the ISA for tables chosen afterwards and rebuilds the default table.
// For tests and tools at start-up (not while another thread runs inference).
inline void set_isa_cap(Isa cap) {
  store_isa_cap((int)cap);
  detail::default_table_storage() = detail::build_default_table();
}
inline void clear_isa_cap() {
  store_isa_cap(255);
  detail::default_table_storage() = detail::build_default_table();
}

// Selects the backend of the default table (every ops::linear that names no
// table) and rebuilds it. xnnpack needs its ExternalLinear (the cache's
// hook(), which must outlive its use); without one, xnnpack tables run
// jepa-rt's kernels. A backend not compiled in also leaves jepa-rt's kernels
// (kernel_report says so). For start-up, not while inference runs.
inline void set_backend(Backend b, const ExternalLinear* external = nullptr) {
  detail::backend_slot() = b;
  detail::external_slot() = external ? *external : ExternalLinear();
  detail::default_table_storage() = detail::build_default_table();
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
  if (w.flags & format::kTensorQ7) o.put(" q7");
  const KernelInfo* k = t.find(w);
  if (k) {
    o.put(" -> %s [%s, tile %dx%d, activations %s]", k->name,
          k->backend != Backend::jepa ? backend_name(k->backend) : isa_name(k->isa), k->mr, k->nr,
          k->act == ActFormat::f32    ? "f32"
          : k->act == ActFormat::bf16 ? "bf16"
          : k->act == ActFormat::u8   ? "int8 per row, stored + 128"
                                      : "int8 per row");
    return o.len;
  }
  size_t all_n = 0;
  const KernelInfo* all = registry(&all_n);
  const KernelInfo* blocked = nullptr;
  for (size_t i = 0; i < all_n; ++i)
    if (all[i].backend == Backend::jepa && all[i].accepts(w)) { blocked = &all[i]; break; }
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
#if defined(JEPA_KERNELS_X86_AMX)
  o.put(" x86-amx");
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
  static const Isa levels[] = {Isa::avx2, Isa::avx512, Isa::avx512vnni, Isa::avx512bf16, Isa::amx,
                               Isa::neon, Isa::neondot, Isa::i8mm, Isa::sve};
  bool any = false;
  for (Isa i : levels)
    if (t.cpu.has(isa_requires(i))) { o.put(" %s", isa_name(i)); any = true; }
  if (!any) o.put(" (no SIMD level this build knows)");
  if (t.cap == 255)
    o.put("\ncap: none (JEPA_MAX_ISA unset or unknown)\n");
  else
    o.put("\ncap: %s\n", isa_name((Isa)t.cap));
  o.put("backend: %s", backend_name(t.backend));
  if (!backend_compiled_in(t.backend)) {
    o.put(" (not compiled in: build with JEPA_WITH_%s; jepa-rt kernels run)",
          t.backend == Backend::eigen ? "EIGEN" : "XNNPACK");
  } else if (t.external.run) {
    char line[256] = "";
    if (t.external.describe) t.external.describe(t.external.self, line, sizeof line);
    o.put(" (%s; other matrices: the kernels below)", line);
  } else if (t.backend == Backend::xnnpack) {
    o.put(" (no XnnpackLinearCache installed: jepa-rt kernels run)");
  } else if (t.backend == Backend::eigen) {
    o.put(" (Eigen GEMMs where a line below names *__eigen; other dtypes/layouts: jepa-rt kernels)");
  }
  o.put("\n");
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
      if (dt == format::DType::q8 && lay == 1) {  // 7-bit weights (jepa-convert --dtype q7)
        w.flags = format::kTensorQ7;
        describe_choice(t, w, line, sizeof line);
        o.put("  %s\n", line);
      }
    }
  return o.len;
}

}  // namespace kernels
}  // namespace jepa

#endif  // JEPA_KERNELS_DISPATCH_HPP
