// jepa-convert: one component of an official checkpoint -> a .jepa file.
//
//   jepa-convert WEIGHTS.safetensors CONFIG.json --component NAME -o OUT.jepa
//                [--dtype f32|f16|bf16|q8|q7|q4] [--layout row_major|panel] [--prefix P] [--quiet]
//
// WEIGHTS/CONFIG are the pair tools/export_checkpoint.py writes (or a golden
// reference directory's). The mapping of config.json to hyper-parameters and
// the tensor checks live in tools/common/{official_config,convert}.hpp, shared
// with jepa-verify; this file is only the command line. The output is checked
// by loading it back (ModelFile::open + check_model_kind) before it is kept.
#include <cstdio>
#include <string>

#include "common/cli.hpp"
#include "common/convert.hpp"
#include "jepa/format/model_file.hpp"
#include "jepa/models/kinds.hpp"

namespace {

using jepa::Status;

const std::vector<jepa::cli::OptionSpec> kOptions = {
    {"component", true, "NAME", "config component to convert (encoder, predictor, ...; default: the only one)"},
    {"o", true, "OUT.jepa", "output file"},
    {"dtype", true, "TYPE", "weight-matrix dtype: f32 (default), f16, bf16, q8, q7 (q8 with 7-bit weights: the fast AVX2 int8 kernel), q4 (vectors stay f32)"},
    {"layout", true, "L", "weight-matrix layout: panel (default: the kernels' packing, used in place) or row_major (canonical)"},
    {"prefix", true, "P", "tensor-name prefix in the checkpoint (default: '<component>.' if present, else none)"},
    {"list", false, nullptr, "list the config's components and their model kinds, then exit"},
    {"quiet", false, nullptr, "print nothing on success"},
    {"verbose", false, nullptr, "print the quantization error of every weight matrix"},
    {"help", false, nullptr, "this help"},
};

void usage(FILE* out) {
  std::fprintf(out,
               "usage: jepa-convert WEIGHTS.safetensors CONFIG.json --component NAME -o OUT.jepa [options]\n"
               "Converts one component of an official JEPA checkpoint (safetensors + config.json with the\n"
               "official constructor arguments, as tools/export_checkpoint.py writes them) to a .jepa file.\n"
               "Options may come in any order.\n\n");
  jepa::cli::print_options(out, kOptions);
  std::fprintf(out,
               "\nErrors name the tensor: missing_tensor, shape_mismatch, unexpected_tensor (a checkpoint\n"
               "tensor the model does not use; V-JEPA 2's pos_embed with RoPE is skipped on purpose).\n"
               "See docs/CONVERT.md for the config.json -> hyper-parameter mapping.\n");
}

int fail(const Status& s) {
  std::fprintf(stderr, "jepa-convert: error: %s (%s)\n", s.message(), jepa::error_name(s.code()));
  return 1;
}

int list_components(const jepa::convert::OfficialConfig& cfg) {
  for (const jepa::convert::Component& c : cfg.components) {
    jepa::Result<jepa::convert::ComponentPlan> p = jepa::convert::plan_component(cfg, c.name);
    std::printf("%-16s %-24s %s\n", c.name.c_str(),
                p ? jepa::models::model_kind_name(p->kind) : "-", p ? c.ctor.c_str() : p.status().message());
  }
  return 0;
}

// --dtype / --layout / --prefix -> opt; 0 = ok, else the exit code.
int parse_encoding(const jepa::cli::Args& args, jepa::convert::ConvertOptions* opt) {
  const std::string dtype = args.get("dtype", "f32");
  if (!jepa::convert::parse_output_dtype(dtype, &opt->dtype, &opt->weight_flags)) {
    std::fprintf(stderr, "jepa-convert: --dtype '%s' is not one of f32, f16, bf16, q8, q7, q4\n", dtype.c_str());
    return 2;
  }
  const std::string layout = args.get("layout", "panel");
  if (layout == "panel") {
    opt->layout = jepa::format::Layout::panel;
  } else if (layout == "row_major") {
    opt->layout = jepa::format::Layout::row_major;
  } else {
    std::fprintf(stderr, "jepa-convert: --layout '%s' is not row_major or panel\n", layout.c_str());
    return 2;
  }
  if (args.has("prefix")) {
    opt->has_prefix = true;
    opt->prefix = args.get("prefix");
  }
  return 0;
}

// The bytes must pass the loader's checks and the model kind's structural check.
Status check_loads(const std::vector<uint8_t>& b) {
  void* aligned = std::aligned_alloc(64, (b.size() + 63) & ~size_t(63));
  if (!aligned) return Status::error(jepa::Error::out_of_memory, "cannot allocate %zu bytes", b.size());
  std::memcpy(aligned, b.data(), b.size());
  jepa::Result<jepa::ModelFile> mf = jepa::ModelFile::open(aligned, b.size());
  Status check = mf ? jepa::models::check_model_kind(mf.value()) : mf.status();
  std::free(aligned);
  if (!check.is_ok()) return Status::error(check.code(), "the converted file does not load: %s", check.message());
  return Status::ok();
}

void print_report(const std::string& out, size_t bytes, const jepa::convert::ConvertOptions& opt,
                  const jepa::convert::ConvertReport& rep, bool verbose) {
  std::printf("%s: %s, %zu tensors, %.3f M parameters, %zu bytes (component '%s', prefix '%s', %s %s)\n",
              out.c_str(), rep.kind.c_str(), rep.tensors, (double)rep.parameters / 1e6, bytes, opt.component.c_str(),
              rep.prefix.c_str(), jepa::convert::output_dtype_name(opt.dtype, opt.weight_flags),
              jepa::format::layout_name(opt.layout));
  for (const std::string& s : rep.ignored) std::printf("  skipped %s\n", s.c_str());
  for (const std::string& s : rep.converted) std::printf("  converted %s\n", s.c_str());
  if (rep.weights.empty()) return;
  double worst_l2 = 0.0, worst_cos = 1.0, worst_abs = 0.0;
  for (const jepa::convert::WeightError& e : rep.weights) {
    if (verbose)
      std::printf("  %-40s %-4s max_abs %.3g  rel_l2 %.3g  cosine %.6f\n", e.name.c_str(),
                  jepa::format::dtype_name(e.dtype), e.max_abs, e.rel_l2, e.cosine);
    worst_l2 = e.rel_l2 > worst_l2 ? e.rel_l2 : worst_l2;
    worst_cos = e.cosine < worst_cos ? e.cosine : worst_cos;
    worst_abs = e.max_abs > worst_abs ? e.max_abs : worst_abs;
  }
  std::printf("  %zu weight matrices as %s: worst rel_l2 %.3g, worst cosine %.6f, worst max_abs %.3g%s\n",
              rep.weights.size(), jepa::convert::output_dtype_name(opt.dtype, opt.weight_flags),
              worst_l2, worst_cos, worst_abs,
              verbose ? "" : " (--verbose: per tensor)");
}

}  // namespace

int main(int argc, char** argv) {
  jepa::Result<jepa::cli::Args> args = jepa::cli::Args::parse(argc, argv, 1, kOptions);
  if (!args) {
    std::fprintf(stderr, "jepa-convert: %s\n", args.status().message());
    return 2;
  }
  if (args->has("help")) {
    usage(stdout);
    return 0;
  }
  const std::vector<std::string>& pos = args->positional();
  if (pos.size() != 2) {
    std::fprintf(stderr, "jepa-convert: expected WEIGHTS.safetensors and CONFIG.json, got %zu argument(s) (see --help)\n",
                 pos.size());
    return 2;
  }
  jepa::Result<jepa::convert::OfficialConfig> cfg = jepa::convert::load_official_config(pos[1]);
  if (!cfg) return fail(cfg.status());
  if (args->has("list")) return list_components(cfg.value());

  jepa::convert::ConvertOptions opt;
  opt.component = args->get("component");
  if (opt.component.empty()) {
    if (cfg->components.size() != 1) {
      std::fprintf(stderr, "jepa-convert: --component is required (the config has: %s)\n",
                   cfg->component_names().c_str());
      return 2;
    }
    opt.component = cfg->components[0].name;
  }
  const std::string out = args->get("o");
  if (out.empty()) {
    std::fprintf(stderr, "jepa-convert: -o OUT.jepa is required\n");
    return 2;
  }
  if (int rc = parse_encoding(args.value(), &opt)) return rc;

  jepa::Result<jepa::safetensors::File> st = jepa::safetensors::File::open(pos[0]);
  if (!st) return fail(st.status());
  jepa::convert::ConvertReport rep;
  jepa::Result<std::vector<uint8_t>> bytes = jepa::convert::convert_component(st.value(), cfg.value(), opt, &rep);
  if (!bytes) return fail(bytes.status());
  Status s = check_loads(bytes.value());
  if (s.is_ok()) s = jepa::cli::write_bytes(out, bytes->data(), bytes->size());
  if (!s.is_ok()) return fail(s);
  if (!args->has("quiet")) print_report(out, bytes->size(), opt, rep, args->has("verbose"));
  return 0;
}
