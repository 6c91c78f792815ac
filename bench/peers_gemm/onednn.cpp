// bench/peers_gemm/onednn.cpp: oneDNN matmul as bench_gemm peers (the strongest
// x86 peer). f32 matmul, and u8s8 matmul with float output, per-channel weight
// scales and a source zero point of 128 (s8-quantised activations + 128): the
// function of jepa-rt's q8 path. Weights reordered once to the layout the
// primitive asks for; primitive created for the row's M. C API, because
// dnnl.hpp throws (we may build with -fno-exceptions). Debian's oneDNN threads
// with OpenMP: omp_set_num_threads before each run.
#include <dnnl.h>
#include <omp.h>

#include <cmath>
#include <cstring>

#include "../common/gemm_case.hpp"

namespace jepa_bench {
namespace {

struct Engine {
  dnnl_engine_t engine = nullptr;
  dnnl_stream_t stream = nullptr;
  Engine() {
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) engine = nullptr;
    if (engine != nullptr && dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success)
      stream = nullptr;
  }
};

Engine& engine() {
  static Engine e;  // lives until exit: oneDNN's own caches outlive main anyway
  return e;
}

class OneDnnMatmul final : public GemmRunner {
 public:
  OneDnnMatmul(const GemmCase& c, bool int8) : c_(c), int8_(int8) {}
  ~OneDnnMatmul() override {
    for (dnnl_memory_t m : weights_) dnnl_memory_destroy(m);
    if (src_) dnnl_memory_destroy(src_);
    if (bias_) dnnl_memory_destroy(bias_);
    if (dst_) dnnl_memory_destroy(dst_);
    if (prim_) dnnl_primitive_destroy(prim_);
    if (pd_) dnnl_primitive_desc_destroy(pd_);
    if (attr_) dnnl_primitive_attr_destroy(attr_);
  }

  bool build(std::string* why) {
    Engine& e = engine();
    if (e.engine == nullptr || e.stream == nullptr) return fail(why, "no oneDNN CPU engine");
    prepare_data();
    const dnnl_dims_t src_dims = {c_.m, c_.k}, w_dims = {c_.k, c_.n}, b_dims = {1, c_.n}, d_dims = {c_.m, c_.n};
    dnnl_memory_desc_t src_md, w_md, b_md, d_md, user_w_md;
    const dnnl_data_type_t src_t = int8_ ? dnnl_u8 : dnnl_f32, w_t = int8_ ? dnnl_s8 : dnnl_f32;
    dnnl_memory_desc_init_by_tag(&src_md, 2, src_dims, src_t, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&w_md, 2, w_dims, w_t, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&b_md, 2, b_dims, dnnl_f32, dnnl_ab);
    dnnl_memory_desc_init_by_tag(&d_md, 2, d_dims, dnnl_f32, dnnl_ab);
    // Our W is [N][K] row-major = the [K][N] matrix with strides (1, K): tag "ba".
    dnnl_memory_desc_init_by_tag(&user_w_md, 2, w_dims, w_t, dnnl_ba);

    dnnl_primitive_attr_create(&attr_);
    if (int8_) {
      dnnl_primitive_attr_set_output_scales(attr_, c_.n, 1 << 1, out_scales_.data());
      const int32_t zp = 128;
      dnnl_primitive_attr_set_zero_points(attr_, DNNL_ARG_SRC, 1, 0, &zp);
    }
    dnnl_matmul_desc_t md;
    if (dnnl_matmul_desc_init(&md, &src_md, &w_md, &b_md, &d_md) != dnnl_success)
      return fail(why, "dnnl_matmul_desc_init failed");
    if (dnnl_primitive_desc_create(&pd_, &md, attr_, e.engine, nullptr) != dnnl_success)
      return fail(why, "no oneDNN matmul implementation for this case");
    if (dnnl_primitive_create(&prim_, pd_) != dnnl_success) return fail(why, "dnnl_primitive_create failed");
    const dnnl_memory_desc_t* packed_md = dnnl_primitive_desc_query_md(pd_, dnnl_query_weights_md, 0);
    packed_bytes_ = (double)dnnl_memory_desc_get_size(packed_md);

    void* user_w = int8_ ? (void*)wq_.data() : (void*)c_.w;
    for (int i = 0; i < c_.copies; ++i) {
      dnnl_memory_t packed = nullptr;
      if (!reorder(&user_w_md, user_w, packed_md, &packed)) return fail(why, "weight reorder failed");
      weights_.push_back(packed);
    }
    dnnl_memory_create(&src_, &src_md, e.engine, int8_ ? (void*)xq_.data() : (void*)c_.x);
    dnnl_memory_create(&bias_, &b_md, e.engine, bias_f_.data());
    dnnl_memory_create(&dst_, &d_md, e.engine, y_.data());
    return true;
  }

  void run() override {
    omp_set_num_threads(c_.threads);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src_},
                               {DNNL_ARG_WEIGHTS, weights_[next_]},
                               {DNNL_ARG_BIAS, bias_},
                               {DNNL_ARG_DST, dst_}};
    next_ = (next_ + 1) % weights_.size();
    dnnl_primitive_execute(prim_, engine().stream, 4, args);
    dnnl_stream_wait(engine().stream);
  }
  float out(int m, int n) const override { return y_[(size_t)m * c_.n + n]; }
  double weight_bytes() const override { return packed_bytes_; }
  double weight_step(int n) const override { return int8_ ? w_step_[n] : 0.0; }
  double act_step(int) const override { return int8_ ? x_step_ : 0.0; }

 private:
  static bool fail(std::string* why, const char* msg) {
    *why = msg;
    return false;
  }

  void prepare_data() {
    y_.assign((size_t)c_.m * c_.n, 0.0f);
    bias_f_.assign(c_.bias, c_.bias + c_.n);
    if (!int8_) return;
    // Activations: one scale for all of x (dynamic per-tensor), s8 + 128 = u8.
    float amax = 0.0f;
    for (size_t i = 0; i < (size_t)c_.m * c_.k; ++i) amax = std::max(amax, std::fabs(c_.x[i]));
    const float sx = amax > 0.0f ? amax / 127.0f : 1.0f;
    xq_.resize((size_t)c_.m * c_.k);
    for (size_t i = 0; i < xq_.size(); ++i) xq_[i] = (uint8_t)(128 + (int)std::nearbyint(c_.x[i] / sx));
    // Without VNNI, oneDNN's u8 x s8 path (vpmaddubsw) saturates int16 pairs
    // for 8-bit weights: its documented remedy is 7-bit weights ([-63, 63]),
    // which is what a oneDNN user does on such a CPU ("Int8 computation
    // aspects" in the oneDNN docs; the start-up check fails with 127).
    const int qmax = __builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni") ? 127 : 63;
    wq_.resize((size_t)c_.n * c_.k);
    out_scales_.resize((size_t)c_.n);
    for (int j = 0; j < c_.n; ++j) {
      const float sw = quantize_row_s8(c_.w + (size_t)j * c_.k, c_.k, wq_.data() + (size_t)j * c_.k, qmax);
      out_scales_[j] = sx * sw;
      // oneDNN 2.x applies the output scale to (accumulator + bias): dst =
      // scale * (sum + bias). So the bias goes in divided by the scale
      // (found by the start-up check: the bias was lost otherwise).
      bias_f_[j] = c_.bias[j] / out_scales_[j];
      w_step_.push_back(sw);
    }
    x_step_ = sx;
  }

  bool reorder(const dnnl_memory_desc_t* from_md, void* from_data, const dnnl_memory_desc_t* to_md,
               dnnl_memory_t* to) {
    Engine& e = engine();
    dnnl_memory_t from = nullptr;
    if (dnnl_memory_create(&from, from_md, e.engine, from_data) != dnnl_success) return false;
    if (dnnl_memory_create(to, to_md, e.engine, DNNL_MEMORY_ALLOCATE) != dnnl_success) {
      dnnl_memory_destroy(from);
      return false;
    }
    dnnl_primitive_desc_t rpd = nullptr;
    dnnl_primitive_t r = nullptr;
    bool ok = dnnl_reorder_primitive_desc_create(&rpd, from_md, e.engine, to_md, e.engine, nullptr) ==
                  dnnl_success &&
              dnnl_primitive_create(&r, rpd) == dnnl_success;
    if (ok) {
      dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, *to}};
      ok = dnnl_primitive_execute(r, e.stream, 2, args) == dnnl_success &&
           dnnl_stream_wait(e.stream) == dnnl_success;
    }
    if (r) dnnl_primitive_destroy(r);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(from);
    return ok;
  }

  GemmCase c_;
  bool int8_;
  std::vector<float> y_, bias_f_, out_scales_, w_step_;
  float x_step_ = 0.0f;
  std::vector<uint8_t> xq_;
  std::vector<int8_t> wq_;
  dnnl_primitive_attr_t attr_ = nullptr;
  dnnl_primitive_desc_t pd_ = nullptr;
  dnnl_primitive_t prim_ = nullptr;
  dnnl_memory_t src_ = nullptr, bias_ = nullptr, dst_ = nullptr;
  std::vector<dnnl_memory_t> weights_;
  double packed_bytes_ = 0.0;
  size_t next_ = 0;
};

RunnerPtr make(const GemmCase& c, bool int8, std::string* why) {
  std::unique_ptr<OneDnnMatmul> r(new OneDnnMatmul(c, int8));
  if (!r->build(why)) return nullptr;
  return RunnerPtr(r.release());
}

}  // namespace

RunnerPtr make_onednn_f32(const GemmCase& c, std::string* why) { return make(c, false, why); }
RunnerPtr make_onednn_u8s8(const GemmCase& c, std::string* why) { return make(c, true, why); }

}  // namespace jepa_bench
