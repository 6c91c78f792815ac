// Writer -> ModelFile round trips: every field written comes back.
#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

#include "jepa/format/model_file.hpp"
#include "jepa/format/writer.hpp"

namespace {

struct Aligned {
  explicit Aligned(const std::vector<uint8_t>& v) : size(v.size()) {
    ptr = static_cast<uint8_t*>(std::aligned_alloc(64, (v.size() + 63) & ~size_t(63)));
    std::memcpy(ptr, v.data(), v.size());
  }
  ~Aligned() { std::free(ptr); }
  uint8_t* ptr;
  size_t size;
};

}  // namespace

TEST_CASE("format: write then read hyper-parameters and tensors") {
  jepa::format::Writer w("vjepa2.encoder");
  w.add_int("depth", 2);
  w.add_float("norm_eps", 1e-6);
  w.add_string("rope", "vjepa2_3d");
  w.add_ints("grid", {3, 5});
  std::vector<float> a(6 * 4);
  for (size_t i = 0; i < a.size(); ++i) a[i] = (float)i;
  REQUIRE(w.add_tensor("b.weight", jepa::format::DType::f32, {6, 4}, a.data(), a.size() * 4).is_ok());
  REQUIRE(w.add_tensor("a.bias", jepa::format::DType::f32, {6}, a.data(), 24).is_ok());
  auto bytes = w.finish();
  REQUIRE(bytes.is_ok());
  Aligned buf(bytes.value());
  auto f = jepa::ModelFile::open(buf.ptr, buf.size);
  REQUIRE_MESSAGE(f.is_ok(), f.status().message());
  CHECK(std::string(f->kind()) == "vjepa2.encoder");
  CHECK(f->get_int("depth").value() == 2);
  CHECK(f->get_float("norm_eps").value() == doctest::Approx(1e-6));
  CHECK(f->get_string("rope").value().equals("vjepa2_3d"));
  CHECK(f->get_ints("grid").value().size == 2);
  CHECK(f->get_ints("grid").value()[1] == 5);
  REQUIRE(f->tensor_count() == 2);
  CHECK(std::string(f->tensor(0).name) == "a.bias");  // sorted by name
  auto t = f->find("b.weight");
  REQUIRE(t.is_ok());
  CHECK(t->rank == 2);
  CHECK(t->shape[0] == 6);
  CHECK(reinterpret_cast<uintptr_t>(t->data) % 64 == 0);
  CHECK(static_cast<const float*>(t->data)[23] == 23.0f);
  CHECK(f->find("nope").status().code() == jepa::Error::missing_tensor);
}
