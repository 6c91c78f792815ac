// jepa-inspect FILE: print a .jepa file's header, hyper-parameters and tensor
// table, verifying every checksum. Exits 1 with the loader's message on a bad
// file, 2 on bad usage. --kernels adds the kernel dispatch; --memory prints
// the memory one forward needs for an input shape (tools/common/memory_plan.hpp:
// the model's own planning pass), and --run then runs that forward and
// measures peak RSS against weights + arena.
#include <sys/resource.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/cli.hpp"
#include "common/memory_plan.hpp"
#include "common/run_common.hpp"
#include "jepa/format/loader.hpp"
#include "jepa/kernels/attention-dispatch.hpp"
#include "jepa/kernels/dispatch.hpp"
#include "jepa/kernels/repack.hpp"
#include "jepa/models/kinds.hpp"

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: jepa-inspect [--quiet] [--kernels] FILE\n"
               "       jepa-inspect --memory FILE [--shape DIMS] [--batch N] [--per-frame] [--run [--threads N]]\n"
               "  Prints the header, hyper-parameters and tensor table of a .jepa model,\n"
               "  verifies every checksum (header, tables, each tensor's data) and, for a\n"
               "  model kind jepa-rt runs, that every tensor the model needs is present.\n"
               "  --quiet   print nothing on success (exit status only)\n"
               "  --kernels also print the CPU features seen, the kernel dispatch picks for\n"
               "            each weight format, and the kernel every weight matrix runs (and why)\n"
               "  --memory  instead of the tables, the memory one forward needs: weight bytes (mapped),\n"
               "            the arena (activation memory; the forward's own planning pass, exact),\n"
               "            the KV cache (AC predictor) and the caller's input/output arrays\n"
               "  --shape DIMS  the input the figures are for (default: the model's trained size):\n"
               "            vjepa2.encoder FRAMES,HEIGHT,WIDTH (or HEIGHT,WIDTH); ijepa.encoder HEIGHT,WIDTH;\n"
               "            vjepa2.predictor / ijepa.predictor CONTEXT_TOKENS,TARGET_TOKENS (default half\n"
               "            the grid each); vjepa2.ac_predictor STEPS (default num_frames / tubelet_size)\n"
               "  --batch N     batch size (default 1)\n"
               "  --per-frame   vjepa2.encoder: the V-JEPA 2-AC per-frame encoding (each frame alone)\n"
               "  --run     with --memory: run that forward on synthetic inputs, then print its time,\n"
               "            the arena high-water mark and peak RSS (getrusage) against weights + arena\n"
               "  --threads N   threads for --run (default 1)\n"
               "Exit status: 0 valid, 1 invalid file (the reason is printed) or, with --run, a forward\n"
               "that failed or used another arena size than planned, 2 usage error.\n");
}

std::string shape_string(const jepa::TensorInfo& t) {
  std::string s = "[";
  for (uint32_t d = 0; d < t.rank; ++d) {
    if (d) s += ",";
    s += std::to_string(t.shape[d]);
  }
  return s + "]";
}

void print_hparam(const jepa::ModelFile& f, const jepa::HParamInfo& h) {
  using jepa::format::HParamType;
  std::printf("  %-28s ", h.key);
  switch (h.type) {
    case HParamType::i64: std::printf("i64   %" PRId64 "\n", f.get_int(h.key).value()); break;
    case HParamType::f64: std::printf("f64   %.9g\n", f.get_float(h.key).value()); break;
    case HParamType::str: {
      auto s = f.get_string(h.key).value();
      std::printf("str   \"%.*s\"\n", (int)s.size, s.data);
      break;
    }
    case HParamType::i64_array: {
      auto a = f.get_ints(h.key).value();
      std::printf("i64[%zu] [", a.size);
      for (size_t i = 0; i < a.size; ++i) std::printf("%s%" PRId64, i ? ", " : "", a[i]);
      std::printf("]\n");
      break;
    }
    case HParamType::f64_array: {
      auto a = f.get_floats(h.key).value();
      std::printf("f64[%zu] [", a.size);
      for (size_t i = 0; i < a.size; ++i) std::printf("%s%.9g", i ? ", " : "", a[i]);
      std::printf("]\n");
      break;
    }
  }
}

void print_file(const char* path, const jepa::LoadedFile& lf) {
  const jepa::ModelFile& f = lf.file();
  const jepa::format::FileHeader& h = f.header();
  std::printf("file        %s (%zu bytes, %s)\n", path, f.size(), lf.mapping().is_mapped() ? "mapped" : "read");
  std::printf("format      .jepa %u.%u, alignment %u\n", h.version_major, h.version_minor, h.alignment);
  std::printf("model kind  %s\n", f.kind());
  std::printf("features    required 0x%" PRIx64 ", optional 0x%" PRIx64 "\n", h.required_features,
              h.optional_features);
  std::printf("checksums   header 0x%08x ok, tables 0x%08x ok, %s\n", h.header_crc32c, h.tables_crc32c,
              (h.optional_features & jepa::format::kOptTensorCrc) ? "tensor data ok" : "no tensor CRCs stored");
  std::printf("\nhyper-parameters (%zu)\n", f.hparam_count());
  for (size_t i = 0; i < f.hparam_count(); ++i) print_hparam(f, f.hparam(i));
  std::printf("\ntensors (%zu)\n", f.tensor_count());
  std::printf("  %-48s %-5s %-20s %12s %10s %-10s\n", "name", "dtype", "shape", "bytes", "offset", "layout");
  uint64_t total = 0;
  for (size_t i = 0; i < f.tensor_count(); ++i) {
    const jepa::TensorInfo t = f.tensor(i);
    const uint64_t off = (uint64_t)(static_cast<const uint8_t*>(t.data) - f.bytes());
    std::printf("  %-48s %-5s %-20s %12" PRIu64 " %10" PRIu64 " %-10s%s\n", t.name,
                jepa::format::dtype_name(t.dtype), shape_string(t).c_str(), t.bytes, off,
                jepa::format::layout_name(t.layout), (t.flags & jepa::format::kTensorQ7) ? " q7 (|q| <= 63)" : "");
    total += t.bytes;
  }
  std::printf("  total tensor bytes %" PRIu64 "\n", total);
}

// Which kernel each weight matrix (a ".weight" tensor of rank >= 2) runs,
// after the load-time repack where the file's layout has no kernel here.
void print_kernels(const jepa::ModelFile& f) {
  static char report[8192];
  const jepa::kernels::KernelTable& table = jepa::kernels::default_table();
  jepa::kernels::kernel_report(table, report, sizeof report);
  std::printf("\nkernels\n%s\n", report);
  std::printf("kernel per weight matrix\n");
  const char* attention_weights = nullptr;  // dtype of the first qkv matrix: what --attention auto follows
  for (size_t i = 0; i < f.tensor_count(); ++i) {
    const jepa::TensorInfo t = f.tensor(i);
    const size_t len = std::strlen(t.name);
    if (t.rank < 2 || len < 7 || std::strcmp(t.name + len - 7, ".weight") != 0) continue;
    const jepa::kernels::WeightMatrix w = jepa::kernels::weight_view(
        t.dtype, t.layout, t.layout_params, (int32_t)t.shape[0], (int32_t)(t.numel() / t.shape[0]), t.data, t.flags);
    if (!attention_weights && std::strstr(t.name, "qkv.weight"))
      attention_weights = jepa::format::dtype_name(t.dtype);
    char line[512];
    jepa::kernels::WeightMatrix candidate;
    const jepa::kernels::RepackChoice rc = jepa::kernels::repack_candidate(t, &candidate)
                                               ? jepa::kernels::repack_choice(table, candidate)
                                               : jepa::kernels::RepackChoice();
    if (rc.kernel) {
      const jepa::kernels::WeightMatrix runs =
          jepa::kernels::weight_view(w.dtype, rc.layout, rc.params, w.n, w.k, w.data);
      jepa::kernels::describe_choice(table, runs, line, sizeof line);
      std::printf("  %-48s [%d x %d] %s/%s in the file, repacked at load (+%" PRIu64 " bytes): %s\n", t.name,
                  w.n, w.k, jepa::format::dtype_name(w.dtype), jepa::format::layout_name(w.layout), rc.bytes,
                  line);
      continue;
    }
    jepa::kernels::describe_choice(table, w, line, sizeof line);
    std::printf("  %-48s [%d x %d] %s\n", t.name, w.n, w.k, line);
  }
  const jepa::kernels::AttnKernelInfo& f32_tile = jepa::kernels::choose_attention_kernel();
  const jepa::kernels::AttnKernelInfo& bf16_tile =
      jepa::kernels::choose_attention_kernel(jepa::kernels::AttnMath::bf16, jepa::kernels::kAttnBf16MaxHeadDim, true);
  std::printf("attention tile: %s; with --attention bf16: %s", f32_tile.name, bf16_tile.name);
  if (&bf16_tile != &f32_tile)
    std::printf(" (head_dim <= %d and f32 K/V; else %s)", (int)jepa::kernels::kAttnBf16MaxHeadDim, f32_tile.name);
  else
    std::printf(" (no bf16 tile for this CPU and cap)");
  std::printf("\n");
  if (attention_weights) {
    const bool f32_weights = std::strcmp(attention_weights, "f32") == 0;
    std::printf("attention by default (--attention auto): %s, the qkv weights being %s\n",
                f32_weights ? "f32" : "bf16 allowed", attention_weights);
  }
  const jepa::kernels::RepackPlan plan = jepa::kernels::plan_repack(f, table);
  if (plan.tensors > 0)
    std::printf("load-time repack: %zu matrices, %" PRIu64 " bytes of RAM beside the mapped file\n", plan.tensors,
                plan.bytes);
}

long long peak_rss_bytes() {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
  return (long long)ru.ru_maxrss * 1024;  // Linux: kilobytes
}

struct MemoryOptions {
  bool enabled = false, run = false;
  jepa::memplan::Request request;
  int threads = 1;
};

// --memory [--run]: the plan, and optionally the measured forward.
int print_memory(const char* path, jepa::LoadedFile& lf, const MemoryOptions& mo, long long rss_at_start) {
  namespace memplan = jepa::memplan;
  jepa::kernels::RepackedWeights repack;  // as the loaders of jepa-run and jepa-verify do
  const jepa::Status rs = repack.apply(&lf.file(), jepa::kernels::default_table());
  if (!rs.is_ok()) {
    std::fprintf(stderr, "jepa-inspect: --memory: [%s] %s\n", jepa::error_name(rs.code()), rs.message());
    return 1;
  }
  const long long repacked = (long long)repack.plan().bytes;
  const jepa::Result<memplan::Plan> p = memplan::plan(lf.file(), mo.request);
  if (!p) {
    std::fprintf(stderr, "jepa-inspect: --memory: [%s] %s\n", jepa::error_name(p.status().code()),
                 p.status().message());
    return p.status().code() == jepa::Error::invalid_argument ? 2 : 1;
  }
  std::printf("file        %s (%s)\n", path, lf.mapping().is_mapped() ? "mapped" : "read into memory");
  std::printf("%s", memplan::format_plan(p.value()).c_str());
  if (repack.plan().tensors > 0)
    std::printf("repack      %zu weight matrices repacked at load (their layout has no kernel here): %lld bytes (%s)\n",
                repack.plan().tensors, repacked, memplan::human_bytes((uint64_t)repacked).c_str());
  if (!mo.run) return 0;
  jepa::run::Threads pool(mo.threads);
  jepa::run::ArenaBuffer buf(p->arena_bytes);
  if (!buf.ok()) {
    std::fprintf(stderr, "jepa-inspect: cannot allocate the %zu-byte arena\n", p->arena_bytes);
    return 1;
  }
  jepa::Arena arena = buf.arena();
  const auto t0 = std::chrono::steady_clock::now();
  const jepa::Status s = memplan::run_planned_forward(lf.file(), p.value(), pool.par(), arena);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!s.is_ok()) {
    std::fprintf(stderr, "jepa-inspect: --run: [%s] %s\n", jepa::error_name(s.code()), s.message());
    return 1;
  }
  const long long rss = peak_rss_bytes();
  const long long io = (long long)(p->input_bytes + p->output_bytes);
  const long long weights = (long long)p->file_bytes + repacked;  // the CRC pass touched every page of the file
  std::printf("run         one forward, %d thread(s): %.1f ms; arena high-water %zu bytes (%s the plan)\n",
              mo.threads, ms, arena.peak(), arena.peak() == p->arena_bytes ? "equals" : "DIFFERS FROM");
  std::printf("rss         peak %lld bytes (%s) = weights %lld + arena %zu + inputs/outputs %lld + other %lld (%s)\n",
              rss, memplan::human_bytes((uint64_t)rss).c_str(), weights, p->arena_bytes, io,
              rss - weights - (long long)p->arena_bytes - io,
              memplan::human_bytes((uint64_t)std::llabs(rss - weights - (long long)p->arena_bytes - io)).c_str());
  std::printf("            (peak RSS before loading the model: %lld bytes, %s)\n", rss_at_start,
              memplan::human_bytes((uint64_t)rss_at_start).c_str());
  return arena.peak() == p->arena_bytes ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const long long rss_at_start = peak_rss_bytes();
  MemoryOptions mo;
  auto value = [&](int& i, const char* opt) -> const char* {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "jepa-inspect: %s needs a value\n", opt);
      return nullptr;
    }
    return argv[++i];
  };
  const char* path = nullptr;
  bool quiet = false, kernels = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if (!std::strcmp(argv[i], "--quiet")) {
      quiet = true;
    } else if (!std::strcmp(argv[i], "--kernels")) {
      kernels = true;
    } else if (!std::strcmp(argv[i], "--memory")) {
      mo.enabled = true;
    } else if (!std::strcmp(argv[i], "--run")) {
      mo.run = true;
    } else if (!std::strcmp(argv[i], "--per-frame")) {
      mo.request.per_frame = true;
    } else if (!std::strcmp(argv[i], "--shape") || !std::strcmp(argv[i], "--batch") ||
               !std::strcmp(argv[i], "--threads")) {
      const std::string opt = argv[i];
      const char* v = value(i, opt.c_str());
      if (!v) return 2;
      if (opt == "--shape") {
        jepa::Result<std::vector<int64_t>> shape = jepa::cli::parse_shape(v, "--shape");
        if (!shape) {
          std::fprintf(stderr, "jepa-inspect: %s\n", shape.status().message());
          return 2;
        }
        mo.request.shape = shape.value();
      } else {
        jepa::Result<int64_t> n = jepa::cli::parse_int(v, opt.c_str());
        if (!n || n.value() < 1 || n.value() > (opt == "--threads" ? 256 : (1 << 20))) {
          std::fprintf(stderr, "jepa-inspect: %s wants a positive integer, got '%s'\n", opt.c_str(), v);
          return 2;
        }
        if (opt == "--batch") mo.request.batch = n.value();
        else mo.threads = (int)n.value();
      }
    } else if (argv[i][0] == '-') {
      std::fprintf(stderr, "jepa-inspect: unknown option '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    } else if (!path) {
      path = argv[i];
    } else {
      std::fprintf(stderr, "jepa-inspect: more than one FILE given\n");
      return 2;
    }
  }
  if (!path) {
    usage(stderr);
    return 2;
  }
  if (!mo.enabled && (mo.run || mo.request.per_frame || !mo.request.shape.empty() || mo.request.batch != 1)) {
    std::fprintf(stderr, "jepa-inspect: --shape, --batch, --per-frame and --run go with --memory\n");
    return 2;
  }
  jepa::LoadOptions opt;
  opt.verify_tensor_crc = true;
  auto lf = jepa::LoadedFile::open(path, opt);
  if (!lf.is_ok()) {
    std::fprintf(stderr, "jepa-inspect: invalid model: [%s] %s\n", jepa::error_name(lf.status().code()),
                 lf.status().message());
    return 1;
  }
  if (!quiet && !mo.enabled) print_file(path, lf.value());
  if (kernels && !quiet) print_kernels(lf->file());
  // A known kind must carry every tensor its model reads, with its shape.
  const jepa::Status kind = jepa::models::check_model_kind(lf->file());
  if (kind.code() == jepa::Error::unknown_model_kind) {
    if (!quiet) std::printf("\nmodel check  kind '%s' is not a model jepa-rt runs (file structure is valid)\n",
                            lf->file().kind());
    if (mo.enabled) std::printf("memory      no forward to plan; the file is %zu bytes (mapped)\n", lf->file().size());
    return 0;
  }
  if (!kind.is_ok()) {
    std::fprintf(stderr, "jepa-inspect: invalid model: [%s] %s: %s\n", jepa::error_name(kind.code()), path,
                 kind.message());
    return 1;
  }
  if (mo.enabled) return print_memory(path, lf.value(), mo, rss_at_start);
  if (!quiet) std::printf("\nmodel check  every tensor %s needs is present with its shape\n", lf->file().kind());
  return 0;
}
