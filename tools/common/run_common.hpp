// tools/common/run_common.hpp: what every jepa-run subcommand needs: the
// subcommand table type, loading and checking a .jepa model, an arena sized
// exactly by a model's *_arena_bytes, the --threads pool, and raw-array
// inputs/outputs with size checks. The planning helper's subcommands
// (tools/run_plan.hpp, rollout / plan) use the same pieces.
#ifndef JEPA_TOOLS_COMMON_RUN_COMMON_HPP
#define JEPA_TOOLS_COMMON_RUN_COMMON_HPP

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "jepa/format/loader.hpp"
#include "jepa/kernels/attention-tile.hpp"
#include "jepa/kernels/repack.hpp"
#include "jepa/models/kinds.hpp"
#include "jepa/runtime/arena.hpp"
#include "jepa/runtime/thread_pool.hpp"

namespace jepa {
namespace run {

// One row of jepa-run's subcommand table. run() gets argv with argv[0] =
// the subcommand name; it returns the process exit code (0 ok, 1 runtime
// error, 2 usage error).
struct Subcommand {
  const char* name;
  const char* summary;                  // one line for `jepa-run --help`
  int (*run)(int argc, char** argv);
  void (*help)(FILE* out);              // full help of the subcommand
};

inline int report(const char* cmd, const Status& s) {
  std::fprintf(stderr, "jepa-run %s: error: %s (%s)\n", cmd, s.message(), error_name(s.code()));
  return 1;
}

inline int usage_error(const char* cmd, const std::string& what) {
  std::fprintf(stderr, "jepa-run %s: %s (see jepa-run %s --help)\n", cmd, what.c_str(), cmd);
  return 2;
}

constexpr const char* kAttentionHelp =
    "attention arithmetic: auto (default: bf16 allowed where the weights are not f32), f32, or bf16 (q, k, p, v "
    "rounded to bf16 where the CPU has a faster tile for it, AMX; accuracy of int8 weights)";

// Options every subcommand takes.
inline void add_common_options(std::vector<cli::OptionSpec>* specs) {
  specs->push_back({"threads", true, "N", "worker threads including the caller (default 1)"});
  specs->push_back({"attention", true, "MATH", kAttentionHelp});
  specs->push_back({"quiet", false, nullptr, "print nothing on success"});
  specs->push_back({"help", false, nullptr, "this help"});
}

// A validated model file and its kind; weight layouts no kernel of this CPU
// reads are repacked once at load (kernels/repack.hpp).
struct Model {
  LoadedFile file;
  kernels::RepackedWeights repack;
  models::ModelKind kind = models::ModelKind::unknown;
  const ModelFile& mf() const { return file.file(); }
};

inline Result<Model> load_model(const std::string& path) {
  Result<LoadedFile> f = LoadedFile::open(path.c_str());
  if (!f) return f.status();
  Model m;
  m.file = std::move(f.value());
  m.kind = models::model_kind_from_string(m.mf().kind());
  Status s = models::check_model_kind(m.mf());
  if (s.is_ok()) s = m.repack.apply(&m.file.file(), kernels::default_table());
  if (!s.is_ok()) return Status::error(s.code(), "%s: %s", path.c_str(), s.message());
  return m;
}

// Exactly the activation memory a forward asked for, 64-byte aligned.
class ArenaBuffer {
 public:
  explicit ArenaBuffer(size_t bytes) : bytes_(bytes ? bytes : 64) {
    data_ = std::aligned_alloc(Arena::kAlign, (bytes_ + Arena::kAlign - 1) & ~(Arena::kAlign - 1));
  }
  ~ArenaBuffer() { std::free(data_); }
  ArenaBuffer(const ArenaBuffer&) = delete;
  ArenaBuffer& operator=(const ArenaBuffer&) = delete;
  bool ok() const { return data_ != nullptr; }
  Arena arena() { return Arena(data_, bytes_); }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_;
  void* data_ = nullptr;
};

// --threads N -> a pool and its ParallelFor (serial for N <= 1).
class Threads {
 public:
  explicit Threads(int n) {
#ifndef JEPA_NO_THREADS
    if (n > 1) {
      pool_.reset(new ThreadPool(n));
      par_ = pool_->parallel_for();
    }
#else
    (void)n;
#endif
  }
  const ParallelFor& par() const { return par_; }

 private:
#ifndef JEPA_NO_THREADS
  std::unique_ptr<ThreadPool> pool_;
#endif
  ParallelFor par_;
};

inline Result<int> parse_threads(const cli::Args& a) {
  if (!a.has("threads")) return 1;
  Result<int64_t> n = cli::parse_int(a.get("threads"), "--threads");
  if (!n) return n.status();
  if (n.value() < 1 || n.value() > 256)
    return Status::error(Error::invalid_argument, "--threads %lld is outside [1, 256]", (long long)n.value());
  return (int)n.value();
}

// --attention auto|f32|bf16 (kernels::AttnMath); auto (the models' default) when absent.
inline Result<kernels::AttnMath> parse_attention(const cli::Args& a) {
  const std::string m = a.get("attention", "auto");
  if (m == "auto") return kernels::AttnMath::automatic;
  if (m == "f32") return kernels::AttnMath::f32;
  if (m == "bf16") return kernels::AttnMath::bf16;
  return Status::error(Error::invalid_argument, "--attention '%s' is not auto, f32 or bf16", m.c_str());
}

// A raw little-endian array input. With a --X-shape option, the file must
// hold exactly that many elements; without one, `fallback_shape` (may hold a
// -1 dimension, resolved from the file size) is used.
template <class T>
struct Input {
  std::vector<T> data;
  std::vector<int64_t> shape;
};

template <class T>
Status read_input(const cli::Args& a, const char* file_opt, const char* shape_opt, std::vector<int64_t> fallback_shape,
                  Input<T>* out) {
  const std::string path = a.get(file_opt);
  if (path.empty()) return Status::error(Error::invalid_argument, "--%s FILE is required", file_opt);
  std::vector<int64_t> shape = fallback_shape;
  if (shape_opt && a.has(shape_opt)) {
    Result<std::vector<int64_t>> s = cli::parse_shape(a.get(shape_opt), shape_opt);
    if (!s) return s.status();
    shape = s.value();
  }
  int64_t known = 1, unknown_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) unknown_at = (int64_t)i;
    else known *= shape[i];
  }
  if (unknown_at >= 0) {
    const size_t bytes = cli::file_size_or_zero(path);
    if (known <= 0 || bytes % (sizeof(T) * (size_t)known) != 0 || bytes == 0)
      return Status::error(Error::shape_mismatch, "--%s '%s' is %zu bytes, not a multiple of %lld %zu-byte elements",
                           file_opt, path.c_str(), bytes, (long long)known, sizeof(T));
    shape[(size_t)unknown_at] = (int64_t)(bytes / sizeof(T)) / known;
  }
  out->shape = shape;
  return cli::read_array<T>(path, cli::numel(shape), cli::shape_str(shape), &out->data);
}

inline Status write_output(const std::string& path, const std::vector<float>& y, const std::vector<int64_t>& shape,
                           bool quiet, const char* cmd) {
  JEPA_RETURN_IF_ERROR(cli::write_bytes(path, y.data(), y.size() * 4));
  if (!quiet) std::printf("jepa-run %s: wrote %s: f32 [%s]\n", cmd, path.c_str(), cli::shape_str(shape).c_str());
  return Status::ok();
}

}  // namespace run
}  // namespace jepa

#endif  // JEPA_TOOLS_COMMON_RUN_COMMON_HPP
