// Builds a tiny model in memory with the installed headers and loads it back,
// then runs a matmul on the kernel dispatch picks.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <jepa/jepa.hpp>

#include "linear_check.hpp"

int main() {
  jepa::format::Writer w("consumer.check");
  const float v[4] = {1, 2, 3, 4};
  if (!w.add_tensor("x", jepa::format::DType::f32, {4}, v, sizeof(v)).is_ok()) return 1;
  auto bytes = w.finish();
  if (!bytes.is_ok()) return 1;
  void* buf = std::aligned_alloc(64, (bytes->size() + 63) & ~size_t(63));
  std::memcpy(buf, bytes->data(), bytes->size());
  auto f = jepa::ModelFile::open(buf, bytes->size());
  const bool ok = f.is_ok() && f->find("x").is_ok();
  std::printf("consumer: %s\n", ok ? "ok" : f.status().message());
  std::free(buf);
  return ok && linear_check() ? 0 : 1;
}
