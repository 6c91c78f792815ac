// tests/common/model_bytes.hpp: helpers for tests that build .jepa files in
// memory and corrupt them on purpose: an aligned byte buffer, a small sample
// model, and "reseal" (recompute the checksums after a patch, so a test can
// reach the check behind them).
#ifndef JEPA_TESTS_COMMON_MODEL_BYTES_HPP
#define JEPA_TESTS_COMMON_MODEL_BYTES_HPP

#include <cstdlib>
#include <cstring>
#include <vector>

#include "jepa/format/crc32c.hpp"
#include "jepa/format/format.hpp"
#include "jepa/format/writer.hpp"

namespace jepa_test {

// Bytes at a 64-byte boundary, as a mapped file or an alignas(64) array is.
class AlignedBytes {
 public:
  explicit AlignedBytes(const std::vector<uint8_t>& v) : size_(v.size()) {
    ptr_ = static_cast<uint8_t*>(std::aligned_alloc(64, (v.size() + 64) & ~size_t(63)));
    if (!v.empty()) std::memcpy(ptr_, v.data(), v.size());
  }
  ~AlignedBytes() { std::free(ptr_); }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;
  uint8_t* data() { return ptr_; }
  size_t size() const { return size_; }

 private:
  uint8_t* ptr_;
  size_t size_;
};

inline jepa::format::FileHeader header_of(const std::vector<uint8_t>& b) {
  jepa::format::FileHeader h;
  std::memcpy(&h, b.data(), sizeof(h));
  return h;
}

inline void put_header(std::vector<uint8_t>& b, const jepa::format::FileHeader& h) {
  std::memcpy(b.data(), &h, sizeof(h));
}

inline jepa::format::TensorEntry entry_of(const std::vector<uint8_t>& b, size_t i) {
  jepa::format::TensorEntry e;
  std::memcpy(&e, b.data() + header_of(b).tensor_offset + i * sizeof(e), sizeof(e));
  return e;
}

inline void put_entry(std::vector<uint8_t>& b, size_t i, const jepa::format::TensorEntry& e) {
  std::memcpy(b.data() + header_of(b).tensor_offset + i * sizeof(e), &e, sizeof(e));
}

// Recompute tensor CRCs (optional), the tables CRC and the header CRC, so a
// patched file passes every checksum and the loader reaches the check behind.
// Tolerates nonsense offsets (clamps to the buffer) since fuzzers use it.
inline void reseal(std::vector<uint8_t>& b, bool tensors = true) {
  using namespace jepa::format;
  if (b.size() < sizeof(FileHeader)) return;
  FileHeader h = header_of(b);
  auto in = [&](uint64_t off, uint64_t n) { return off <= b.size() && n <= b.size() - off; };
  const uint64_t hp = (uint64_t)h.hparam_count * sizeof(HParamEntry);
  const uint64_t tt = (uint64_t)h.tensor_count * sizeof(TensorEntry);
  if (tensors && in(h.tensor_offset, tt)) {
    for (uint32_t i = 0; i < h.tensor_count; ++i) {
      TensorEntry e;
      std::memcpy(&e, b.data() + h.tensor_offset + i * sizeof(e), sizeof(e));
      if (in(e.offset, e.bytes)) e.crc32c = jepa::crc32c(b.data() + e.offset, e.bytes);
      std::memcpy(b.data() + h.tensor_offset + i * sizeof(e), &e, sizeof(e));
    }
  }
  if (in(h.hparam_offset, hp) && in(h.tensor_offset, tt) && in(h.pool_offset, h.pool_bytes)) {
    uint32_t c = jepa::crc32c(b.data() + h.hparam_offset, hp);
    c = jepa::crc32c(b.data() + h.tensor_offset, tt, c);
    h.tables_crc32c = jepa::crc32c(b.data() + h.pool_offset, h.pool_bytes, c);
  }
  put_header(b, h);
  h.header_crc32c = jepa::crc32c(b.data(), kHeaderCrcSpan);
  put_header(b, h);
}

// A small valid file: two f32 tensors, a q8 and a q4 matrix, a few hparams.
inline std::vector<uint8_t> sample_model_bytes() {
  using namespace jepa::format;
  Writer w("test.sample");
  w.add_int("depth", 2);
  w.add_float("norm_eps", 1e-6);
  w.add_string("note", "sample");
  w.add_ints("grid", {3, 5});
  w.add_floats("mean", {0.485, 0.456, 0.406});
  std::vector<float> weight(8 * 5), bias(8);
  for (size_t i = 0; i < weight.size(); ++i) weight[i] = 0.25f * (float)((int)(i % 7) - 3);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.1f * (float)i;
  (void)w.add_tensor("layer.weight", DType::f32, {8, 5}, weight.data(), weight.size() * 4);
  (void)w.add_tensor("layer.bias", DType::f32, {8}, bias.data(), bias.size() * 4);
  // q8 [4][40]: int8 block padded to 64, then 4 f32 scales.
  std::vector<uint8_t> q8(192 + 16, 0);
  for (size_t i = 0; i < 160; ++i) q8[i] = (uint8_t)(int8_t)((int)(i % 255) - 127);
  const float scales[4] = {0.01f, 0.02f, 0.03f, 0.04f};
  std::memcpy(q8.data() + 192, scales, sizeof(scales));
  (void)w.add_tensor("quant.q8", DType::q8, {4, 40}, q8.data(), q8.size());
  // q4 [2][40]: 2 blocks per row -> 4 blocks x 16 B = 64 B nibbles, then 4 f16 scales.
  std::vector<uint8_t> q4(64 + 8, 0x88);
  const uint16_t h_one = 0x3C00;  // 1.0 in f16
  for (int i = 0; i < 4; ++i) std::memcpy(q4.data() + 64 + 2 * i, &h_one, 2);
  (void)w.add_tensor("quant.q4", DType::q4, {2, 40}, q4.data(), q4.size());
  auto r = w.finish();
  return r.is_ok() ? r.value() : std::vector<uint8_t>();
}

}  // namespace jepa_test

#endif  // JEPA_TESTS_COMMON_MODEL_BYTES_HPP
