// jepa-inspect FILE: print a .jepa file's header, hyper-parameters and tensor
// table, verifying every checksum. Exits 1 with the loader's message on a bad
// file, 2 on bad usage. Later options (--kernels, --memory) extend it.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "jepa/format/loader.hpp"
#include "jepa/kernels/dispatch.hpp"
#include "jepa/models/kinds.hpp"

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: jepa-inspect [--quiet] [--kernels] FILE\n"
               "  Prints the header, hyper-parameters and tensor table of a .jepa model,\n"
               "  verifies every checksum (header, tables, each tensor's data) and, for a\n"
               "  model kind jepa-rt runs, that every tensor the model needs is present.\n"
               "  --quiet   print nothing on success (exit status only)\n"
               "  --kernels also print the CPU features seen, the kernel dispatch picks for\n"
               "            each weight format, and the kernel every weight matrix runs (and why)\n"
               "Exit status: 0 valid, 1 invalid file (the reason is printed), 2 usage error.\n");
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
    std::printf("  %-48s %-5s %-20s %12" PRIu64 " %10" PRIu64 " %-10s\n", t.name,
                jepa::format::dtype_name(t.dtype), shape_string(t).c_str(), t.bytes, off,
                jepa::format::layout_name(t.layout));
    total += t.bytes;
  }
  std::printf("  total tensor bytes %" PRIu64 "\n", total);
}

// Which kernel each weight matrix (a ".weight" tensor of rank >= 2) runs.
void print_kernels(const jepa::ModelFile& f) {
  static char report[8192];
  const jepa::kernels::KernelTable& table = jepa::kernels::default_table();
  jepa::kernels::kernel_report(table, report, sizeof report);
  std::printf("\nkernels\n%s\n", report);
  std::printf("kernel per weight matrix\n");
  for (size_t i = 0; i < f.tensor_count(); ++i) {
    const jepa::TensorInfo t = f.tensor(i);
    const size_t len = std::strlen(t.name);
    if (t.rank < 2 || len < 7 || std::strcmp(t.name + len - 7, ".weight") != 0) continue;
    jepa::kernels::WeightMatrix w;
    w.dtype = t.dtype;
    w.layout = t.layout;
    w.n = (int32_t)t.shape[0];
    w.k = (int32_t)(t.numel() / t.shape[0]);
    w.data = t.data;
    for (int p = 0; p < 6; ++p) w.params[p] = t.layout_params[p];
    char line[512];
    jepa::kernels::describe_choice(table, w, line, sizeof line);
    std::printf("  %-48s [%d x %d] %s\n", t.name, w.n, w.k, line);
  }
}

}  // namespace

int main(int argc, char** argv) {
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
  jepa::LoadOptions opt;
  opt.verify_tensor_crc = true;
  auto lf = jepa::LoadedFile::open(path, opt);
  if (!lf.is_ok()) {
    std::fprintf(stderr, "jepa-inspect: invalid model: [%s] %s\n", jepa::error_name(lf.status().code()),
                 lf.status().message());
    return 1;
  }
  if (!quiet) print_file(path, lf.value());
  if (kernels && !quiet) print_kernels(lf->file());
  // A known kind must carry every tensor its model reads, with its shape.
  const jepa::Status kind = jepa::models::check_model_kind(lf->file());
  if (kind.code() == jepa::Error::unknown_model_kind) {
    if (!quiet) std::printf("\nmodel check  kind '%s' is not a model jepa-rt runs (file structure is valid)\n",
                            lf->file().kind());
    return 0;
  }
  if (!kind.is_ok()) {
    std::fprintf(stderr, "jepa-inspect: invalid model: [%s] %s: %s\n", jepa::error_name(kind.code()), path,
                 kind.message());
    return 1;
  }
  if (!quiet) std::printf("\nmodel check  every tensor %s needs is present with its shape\n", lf->file().kind());
  return 0;
}
