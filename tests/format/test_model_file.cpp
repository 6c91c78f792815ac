// ModelFile validation: one test per corruption class in docs/FORMAT.md
// ("Validation"), each asserting the specific error code. Patches are resealed
// (checksums recomputed) where the check under test sits behind a checksum.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/model_bytes.hpp"
#include "jepa/format/model_file.hpp"
#include "jepa/format/writer.hpp"
#include "jepa/kernels/quantize.hpp"

using jepa::Error;
using jepa::ModelFile;
using jepa_test::AlignedBytes;
using jepa_test::entry_of;
using jepa_test::header_of;
using jepa_test::put_entry;
using jepa_test::put_header;
using jepa_test::reseal;
using namespace jepa::format;

namespace {

Error open_code(const std::vector<uint8_t>& b, jepa::LoadOptions opt = {}) {
  AlignedBytes buf(b);
  auto r = ModelFile::open(buf.data(), buf.size(), opt);
  if (!r.is_ok()) {
    const std::string why = std::string(jepa::error_name(r.status().code())) + ": " + r.status().message();
    MESSAGE(why);
  }
  return r.is_ok() ? Error::ok : r.status().code();
}

size_t index_of(const std::vector<uint8_t>& b, const char* name) {
  for (size_t i = 0; i < header_of(b).tensor_count; ++i)
    if (std::strcmp(entry_of(b, i).name, name) == 0) return i;
  return SIZE_MAX;
}

}  // namespace

TEST_CASE("model_file: the sample file is valid") {
  auto b = jepa_test::sample_model_bytes();
  REQUIRE(!b.empty());
  CHECK(open_code(b) == Error::ok);
}

TEST_CASE("model_file: truncated at every length is rejected, never read past") {
  auto b = jepa_test::sample_model_bytes();
  for (size_t n = 0; n < b.size(); n += (n < 600 ? 1 : 37)) {
    std::vector<uint8_t> cut(b.begin(), b.begin() + (long)n);
    AlignedBytes buf(cut);
    auto r = ModelFile::open(buf.data(), buf.size());
    REQUIRE(!r.is_ok());
    CHECK(r.status().code() == Error::truncated);
  }
}

TEST_CASE("model_file: bad magic") {
  auto b = jepa_test::sample_model_bytes();
  b[0] = 'X';
  CHECK(open_code(b) == Error::bad_magic);
}

TEST_CASE("model_file: unsupported major version") {
  auto b = jepa_test::sample_model_bytes();
  FileHeader h = header_of(b);
  h.version_major = 2;
  put_header(b, h);
  reseal(b);
  CHECK(open_code(b) == Error::unsupported_version);
}

TEST_CASE("model_file: a newer minor version is accepted") {
  auto b = jepa_test::sample_model_bytes();
  FileHeader h = header_of(b);
  h.version_minor = 7;
  put_header(b, h);
  reseal(b);
  CHECK(open_code(b) == Error::ok);
}

TEST_CASE("model_file: unknown required feature, while unknown optional bits are ignored") {
  auto b = jepa_test::sample_model_bytes();
  FileHeader h = header_of(b);
  h.optional_features |= 1ull << 40;
  put_header(b, h);
  reseal(b);
  CHECK(open_code(b) == Error::ok);
  h.required_features |= 1ull << 33;
  put_header(b, h);
  reseal(b);
  CHECK(open_code(b) == Error::unknown_required_feature);
}

TEST_CASE("model_file: header CRC mismatch") {
  auto b = jepa_test::sample_model_bytes();
  b[offsetof(FileHeader, model_kind) + 1] ^= 0x20;
  CHECK(open_code(b) == Error::header_crc_mismatch);
}

TEST_CASE("model_file: tables CRC mismatch (directory and hyper-parameters)") {
  auto b = jepa_test::sample_model_bytes();
  const FileHeader h = header_of(b);
  auto d = b;
  d[h.tensor_offset + 3] ^= 1;
  CHECK(open_code(d) == Error::table_crc_mismatch);
  auto p = b;
  p[h.hparam_offset + sizeof(HParamEntry) - 1] ^= 1;
  CHECK(open_code(p) == Error::table_crc_mismatch);
  auto q = b;
  q[h.pool_offset] ^= 1;
  CHECK(open_code(q) == Error::table_crc_mismatch);
}

TEST_CASE("model_file: tensor CRC mismatch, and skipping the check") {
  auto b = jepa_test::sample_model_bytes();
  const TensorEntry e = entry_of(b, index_of(b, "layer.weight"));
  b[e.offset + 5] ^= 0x40;
  CHECK(open_code(b) == Error::tensor_crc_mismatch);
  jepa::LoadOptions skip;
  skip.verify_tensor_crc = false;
  CHECK(open_code(b, skip) == Error::ok);
}

TEST_CASE("model_file: offsets or sizes out of range") {
  auto b = jepa_test::sample_model_bytes();
  SUBCASE("tensor past the end") {
    const size_t i = header_of(b).tensor_count - 1;  // the last tensor ends the file
    TensorEntry e = entry_of(b, i);
    e.offset += 64 * 1024;
    put_entry(b, i, e);
    reseal(b, false);
    CHECK(open_code(b) == Error::out_of_range);
  }
  SUBCASE("offset + bytes wraps around 2^64") {
    const size_t i = index_of(b, "layer.bias");
    TensorEntry e = entry_of(b, i);
    e.offset = UINT64_MAX - 63;
    put_entry(b, i, e);
    reseal(b, false);
    CHECK(open_code(b) == Error::out_of_range);
  }
  SUBCASE("tensor directory outside the file") {
    FileHeader h = header_of(b);
    h.tensor_count = 1u << 30;
    put_header(b, h);
    reseal(b, false);
    CHECK(open_code(b) == Error::out_of_range);
  }
  SUBCASE("hyper-parameter array outside the pool") {
    FileHeader h = header_of(b);
    HParamEntry p;
    for (uint32_t k = 0; k < h.hparam_count; ++k) {
      std::memcpy(&p, b.data() + h.hparam_offset + k * sizeof(p), sizeof(p));
      if (std::strcmp(p.key, "grid") == 0) {
        p.count = 1000000;
        std::memcpy(b.data() + h.hparam_offset + k * sizeof(p), &p, sizeof(p));
      }
    }
    reseal(b, false);
    CHECK(open_code(b) == Error::out_of_range);
  }
}

TEST_CASE("model_file: overlapping tensors") {
  auto b = jepa_test::sample_model_bytes();
  const TensorEntry first = entry_of(b, 0);
  TensorEntry second = entry_of(b, 1);
  second.offset = first.offset;
  put_entry(b, 1, second);
  reseal(b);
  CHECK(open_code(b) == Error::overlapping_tensors);
}

TEST_CASE("model_file: tensor data inside the metadata") {
  auto b = jepa_test::sample_model_bytes();
  TensorEntry e = entry_of(b, 0);
  e.offset = 64;  // inside the header / tables
  put_entry(b, 0, e);
  reseal(b);
  CHECK(open_code(b) == Error::overlapping_tensors);
}

TEST_CASE("model_file: misaligned tensor offset and misaligned base") {
  auto b = jepa_test::sample_model_bytes();
  auto m = b;
  TensorEntry e = entry_of(m, 1);
  e.offset += 4;
  put_entry(m, 1, e);
  reseal(m);
  CHECK(open_code(m) == Error::misaligned);

  // The same valid bytes at an address that is not 64-aligned.
  std::vector<uint8_t> shifted(b.size() + 64 + 8);
  AlignedBytes buf(shifted);
  std::memcpy(buf.data() + 8, b.data(), b.size());
  auto r = ModelFile::open(buf.data() + 8, b.size());
  REQUIRE(!r.is_ok());
  CHECK(r.status().code() == Error::misaligned);
  jepa::LoadOptions lax;
  lax.require_aligned_base = false;
  CHECK(ModelFile::open(buf.data() + 8, b.size(), lax).is_ok());
}

TEST_CASE("model_file: unknown dtype and unknown layout") {
  auto b = jepa_test::sample_model_bytes();
  auto d = b;
  TensorEntry e = entry_of(d, 0);
  e.dtype = 99;
  put_entry(d, 0, e);
  reseal(d);
  CHECK(open_code(d) == Error::unknown_dtype);
  auto l = b;
  e = entry_of(l, 0);
  e.layout = 0x7777;
  put_entry(l, 0, e);
  reseal(l);
  CHECK(open_code(l) == Error::unknown_layout);
}

TEST_CASE("model_file: shape / byte-size mismatch") {
  auto b = jepa_test::sample_model_bytes();
  const size_t i = index_of(b, "layer.weight");
  SUBCASE("bytes disagree with the shape") {
    TensorEntry e = entry_of(b, i);
    e.shape[0] = 9;
    put_entry(b, i, e);
    reseal(b);
    CHECK(open_code(b) == Error::size_mismatch);
  }
  SUBCASE("dimension product overflows") {
    TensorEntry e = entry_of(b, i);
    e.rank = 4;
    e.shape[0] = e.shape[1] = e.shape[2] = e.shape[3] = 1ull << 20;
    put_entry(b, i, e);
    reseal(b);
    CHECK(open_code(b) == Error::size_mismatch);
  }
  SUBCASE("zero dimension") {
    TensorEntry e = entry_of(b, i);
    e.shape[1] = 0;
    put_entry(b, i, e);
    reseal(b);
    CHECK(open_code(b) == Error::size_mismatch);
  }
  SUBCASE("rank 0") {
    TensorEntry e = entry_of(b, i);
    e.rank = 0;
    put_entry(b, i, e);
    reseal(b);
    CHECK(open_code(b) == Error::size_mismatch);
  }
}

TEST_CASE("model_file: duplicate names (tensors and hyper-parameters)") {
  auto b = jepa_test::sample_model_bytes();
  auto t = b;
  TensorEntry second = entry_of(t, 1);
  std::memcpy(second.name, entry_of(t, 0).name, kNameCapacity);
  put_entry(t, 1, second);
  reseal(t);
  CHECK(open_code(t) == Error::duplicate_name);

  auto p = b;
  const FileHeader h = header_of(p);
  HParamEntry first;
  std::memcpy(&first, p.data() + h.hparam_offset, sizeof(first));
  HParamEntry other;
  std::memcpy(&other, p.data() + h.hparam_offset + sizeof(other), sizeof(other));
  std::memcpy(other.key, first.key, kKeyCapacity);
  std::memcpy(p.data() + h.hparam_offset + sizeof(other), &other, sizeof(other));
  reseal(p);
  CHECK(open_code(p) == Error::duplicate_name);
}

TEST_CASE("model_file: names that are empty, unterminated or unsorted") {
  auto b = jepa_test::sample_model_bytes();
  auto u = b;
  TensorEntry e = entry_of(u, 0);
  std::memset(e.name, 'a', kNameCapacity);
  put_entry(u, 0, e);
  reseal(u);
  CHECK(open_code(u) == Error::bad_name);
  auto z = b;
  e = entry_of(z, 2);
  e.name[0] = '\0';
  put_entry(z, 2, e);
  reseal(z);
  CHECK(open_code(z) == Error::bad_name);
  auto k = b;
  FileHeader h = header_of(k);
  std::memset(h.model_kind, 'k', kKindCapacity);
  put_header(k, h);
  reseal(k);
  CHECK(open_code(k) == Error::bad_name);
}

TEST_CASE("model_file: non-finite quantization scales") {
  auto b = jepa_test::sample_model_bytes();
  SUBCASE("q8 row scale NaN") {
    const TensorEntry e = entry_of(b, index_of(b, "quant.q8"));
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(b.data() + e.offset + 192 + 4 * 2, &nan, 4);
    reseal(b);
    CHECK(open_code(b) == Error::non_finite);
  }
  SUBCASE("q4 block scale inf") {
    const TensorEntry e = entry_of(b, index_of(b, "quant.q4"));
    const uint16_t inf = 0x7C00;
    std::memcpy(b.data() + e.offset + 64 + 2 * 3, &inf, 2);
    reseal(b);
    CHECK(open_code(b) == Error::non_finite);
  }
}

TEST_CASE("model_file: a quantized tensor needs the quantized feature bit") {
  auto b = jepa_test::sample_model_bytes();
  FileHeader h = header_of(b);
  h.required_features &= ~(uint64_t)kReqQuantized;
  put_header(b, h);
  reseal(b);
  CHECK(open_code(b) == Error::unknown_required_feature);
}

TEST_CASE("model_file: file size disagrees with the header") {
  auto b = jepa_test::sample_model_bytes();
  auto longer = b;
  longer.resize(b.size() + 64, 0);
  CHECK(open_code(longer) == Error::bad_file_size);
  auto h = header_of(b);
  h.file_bytes += 1;
  put_header(b, h);
  reseal(b);
  CHECK(open_code(b) == Error::truncated);
}

TEST_CASE("model_file: hyper-parameter type errors") {
  auto b = jepa_test::sample_model_bytes();
  AlignedBytes buf(b);
  auto f = ModelFile::open(buf.data(), buf.size());
  REQUIRE(f.is_ok());
  CHECK(f->get_int("norm_eps").status().code() == Error::bad_hparam);
  CHECK(f->get_int("absent").status().code() == Error::bad_hparam);
  CHECK(f->get_float("depth").value() == 2.0);  // ints read as floats
  CHECK(f->get_floats("mean").value().size == 3);
  CHECK(f->get_string("grid").status().code() == Error::bad_hparam);

  auto t = b;
  const FileHeader h = header_of(t);
  HParamEntry p;
  std::memcpy(&p, t.data() + h.hparam_offset, sizeof(p));
  p.type = 42;
  std::memcpy(t.data() + h.hparam_offset, &p, sizeof(p));
  reseal(t);
  CHECK(open_code(t) == Error::bad_hparam);
}

// ---------------------------------------------------------------------------
// Tensor flags: q7 (7-bit q8 weights) is a promise the loader checks, since
// the AVX2 u8 x s8 kernel it selects would saturate silently on larger values.

namespace {

// A file with one q7 panel matrix [20][37] and one q7 row_major matrix [3][70].
std::vector<uint8_t> q7_model_bytes(uint32_t panel_flags = kTensorQ7) {
  Writer w("test.q7");
  std::vector<float> a(20 * 37), c(3 * 70);
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.7f * (float)i);
  for (size_t i = 0; i < c.size(); ++i) c[i] = std::cos(0.3f * (float)i);
  const uint32_t params[6] = {16, 4, 0, 0, 0, 0};
  std::vector<uint8_t> pa(jepa::kernels::packed_bytes(DType::q8, Layout::panel, 20, 37, params).value());
  std::vector<uint8_t> pc(jepa::kernels::packed_bytes(DType::q8, Layout::row_major, 3, 70).value());
  REQUIRE(jepa::kernels::quantize_matrix(a.data(), 20, 37, DType::q8, Layout::panel, params, pa.data(), pa.size(),
                                         kTensorQ7).is_ok());
  REQUIRE(jepa::kernels::quantize_matrix(c.data(), 3, 70, DType::q8, Layout::row_major, nullptr, pc.data(),
                                         pc.size(), kTensorQ7).is_ok());
  REQUIRE(w.add_tensor("a.weight", DType::q8, {20, 37}, pa.data(), pa.size(), Layout::panel, params, panel_flags)
              .is_ok());
  REQUIRE(w.add_tensor("c.weight", DType::q8, {3, 70}, pc.data(), pc.size(), Layout::row_major, nullptr, kTensorQ7)
              .is_ok());
  auto r = w.finish();
  REQUIRE(r.is_ok());
  return r.value();
}

}  // namespace

TEST_CASE("model_file: q7 tensors load with their flag, values within +-63") {
  auto b = q7_model_bytes();
  AlignedBytes buf(b);
  auto r = ModelFile::open(buf.data(), buf.size());
  REQUIRE(r.is_ok());
  for (size_t i = 0; i < r->tensor_count(); ++i) CHECK(r->tensor(i).flags == (uint32_t)kTensorQ7);
  // The quantizer used the whole 7-bit range: some value is +-63 in each matrix.
  const TensorEntry e = entry_of(b, index_of(b, "c.weight"));
  int big = 0;
  for (size_t i = 0; i < 3 * 70; ++i) big = std::max(big, std::abs((int)(int8_t)b[e.offset + i]));
  CHECK(big == kQ7Max);
}

TEST_CASE("model_file: a q7 value past +-63, or a stale row sum, is bad_tensor_data even without CRCs") {
  auto b = q7_model_bytes();
  jepa::LoadOptions no_crc;
  no_crc.verify_tensor_crc = false;
  SUBCASE("panel value 64") {
    const TensorEntry e = entry_of(b, index_of(b, "a.weight"));
    b[e.offset + 100] = 64;
    reseal(b);
    CHECK(open_code(b) == Error::bad_tensor_data);
    CHECK(open_code(b, no_crc) == Error::bad_tensor_data);
  }
  SUBCASE("row_major value -64") {
    const TensorEntry e = entry_of(b, index_of(b, "c.weight"));
    b[e.offset + 5] = (uint8_t)(int8_t)-64;
    reseal(b);
    CHECK(open_code(b) == Error::bad_tensor_data);
  }
  SUBCASE("-128 in panel padding") {
    const TensorEntry e = entry_of(b, index_of(b, "a.weight"));
    b[e.offset + 16 * 40 - 1] = 0x80;  // row 15, k-group 9, k = 39 (past K = 37)
    reseal(b);
    CHECK(open_code(b) == Error::bad_tensor_data);
  }
  SUBCASE("row_sum off by one") {
    const TensorEntry e = entry_of(b, index_of(b, "a.weight"));
    PanelGeometry g;
    REQUIRE(panel_geometry(DType::q8, 20, 37, e.layout_params, &g));
    int32_t s;
    std::memcpy(&s, b.data() + e.offset + g.sum_offset + 4 * 17, 4);
    ++s;
    std::memcpy(b.data() + e.offset + g.sum_offset + 4 * 17, &s, 4);
    reseal(b);
    CHECK(open_code(b) == Error::bad_tensor_data);
    CHECK(open_code(b, no_crc) == Error::bad_tensor_data);
  }
  SUBCASE("a changed value within the bound leaves its row sum stale") {
    const TensorEntry e = entry_of(b, index_of(b, "a.weight"));
    b[e.offset + 3] = (uint8_t)((int8_t)b[e.offset + 3] == 1 ? 2 : 1);  // row 0 changes, its sum does not
    reseal(b);
    CHECK(open_code(b) == Error::bad_tensor_data);
  }
}

TEST_CASE("model_file: tensor flags unknown, or q7 on a dtype other than q8, are rejected") {
  auto b = jepa_test::sample_model_bytes();
  SUBCASE("q7 on f32") {
    const size_t i = index_of(b, "layer.weight");
    TensorEntry e = entry_of(b, i);
    e.flags = kTensorQ7;
    put_entry(b, i, e);
    reseal(b);
    CHECK(open_code(b) == Error::bad_tensor_data);
  }
  SUBCASE("an unknown bit") {
    const size_t i = index_of(b, "quant.q8");
    TensorEntry e = entry_of(b, i);
    e.flags = 1u << 5;
    put_entry(b, i, e);
    reseal(b);
    CHECK(open_code(b) == Error::bad_tensor_data);
  }
  SUBCASE("the writer refuses them too") {
    Writer w("test.flags");
    const float v[4] = {1, 2, 3, 4};
    CHECK(w.add_tensor("x", DType::f32, {2, 2}, v, sizeof v, Layout::row_major, nullptr, kTensorQ7).code() ==
          Error::bad_tensor_data);
  }
  SUBCASE("q8 with values past 63 but no flag is an ordinary q8 tensor") {
    CHECK(open_code(b) == Error::ok);
  }
}
