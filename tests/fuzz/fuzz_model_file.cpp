// libFuzzer target for the .jepa loader. Build with clang:
//   -fsanitize=fuzzer,address,undefined (CMake: -DJEPA_BUILD_FUZZ=ON).
// The first input byte picks a mode: raw bytes (the checksums stop most
// mutations early), or "resealed" bytes whose CRCs are recomputed first, so
// mutations reach the structural checks behind them. On success every
// accessor is exercised and every tensor byte touched, so ASan sees any read
// the validation should have prevented.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/model_bytes.hpp"
#include "jepa/format/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool reseal = (data[0] & 1) != 0;
  std::vector<uint8_t> bytes(data + 1, data + size);
  if (reseal) jepa_test::reseal(bytes);
  // An exact-size aligned copy, so reading one byte past the end is caught.
  uint8_t* buf = static_cast<uint8_t*>(std::aligned_alloc(64, (bytes.size() + 63) & ~size_t(63)));
  if (!buf) return 0;
  if (!bytes.empty()) std::memcpy(buf, bytes.data(), bytes.size());
  auto f = jepa::ModelFile::open(buf, bytes.size());
  if (f.is_ok()) {
    const jepa::ModelFile& m = f.value();
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < m.tensor_count(); ++i) {
      const jepa::TensorInfo t = m.tensor(i);
      const uint8_t* p = static_cast<const uint8_t*>(t.data);
      for (uint64_t k = 0; k < t.bytes; ++k) sink ^= p[k];
      auto again = m.find(t.name);
      if (!again.is_ok() || again->data != t.data) __builtin_trap();  // lookup must find what exists
    }
    for (size_t i = 0; i < m.hparam_count(); ++i) {
      const jepa::HParamInfo h = m.hparam(i);
      (void)m.get_int(h.key);
      (void)m.get_float(h.key);
      auto s = m.get_string(h.key);
      if (s.is_ok())
        for (size_t k = 0; k < s->size; ++k) sink ^= (uint8_t)s->data[k];
      auto a = m.get_ints(h.key);
      if (a.is_ok())
        for (size_t k = 0; k < a->size; ++k) sink ^= (uint8_t)a->data[k];
      auto d = m.get_floats(h.key);
      if (d.is_ok())
        for (size_t k = 0; k < d->size; ++k) sink ^= (uint8_t)(d->data[k] > 0);
    }
    (void)sink;
  }
  std::free(buf);
  return 0;
}
