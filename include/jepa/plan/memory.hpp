// jepa/plan/memory.hpp: a persistent world-model memory for V-JEPA 2-AC: the
// committed history (KV cache + the latents, actions and poses of a bounded
// window of past steps) plus the current frame, saved to / restored from a
// checksummed file written atomically.
//
// Window policy: a SLIDING window with RE-PREFILL. At most `window` steps are
// committed; committing one more first drops the oldest steps so that `keep`
// remain, and rebuilds their K/V from the stored latents with frame positions
// renumbered from 0. Why: the AC predictor was trained on 8-frame clips with
// absolute RoPE frame positions, and K/V of retained steps were computed while
// attending to the dropped ones. Keeping stale K/V (or absolute positions that
// grow past training) would equal no official computation at all. With
// re-prefill the following equivalence holds exactly (tested): the prediction
// of every commit equals the official predictor re-run (world_model_wrapper.py
// step_predictor) on [the retained steps + the current frame], i.e. on the
// last n frames with n in [keep+1, window+1], positions starting at 0. Cost: a
// slide re-runs `keep` steps once; keep = window - 1 slides every commit (always
// the last `window` steps), smaller keep amortises it.
//
// Memory files (little-endian): MemoryFileHeader, then the payload: latents
// [n][HW][D_enc] f32, actions [n][7] f32, poses [n][7] f64, current frame
// [HW][D_enc] f32 + pose [7] f64 (if any), then, unless kv_none, K and V of the
// n steps per layer ([depth][n*tokens_per_step][P], K before V per layer) in
// f32, f16, q8 (per-row symmetric int8 with one f32 scale per row) or
// q8_heads (one scale per row and head: the q8 cache's own rows). The header
// and the payload each carry a CRC32C. kv_none files are small (latents only)
// and restore by re-prefill; a file in the cache's own storage (f32 for an
// f32 cache, f16 for f16, q8_heads for q8: kv_storage_of) restores bit for
// bit; other storages shrink or convert at a stated error (see KvStorage).
// Saving goes through io/atomic_file.hpp, so a crash leaves the old file or
// the new one.
#ifndef JEPA_PLAN_MEMORY_HPP
#define JEPA_PLAN_MEMORY_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../config.hpp"
#include "../format/crc32c.hpp"
#include "../io/atomic_file.hpp"
#include "../io/mapped_file.hpp"
#include "../kernels/ref/math.hpp"
#include "rollout.hpp"

namespace jepa {
namespace plan {

struct AcMemoryOptions {
  int64_t window = 8;             // max committed steps (the AC predictor trained on 8-frame clips)
  int64_t keep = 7;               // committed steps left after a slide, in [0, window)
  int64_t max_prefill_steps = 8;  // steps per forward call when re-prefilling / restoring
  ops::KvDtype kv_dtype = ops::KvDtype::f32;  // how the committed history's K/V are held (the planners' prefix)
};

struct AcMemory {
  AcMemoryOptions opt;
  AcRollout r;                    // batch 1; r.frame / r.pose = the current frame
  float* latents = nullptr;       // [window][HW][D_enc] frames of the committed steps, oldest first
  float* actions = nullptr;       // [window][7]
  double* poses = nullptr;        // [window][7]
  int64_t total_committed = 0;    // steps ever committed (dropped ones included)
  bool has_frame = false;         // a current frame was observed (or predicted)

  int64_t committed() const { return r.step(); }   // steps in the window
  const models::AcKvCache& cache() const { return r.cache; }  // prefix for planner candidates
  const float* frame() const { return r.frame; }   // [HW][D_enc]
  const double* pose() const { return r.pose; }    // [7]
};

inline AcRolloutOptions memory_rollout_options(const AcMemoryOptions& o) {
  AcRolloutOptions r;
  r.batch = 1;
  r.max_steps = o.window;
  r.max_prefill_steps = o.max_prefill_steps;
  r.kv_dtype = o.kv_dtype;
  return r;
}

inline size_t ac_memory_arena_bytes(const models::AcPredictorConfig& c, const AcMemoryOptions& o) {
  const size_t frame = (size_t)(c.patches_per_step() * c.embed_dim);
  Arena m;
  m.alloc<float>((size_t)o.window * frame);
  m.alloc<float>((size_t)o.window * kActionDim);
  m.alloc<double>((size_t)o.window * kPoseDim);
  return m.peak() + ac_rollout_arena_bytes(c, memory_rollout_options(o)) + Arena::kAlign;
}

inline Status ac_memory_create(const AcModel& model, const AcMemoryOptions& o, Arena& arena, AcMemory* mem) {
  if (o.window < 1 || o.keep < 0 || o.keep >= o.window || o.max_prefill_steps < 1)
    return Status::error(Error::invalid_argument, "AcMemory: window %lld, keep %lld must satisfy 0 <= keep < window",
                         (long long)o.window, (long long)o.keep);
  JEPA_RETURN_IF_ERROR(model.check());
  AcMemory m;
  m.opt = o;
  const size_t frame = (size_t)(model.hw() * model.dim());
  m.latents = arena.alloc<float>((size_t)o.window * frame);
  m.actions = arena.alloc<float>((size_t)o.window * kActionDim);
  m.poses = arena.alloc<double>((size_t)o.window * kPoseDim);
  JEPA_RETURN_IF_ERROR(arena.status());
  JEPA_RETURN_IF_ERROR(ac_rollout_create(model, memory_rollout_options(o), arena, &m.r));
  *mem = m;
  return Status::ok();
}

// Forget everything.
inline void ac_memory_reset(AcMemory& m) {
  m.r.cache.rewind();
  m.r.started = false;
  m.has_frame = false;
  m.total_committed = 0;
}

// The newest observed frame (latents [HW][D_enc], layer-normed) and pose: it
// replaces the current frame (e.g. the prediction of the last commit).
inline Status ac_memory_observe(AcMemory& m, const float* latents, const double* pose) {
  if (latents == nullptr || pose == nullptr)
    return Status::error(Error::invalid_argument, "ac_memory_observe: latents and pose are required");
  const size_t frame = (size_t)(m.r.model.hw() * m.r.model.dim());
  std::memcpy(m.r.frame, latents, frame * sizeof(float));
  std::memcpy(m.r.pose, pose, kPoseDim * sizeof(double));
  m.r.started = true;
  m.has_frame = true;
  return Status::ok();
}

// Rebuilds the K/V of the n stored steps from an empty cache (positions 0..n-1).
inline Status ac_memory_reprefill(AcMemory& m, const ParallelFor& par, Arena& scratch, int64_t n) {
  m.r.cache.rewind();
  if (n == 0) return Status::ok();
  return ac_rollout_commit(m.r, par, scratch, n, m.latents, m.poses, m.actions);
}

// Drops the oldest steps so that opt.keep remain, and re-prefills them.
inline Status ac_memory_slide(AcMemory& m, const ParallelFor& par, Arena& scratch) {
  const int64_t n = m.committed(), keep = m.opt.keep, drop = n - keep;
  if (drop <= 0) return Status::ok();
  const size_t frame = (size_t)(m.r.model.hw() * m.r.model.dim());
  std::memmove(m.latents, m.latents + drop * frame, (size_t)keep * frame * sizeof(float));
  std::memmove(m.actions, m.actions + drop * kActionDim, (size_t)(keep * kActionDim) * sizeof(float));
  std::memmove(m.poses, m.poses + drop * kPoseDim, (size_t)(keep * kPoseDim) * sizeof(double));
  return ac_memory_reprefill(m, par, scratch, keep);
}

// Commits the current frame with the action taken from it: its K/V join the
// cache (sliding the window first if full). The step's output is the
// prediction of the next frame; it becomes the current frame until the next
// observe (predicted [HW][D_enc] and predicted_pose [7] optional copies).
inline Status ac_memory_commit(AcMemory& m, const ParallelFor& par, Arena& scratch, const float* action,
                               float* predicted = nullptr, double* predicted_pose = nullptr) {
  if (!m.has_frame) return Status::error(Error::invalid_argument, "ac_memory_commit before any observe");
  if (action == nullptr) return Status::error(Error::invalid_argument, "ac_memory_commit: action is required");
  if (m.committed() >= m.opt.window) JEPA_RETURN_IF_ERROR(ac_memory_slide(m, par, scratch));
  const int64_t i = m.committed();
  const size_t frame = (size_t)(m.r.model.hw() * m.r.model.dim());
  std::memcpy(m.latents + i * frame, m.r.frame, frame * sizeof(float));
  std::memcpy(m.actions + i * kActionDim, action, kActionDim * sizeof(float));
  std::memcpy(m.poses + i * kPoseDim, m.r.pose, kPoseDim * sizeof(double));
  JEPA_RETURN_IF_ERROR(ac_rollout_step(m.r, par, scratch, action, predicted, predicted_pose));
  ++m.total_committed;
  return Status::ok();
}

// ---------------------------------------------------------------------------
// Persistence

// How K/V are stored in a memory file. Errors measured on the tests' random
// models (tests/plan/test_memory.cpp prints them): f16 rounds every element
// to 11 significant bits (relative 2^-11 = 4.9e-4), q8 to 1/254 of its row's
// largest magnitude; either moves the next prediction by well under 1% of the
// latent scale, far below the int8-weight error of the model itself.
// A file whose storage is the memory cache's own dtype (f32 / f32, f16 / f16,
// q8_heads / q8) restores bit for bit; other pairs convert through f32.
enum class KvStorage : uint32_t {
  f32 = 0,       // bit-exact restore into an f32 cache
  f16 = 1,
  q8 = 2,        // per-row (one token of one layer) symmetric int8 + f32 scale
  none = 3,      // no K/V: restore re-runs the stored latents (exact to float rounding)
  q8_heads = 4,  // the q8 cache's own rows: int8 values, then one f32 scale per head
};

inline bool kv_storage_known(uint32_t s) { return s <= (uint32_t)KvStorage::q8_heads; }

// The file storage that holds a cache of dtype d exactly.
inline KvStorage kv_storage_of(ops::KvDtype d) {
  return d == ops::KvDtype::f16 ? KvStorage::f16 : d == ops::KvDtype::q8 ? KvStorage::q8_heads : KvStorage::f32;
}

constexpr char kMemoryMagic[8] = {'J', 'E', 'P', 'A', 'M', 'E', 'M', '1'};
constexpr uint32_t kMemoryVersion = 1;

struct MemoryFileHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;      // sizeof(MemoryFileHeader)
  uint32_t kv_storage;        // KvStorage
  uint32_t has_frame;         // 1: the current frame + pose follow the history
  // The model the memory belongs to: restoring into another shape is refused.
  int64_t embed_dim, pred_embed_dim, depth, tokens_per_step, patches_per_step;
  uint64_t model_id;          // caller's model identity (e.g. a CRC of the .jepa header); 0: unchecked
  int64_t window, keep;       // options at save time (informational; the window must fit on restore)
  int64_t committed;          // steps stored
  int64_t total_committed;
  uint64_t reserved;          // 0
  uint64_t payload_bytes;
  uint32_t payload_crc32c;
  uint32_t header_crc32c;     // CRC32C of every byte above
};
static_assert(sizeof(MemoryFileHeader) == 128, "memory file header layout is fixed");

namespace detail {

inline size_t kv_row_bytes(KvStorage s, const models::AcPredictorConfig& c) {
  const size_t width = (size_t)c.pred_embed_dim;
  switch (s) {
    case KvStorage::f32: return width * 4;
    case KvStorage::f16: return width * 2;
    case KvStorage::q8: return width + 4;  // int8 values, then the f32 scale
    case KvStorage::none: return 0;
    case KvStorage::q8_heads: return width + 4 * (size_t)c.num_heads;
  }
  return 0;
}

inline size_t memory_payload_bytes(const models::AcPredictorConfig& c, int64_t n, bool has_frame, KvStorage kv) {
  const size_t frame = (size_t)(c.patches_per_step() * c.embed_dim);
  size_t b = (size_t)n * (frame * 4 + kActionDim * 4 + kPoseDim * 8);
  if (has_frame) b += frame * 4 + kPoseDim * 8;
  b += 2 * (size_t)(c.depth * n * c.tokens_per_step()) * kv_row_bytes(kv, c);
  return b;
}

// Whether the file rows of storage s are byte for byte the cache's rows
// (f32 / f16: one contiguous block per layer; q8_heads: values + scales).
inline bool kv_storage_is_cache_layout(KvStorage s, ops::KvDtype d) {
  return (s == KvStorage::f32 && d == ops::KvDtype::f32) || (s == KvStorage::f16 && d == ops::KvDtype::f16);
}

// One file row of storage s from cache row r of layer l (sequence 0); tmp: width floats.
inline void encode_kv_row(KvStorage s, const models::AcKvCache& cache, int l, bool values, int64_t r, float* tmp,
                          uint8_t* o) {
  const int64_t width = cache.width, heads = cache.heads;
  if (s == KvStorage::q8_heads && cache.dtype == ops::KvDtype::q8) {  // exact copy
    std::memcpy(o, cache.row_data(l, values, 0, r), (size_t)width);
    std::memcpy(o + width, cache.row_scales(l, values, 0, r), (size_t)heads * 4);
    return;
  }
  cache.load(l, values, 0, r, tmp);
  if (s == KvStorage::f32) {
    std::memcpy(o, tmp, (size_t)width * 4);
  } else if (s == KvStorage::f16) {
    for (int64_t i = 0; i < width; ++i) {
      const uint16_t h = kernels::ref::f32_to_f16(tmp[i]);
      std::memcpy(o + 2 * i, &h, 2);
    }
  } else if (s == KvStorage::q8_heads) {
    const int64_t hd = width / heads;
    for (int64_t h = 0; h < heads; ++h) {  // a head at a time: the scales in the file may be unaligned
      float scale;
      ops::kv_encode_row(ops::KvDtype::q8, tmp + h * hd, 1, hd, o + h * hd, &scale);
      std::memcpy(o + width + 4 * h, &scale, 4);
    }
  } else {  // q8: one scale for the whole row
    float amax = 0;
    for (int64_t i = 0; i < width; ++i) amax = std::fmax(amax, std::fabs(tmp[i]));
    const float scale = amax > 0 ? amax / 127.0f : 1.0f;
    for (int64_t i = 0; i < width; ++i) {
      float q = std::nearbyint(tmp[i] / scale);
      q = q > 127 ? 127 : (q < -127 ? -127 : q);
      o[i] = (uint8_t)(int8_t)q;
    }
    std::memcpy(o + width, &scale, 4);
  }
}

// The reverse: cache row r of layer l (sequence 0) from a file row; tmp: width floats.
inline void decode_kv_row(KvStorage s, const uint8_t* in, const models::AcKvCache& cache, int l, bool values,
                          int64_t r, float* tmp) {
  const int64_t width = cache.width, heads = cache.heads;
  if (s == KvStorage::q8_heads && cache.dtype == ops::KvDtype::q8) {  // exact copy
    std::memcpy(cache.row_data(l, values, 0, r), in, (size_t)width);
    std::memcpy(cache.row_scales(l, values, 0, r), in + width, (size_t)heads * 4);
    return;
  }
  if (s == KvStorage::f32) {
    std::memcpy(tmp, in, (size_t)width * 4);
  } else if (s == KvStorage::f16) {
    for (int64_t i = 0; i < width; ++i) {
      uint16_t h;
      std::memcpy(&h, in + 2 * i, 2);
      tmp[i] = kernels::ref::f16_to_f32(h);
    }
  } else if (s == KvStorage::q8_heads) {
    const int64_t hd = width / heads;
    for (int64_t h = 0; h < heads; ++h) {
      float scale;
      std::memcpy(&scale, in + width + 4 * h, 4);
      for (int64_t i = 0; i < hd; ++i) tmp[h * hd + i] = (float)(int8_t)in[h * hd + i] * scale;
    }
  } else {
    float scale;
    std::memcpy(&scale, in + width, 4);
    for (int64_t i = 0; i < width; ++i) tmp[i] = (float)(int8_t)in[i] * scale;
  }
  cache.store(l, values, 0, r, tmp);
}

}  // namespace detail

// Scratch ac_memory_save needs (encoded K/V unless the file holds the cache's
// own contiguous rows; nothing otherwise).
inline size_t ac_memory_save_scratch_bytes(const models::AcPredictorConfig& c, const AcMemoryOptions& o,
                                           KvStorage kv) {
  if (kv == KvStorage::none || detail::kv_storage_is_cache_layout(kv, o.kv_dtype)) return 0;
  // One block per layer for K and one for V, each padded to the arena alignment, and a row of floats.
  return 2 * (size_t)(c.depth * o.window * c.tokens_per_step()) * detail::kv_row_bytes(kv, c) +
         (size_t)c.pred_embed_dim * 4 + (size_t)(2 * c.depth + 2) * Arena::kAlign;
}

struct MemorySaveOptions {
  KvStorage kv = KvStorage::f32;
  uint64_t model_id = 0;                // stored; restore refuses a different non-zero id
#ifndef JEPA_NO_FILESYSTEM
  const io::WriteHook* hook = nullptr;  // tests: inject failures / crashes into the file write
#endif
};

// The file's content as a list of pieces (header first), pointing into the
// memory itself or, for f16/q8 K/V, into `scratch`. Valid while both live.
struct MemoryImage {
  static constexpr int kMaxParts = 8 + 2 * models::kMaxDepth;
  MemoryFileHeader header;
  const void* data[kMaxParts];
  size_t size[kMaxParts];
  int parts = 0;
  size_t total() const {
    size_t t = 0;
    for (int i = 0; i < parts; ++i) t += size[i];
    return t;
  }
};

// Builds the image (header CRCs included). `image` must stay in place: part 0
// points at image->header.
inline Status ac_memory_image(const AcMemory& m, Arena& scratch, const MemorySaveOptions& so, MemoryImage* image) {
  const models::AcPredictorConfig& c = *m.r.model.config;
  const int64_t n = m.committed(), frame = c.patches_per_step() * c.embed_dim;
  const int64_t rows = n * c.tokens_per_step(), P = c.pred_embed_dim;
  if (!kv_storage_known((uint32_t)so.kv))
    return Status::error(Error::invalid_argument, "ac_memory_image: unknown KvStorage %u", (unsigned)so.kv);
  MemoryImage& im = *image;
  MemoryFileHeader& h = im.header;
  std::memset(&h, 0, sizeof(h));
  std::memcpy(h.magic, kMemoryMagic, 8);
  h.version = kMemoryVersion;
  h.header_bytes = sizeof(h);
  h.kv_storage = (uint32_t)so.kv;
  h.has_frame = m.has_frame ? 1 : 0;
  h.embed_dim = c.embed_dim;
  h.pred_embed_dim = P;
  h.depth = c.depth;
  h.tokens_per_step = c.tokens_per_step();
  h.patches_per_step = c.patches_per_step();
  h.model_id = so.model_id;
  h.window = m.opt.window;
  h.keep = m.opt.keep;
  h.committed = n;
  h.total_committed = m.total_committed;
  h.payload_bytes = detail::memory_payload_bytes(c, n, m.has_frame, so.kv);
  im.parts = 0;
  auto add = [&im](const void* d, size_t bytes) {
    im.data[im.parts] = d;
    im.size[im.parts] = bytes;
    ++im.parts;
  };
  add(&h, sizeof(h));
  add(m.latents, (size_t)(n * frame) * 4);
  add(m.actions, (size_t)(n * kActionDim) * 4);
  add(m.poses, (size_t)(n * kPoseDim) * 8);
  if (m.has_frame) {
    add(m.r.frame, (size_t)frame * 4);
    add(m.r.pose, kPoseDim * 8);
  }
  if (so.kv != KvStorage::none) {
    const models::AcKvCache& cache = m.r.cache;
    const size_t row_bytes = detail::kv_row_bytes(so.kv, c), layer_bytes = (size_t)rows * row_bytes;
    const bool in_place = detail::kv_storage_is_cache_layout(so.kv, cache.dtype);
    float* tmp = in_place ? nullptr : scratch.alloc<float>((size_t)P);
    for (int l = 0; l < (int)c.depth; ++l) {
      for (bool values : {false, true}) {
        if (in_place) {  // batch 1: the layer's rows are contiguous
          add(values ? cache.v_layer(l) : cache.k_layer(l), layer_bytes);
          continue;
        }
        uint8_t* enc = scratch.alloc<uint8_t>(layer_bytes);
        if ((enc == nullptr && layer_bytes > 0) || tmp == nullptr)
          return Status::error(Error::out_of_memory,
                               "ac_memory_image: scratch too small for the encoded K/V (%zu bytes per layer)",
                               layer_bytes);
        for (int64_t r = 0; r < rows; ++r) detail::encode_kv_row(so.kv, cache, l, values, r, tmp, enc + r * row_bytes);
        add(enc, layer_bytes);
      }
    }
  }
  uint32_t crc = 0;
  for (int i = 1; i < im.parts; ++i) crc = crc32c(im.data[i], im.size[i], crc);
  h.payload_crc32c = crc;
  h.header_crc32c = crc32c(&h, offsetof(MemoryFileHeader, header_crc32c));
  return Status::ok();
}

// Bytes of the memory file for the current contents.
inline size_t ac_memory_file_bytes(const AcMemory& m, KvStorage kv) {
  return sizeof(MemoryFileHeader) + detail::memory_payload_bytes(*m.r.model.config, m.committed(), m.has_frame, kv);
}

// Serialises into a caller buffer (firmware writes it to flash itself).
inline Status ac_memory_serialize(const AcMemory& m, void* out, size_t capacity, Arena& scratch,
                                  const MemorySaveOptions& so = MemorySaveOptions(), size_t* written = nullptr) {
  ArenaScope scope(scratch);
  MemoryImage im;
  JEPA_RETURN_IF_ERROR(ac_memory_image(m, scratch, so, &im));
  const size_t total = im.total();
  if (out == nullptr || capacity < total)
    return Status::error(Error::out_of_memory, "ac_memory_serialize: %zu bytes needed, buffer has %zu", total,
                         capacity);
  uint8_t* o = static_cast<uint8_t*>(out);
  for (int i = 0; i < im.parts; ++i) {
    if (im.size[i]) std::memcpy(o, im.data[i], im.size[i]);
    o += im.size[i];
  }
  if (written) *written = total;
  return Status::ok();
}

#ifndef JEPA_NO_FILESYSTEM
// Writes the memory to `path` atomically (old file or new file, never torn).
inline Status ac_memory_save(const AcMemory& m, const char* path, Arena& scratch,
                             const MemorySaveOptions& so = MemorySaveOptions()) {
  ArenaScope scope(scratch);
  MemoryImage im;
  JEPA_RETURN_IF_ERROR(ac_memory_image(m, scratch, so, &im));
  io::ConstBytes parts[MemoryImage::kMaxParts];
  for (int i = 0; i < im.parts; ++i) parts[i] = io::ConstBytes{im.data[i], im.size[i]};
  return io::write_file_atomic(path, parts, (size_t)im.parts, so.hook);
}
#endif

// Restores a memory from the bytes of a memory file (checked before anything
// is changed: on a format error `m` is untouched; only a failing re-prefill of
// a kv_none file, e.g. too small a scratch arena, leaves it half restored). The memory must have been created
// for the same model shape with a window >= the file's committed steps.
inline Status ac_memory_restore(AcMemory& m, const void* bytes, size_t size, const ParallelFor& par, Arena& scratch,
                                uint64_t model_id = 0) {
  const models::AcPredictorConfig& c = *m.r.model.config;
  if (bytes == nullptr || size < sizeof(MemoryFileHeader))
    return Status::error(Error::truncated, "memory file: %zu bytes, the header alone is %zu", size,
                         sizeof(MemoryFileHeader));
  MemoryFileHeader h;
  std::memcpy(&h, bytes, sizeof(h));
  if (std::memcmp(h.magic, kMemoryMagic, 8) != 0)
    return Status::error(Error::bad_magic, "not a jepa-rt memory file (magic)");
  if (h.header_crc32c != crc32c(&h, offsetof(MemoryFileHeader, header_crc32c)))
    return Status::error(Error::header_crc_mismatch, "memory file: header CRC32C mismatch (corrupted header)");
  if (h.version != kMemoryVersion || h.header_bytes != sizeof(h))
    return Status::error(Error::unsupported_version, "memory file version %u (header %u bytes), reader knows %u",
                         h.version, h.header_bytes, kMemoryVersion);
  if (!kv_storage_known(h.kv_storage))
    return Status::error(Error::unknown_dtype, "memory file: K/V storage %u unknown", h.kv_storage);
  if (h.embed_dim != c.embed_dim || h.pred_embed_dim != c.pred_embed_dim || h.depth != c.depth ||
      h.tokens_per_step != c.tokens_per_step() || h.patches_per_step != c.patches_per_step())
    return Status::error(Error::shape_mismatch,
                         "memory file is for another model: widths %lld/%lld, depth %lld, %lld tokens/step "
                         "(this model: %lld/%lld, %lld, %lld)",
                         (long long)h.embed_dim, (long long)h.pred_embed_dim, (long long)h.depth,
                         (long long)h.tokens_per_step, (long long)c.embed_dim, (long long)c.pred_embed_dim,
                         (long long)c.depth, (long long)c.tokens_per_step());
  if (model_id != 0 && h.model_id != 0 && h.model_id != model_id)
    return Status::error(Error::shape_mismatch, "memory file belongs to model id %llx, not %llx",
                         (unsigned long long)h.model_id, (unsigned long long)model_id);
  if (h.committed < 0 || h.committed > m.opt.window || h.has_frame > 1)
    return Status::error(Error::out_of_range, "memory file holds %lld steps, this memory's window is %lld",
                         (long long)h.committed, (long long)m.opt.window);
  const KvStorage kv = (KvStorage)h.kv_storage;
  const int64_t n = h.committed;
  const size_t expect = detail::memory_payload_bytes(c, n, h.has_frame != 0, kv);
  if (h.payload_bytes != expect)
    return Status::error(Error::size_mismatch, "memory file: payload %llu bytes, %lld steps need %zu",
                         (unsigned long long)h.payload_bytes, (long long)n, expect);
  if (size - sizeof(h) < expect)
    return Status::error(Error::truncated, "memory file truncated: %zu payload bytes of %zu", size - sizeof(h),
                         expect);
  if (size - sizeof(h) > expect)
    return Status::error(Error::bad_file_size, "memory file: %zu bytes after the payload", size - sizeof(h) - expect);
  const uint8_t* p = static_cast<const uint8_t*>(bytes) + sizeof(h);
  if (crc32c(p, expect) != h.payload_crc32c)
    return Status::error(Error::tensor_crc_mismatch, "memory file: payload CRC32C mismatch (corrupted data)");

  // Valid: copy in (the K/V row buffer first, so that nothing fails half way).
  ArenaScope scope(scratch);
  float* tmp = kv == KvStorage::none ? nullptr : scratch.alloc<float>((size_t)c.pred_embed_dim);
  if (kv != KvStorage::none && tmp == nullptr)
    return Status::error(Error::out_of_memory, "ac_memory_restore: scratch too small for one K/V row");
  const int64_t frame = c.patches_per_step() * c.embed_dim, rows = n * c.tokens_per_step();
  std::memcpy(m.latents, p, (size_t)(n * frame) * 4);
  p += (size_t)(n * frame) * 4;
  std::memcpy(m.actions, p, (size_t)(n * kActionDim) * 4);
  p += (size_t)(n * kActionDim) * 4;
  std::memcpy(m.poses, p, (size_t)(n * kPoseDim) * 8);
  p += (size_t)(n * kPoseDim) * 8;
  m.has_frame = h.has_frame != 0;
  if (m.has_frame) {
    std::memcpy(m.r.frame, p, (size_t)frame * 4);
    p += (size_t)frame * 4;
    std::memcpy(m.r.pose, p, kPoseDim * 8);
    p += kPoseDim * 8;
  }
  m.r.started = m.has_frame;
  m.total_committed = h.total_committed;
  if (kv == KvStorage::none) return ac_memory_reprefill(m, par, scratch, n);
  const models::AcKvCache& cache = m.r.cache;
  const size_t row_bytes = detail::kv_row_bytes(kv, c);
  for (int l = 0; l < (int)c.depth; ++l)
    for (bool values : {false, true})
      for (int64_t r = 0; r < rows; ++r, p += row_bytes) detail::decode_kv_row(kv, p, cache, l, values, r, tmp);
  m.r.cache.steps_cached = m.r.cache.first_step + n;
  return Status::ok();
}

#ifndef JEPA_NO_FILESYSTEM
// Reads `path` (mapped) and restores from it.
inline Status ac_memory_load(AcMemory& m, const char* path, const ParallelFor& par, Arena& scratch,
                             uint64_t model_id = 0) {
  Result<MappedFile> f = MappedFile::open(path);
  if (!f) return f.status();
  return ac_memory_restore(m, f->data(), f->size(), par, scratch, model_id);
}
#endif

}  // namespace plan
}  // namespace jepa

#endif  // JEPA_PLAN_MEMORY_HPP
