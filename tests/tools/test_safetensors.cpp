// Tests of tools/common/safetensors.hpp: the writer's output reads back, the
// golden checkpoints parse, and every corruption the reader must catch gives
// its specific error code.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tools/common/safetensors.hpp"

namespace st = jepa::safetensors;
using jepa::Error;

namespace {

// A raw file: u64 header length, the header text as given, then the data.
std::vector<uint8_t> raw_file(const std::string& header, size_t data_bytes, uint64_t claimed_len = UINT64_MAX) {
  const uint64_t n = claimed_len == UINT64_MAX ? header.size() : claimed_len;
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
  for (int i = 0; i < 8; ++i) out[i] = (uint8_t)(n >> (8 * i));
  std::memcpy(out.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < data_bytes; ++i) out[8 + header.size() + i] = (uint8_t)i;
  return out;
}

Error parse_error(const std::vector<uint8_t>& bytes) {
  auto f = st::File::from_bytes(bytes);
  if (f.is_ok()) return Error::ok;
  return f.status().code();
}

std::string one_tensor(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return "{\"t\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
}

}  // namespace

TEST_CASE("safetensors: writer output reads back tensor by tensor") {
  st::Writer w;
  std::vector<float> a = {1.f, -2.f, 3.5f, 4.f, 5.f, 6.f};
  std::vector<int64_t> idx = {7, -1, 1ll << 40};
  REQUIRE(w.add_f32("b.weight", {2, 3}, a).is_ok());
  REQUIRE(w.add("a.index", st::DType::I64, {3}, idx.data(), idx.size() * 8).is_ok());
  REQUIRE(w.add_f32("c.scalar", {}, {42.f}).is_ok());
  w.set_metadata("format", "pt");
  std::vector<uint8_t> bytes = w.finish();
  CHECK((bytes.size() - 8) % 8 == (6 * 4 + 3 * 8 + 4) % 8);  // header padded to 8
  auto f = st::File::from_bytes(bytes);
  REQUIRE_MESSAGE(f.is_ok(), std::string(f.status().message()));
  REQUIRE(f->tensors().size() == 3);
  CHECK(f->tensors()[0].name == "a.index");  // sorted by name
  CHECK(f->header_bytes() % 8 == 0);
  const st::TensorView* b = f->find("b.weight");
  REQUIRE(b != nullptr);
  CHECK(b->dtype == st::DType::F32);
  CHECK(b->shape == std::vector<int64_t>{2, 3});
  std::vector<float> back;
  REQUIRE(st::to_f32(*b, &back).is_ok());
  CHECK(back == a);
  const st::TensorView* i = f->find("a.index");
  REQUIRE(i != nullptr);
  int64_t v2;
  std::memcpy(&v2, i->data + 16, 8);
  CHECK(v2 == (1ll << 40));
  CHECK(f->find("c.scalar")->numel() == 1);
  CHECK(f->find("c.scalar")->shape.empty());
  CHECK(f->find("nope") == nullptr);
  REQUIRE(f->find_metadata("format") != nullptr);
  CHECK(*f->find_metadata("format") == "pt");
  // Packed without gaps, in name order.
  CHECK(f->find("a.index")->begin == 0);
  CHECK(f->find("b.weight")->begin == 24);
  CHECK(f->find("c.scalar")->begin == 48);
}

TEST_CASE("safetensors: writer rejects bad input") {
  st::Writer w;
  std::vector<float> a(6);
  CHECK(w.add_f32("x", {2, 2}, a).code() == Error::size_mismatch);
  REQUIRE(w.add_f32("x", {2, 3}, a).is_ok());
  CHECK(w.add_f32("x", {6}, a).code() == Error::duplicate_name);
  CHECK(w.add_f32("__metadata__", {6}, a).code() == Error::bad_name);
  CHECK(w.add_f32("", {6}, a).code() == Error::bad_name);
}

TEST_CASE("safetensors: f16, bf16 and f64 convert to f32") {
  const uint16_t h[3] = {0x3C00, 0xC000, 0x3555};  // 1, -2, ~0.3333
  const uint16_t bf[2] = {0x3F80, 0xC040};         // 1, -3
  const double d[2] = {0.25, -1e10};
  st::Writer w;
  REQUIRE(w.add("h", st::DType::F16, {3}, h, 6).is_ok());
  REQUIRE(w.add("bf", st::DType::BF16, {2}, bf, 4).is_ok());
  REQUIRE(w.add("d", st::DType::F64, {2}, d, 16).is_ok());
  REQUIRE(w.add("i", st::DType::I32, {1}, h, 4).is_ok());
  auto f = st::File::from_bytes(w.finish());
  REQUIRE(f.is_ok());
  std::vector<float> v;
  REQUIRE(st::to_f32(*f->find("h"), &v).is_ok());
  CHECK(v[0] == 1.f);
  CHECK(v[1] == -2.f);
  CHECK(v[2] == doctest::Approx(0.33325f));
  REQUIRE(st::to_f32(*f->find("bf"), &v).is_ok());
  CHECK(v == std::vector<float>{1.f, -3.f});
  REQUIRE(st::to_f32(*f->find("d"), &v).is_ok());
  CHECK(v == std::vector<float>{0.25f, -1e10f});
  CHECK(st::to_f32(*f->find("i"), &v).code() == Error::unknown_dtype);
}

TEST_CASE("safetensors: a hand-written valid file with gaps and padding") {
  // Offsets need not start at 0 nor be contiguous; trailing spaces pad the header.
  std::string h = "{\"__metadata__\":{\"k\":\"v\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}   ";
  auto f = st::File::from_bytes(raw_file(h, 16));
  REQUIRE_MESSAGE(f.is_ok(), std::string(f.status().message()));
  CHECK(f->find("x")->bytes == 8);
  CHECK(f->find("x")->data[0] == 8);  // data byte i holds i
}

TEST_CASE("safetensors: corrupt files give specific errors") {
  SUBCASE("shorter than the length field") {
    CHECK(parse_error(std::vector<uint8_t>{1, 0, 0}) == Error::truncated);
    CHECK(parse_error(std::vector<uint8_t>{}) == Error::truncated);
  }
  SUBCASE("header length past the end of the file") {
    const std::string h = one_tensor("F32", "[1]", "[0,4]");
    CHECK(parse_error(raw_file(h, 4, h.size() + 5)) == Error::truncated);
    CHECK(parse_error(raw_file(h, 4, UINT64_MAX - 1)) != Error::ok);
  }
  SUBCASE("header length absurdly large") {
    CHECK(parse_error(raw_file("{}", 0, 1ull << 40)) == Error::bad_checkpoint);
  }
  SUBCASE("header length cuts the JSON short") {
    const std::string h = one_tensor("F32", "[1]", "[0,4]");
    CHECK(parse_error(raw_file(h, 4, h.size() - 3)) == Error::bad_checkpoint);
  }
  SUBCASE("header is not a JSON object") {
    CHECK(parse_error(raw_file("[1,2]   ", 0)) == Error::bad_checkpoint);
    CHECK(parse_error(raw_file("{\"x\": }", 0)) == Error::bad_checkpoint);
    CHECK(parse_error(raw_file("", 0)) == Error::bad_checkpoint);
  }
  SUBCASE("offsets out of range") {
    CHECK(parse_error(raw_file(one_tensor("F32", "[2]", "[0,8]"), 4)) == Error::out_of_range);
    CHECK(parse_error(raw_file(one_tensor("F32", "[1]", "[8,4]"), 16)) == Error::out_of_range);  // begin > end
  }
  SUBCASE("size does not match dtype x shape") {
    CHECK(parse_error(raw_file(one_tensor("F32", "[3]", "[0,8]"), 16)) == Error::size_mismatch);
    CHECK(parse_error(raw_file(one_tensor("F16", "[2,2]", "[0,16]"), 16)) == Error::size_mismatch);
    CHECK(parse_error(raw_file(one_tensor("F32", "[4294967296,4294967296,16]", "[0,16]"), 16)) ==
          Error::size_mismatch);  // numel overflows
  }
  SUBCASE("overlapping tensors") {
    const std::string h =
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
    CHECK(parse_error(raw_file(h, 16)) == Error::overlapping_tensors);
  }
  SUBCASE("malformed entries") {
    CHECK(parse_error(raw_file(one_tensor("Q7", "[1]", "[0,4]"), 4)) == Error::unknown_dtype);
    CHECK(parse_error(raw_file(one_tensor("F32", "[-1]", "[0,4]"), 4)) == Error::bad_checkpoint);
    CHECK(parse_error(raw_file(one_tensor("F32", "[1.5]", "[0,4]"), 4)) == Error::bad_checkpoint);
    CHECK(parse_error(raw_file(one_tensor("F32", "[1]", "[0]"), 4)) == Error::bad_checkpoint);
    CHECK(parse_error(raw_file(one_tensor("F32", "[1]", "[0,4,8]"), 8)) == Error::bad_checkpoint);
    CHECK(parse_error(raw_file(one_tensor("F32", "[1]", "\"0-4\""), 4)) == Error::bad_checkpoint);
    CHECK(parse_error(raw_file("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4)) == Error::bad_checkpoint);
    CHECK(parse_error(raw_file("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4)) ==
          Error::bad_checkpoint);
    CHECK(parse_error(raw_file("{\"t\":[1]}", 4)) == Error::bad_checkpoint);
    CHECK(parse_error(raw_file("{\"__metadata__\":{\"k\":1}}", 0)) == Error::bad_checkpoint);
    CHECK(parse_error(raw_file("{\"__metadata__\":[]}", 0)) == Error::bad_checkpoint);
    // A duplicate name is a duplicate JSON key.
    const std::string dup =
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    CHECK(parse_error(raw_file(dup, 8)) == Error::bad_checkpoint);
  }
}

TEST_CASE("safetensors: open() names the file and reads the golden checkpoints") {
  auto missing = st::File::open("/nonexistent/weights.safetensors");
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == Error::io);
  const char* configs[] = {"vjepa2_tiny", "vjepa2_ac_tiny", "ijepa_tiny"};
  const size_t counts[] = {60, 52, 49};
  for (int c = 0; c < 3; ++c) {
    const std::string path = std::string(JEPA_TEST_DATA_DIR) + "/" + configs[c] + "/weights.safetensors";
    auto f = st::File::open(path);
    REQUIRE_MESSAGE(f.is_ok(), std::string(f.status().message()));
    CHECK(f->tensors().size() == counts[c]);
    REQUIRE(f->find("encoder.norm.weight") != nullptr);
    CHECK(f->find("encoder.norm.weight")->dtype == st::DType::F32);
  }
  auto f = st::File::open(std::string(JEPA_TEST_DATA_DIR) + "/vjepa2_tiny/weights.safetensors");
  REQUIRE(f.is_ok());
  CHECK(f->find("encoder.blocks.0.attn.qkv.weight")->shape == std::vector<int64_t>{288, 96});
  CHECK(f->find("encoder.patch_embed.proj.weight")->shape == std::vector<int64_t>{96, 3, 2, 16, 16});
  REQUIRE(f->find_metadata("config") != nullptr);
  CHECK(*f->find_metadata("config") == "vjepa2_tiny");
}
