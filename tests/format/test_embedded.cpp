// Loading from memory: the sample model linked into the binary as a const
// array (as in flash) and the same bytes from a file, mapped and read.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "jepa/format/loader.hpp"
#include "jepa/format/model_file.hpp"
#include "sample_model_array.inc"

TEST_CASE("embedded: a model linked as a const array loads in place") {
  auto f = jepa::ModelFile::open(jepa_sample_model, jepa_sample_model_size);
  REQUIRE_MESSAGE(f.is_ok(), f.status().message());
  CHECK(std::string(f->kind()) == "test.sample");
  auto t = f->find("layer.weight");
  REQUIRE(t.is_ok());
  // Zero-copy: the tensor's data points into the array itself.
  const auto* p = static_cast<const unsigned char*>(t->data);
  CHECK(p >= jepa_sample_model);
  CHECK(p + t->bytes <= jepa_sample_model + jepa_sample_model_size);
}

TEST_CASE("embedded: the file the build wrote loads mapped and read, same bytes") {
  const std::string path = std::string(JEPA_SAMPLE_DIR) + "/sample.jepa";
  auto mapped = jepa::LoadedFile::open(path.c_str());
  REQUIRE_MESSAGE(mapped.is_ok(), mapped.status().message());
  CHECK(mapped->mapping().is_mapped());
  auto read = jepa::LoadedFile::open(path.c_str(), {}, /*prefer_mmap=*/false);
  REQUIRE(read.is_ok());
  CHECK(!read->mapping().is_mapped());
  REQUIRE(mapped->mapping().size() == jepa_sample_model_size);
  CHECK(std::memcmp(mapped->mapping().data(), jepa_sample_model, jepa_sample_model_size) == 0);
  CHECK(std::memcmp(read->mapping().data(), jepa_sample_model, jepa_sample_model_size) == 0);
}

TEST_CASE("embedded: missing and empty files give io / truncated errors") {
  auto none = jepa::LoadedFile::open("/nonexistent/dir/model.jepa");
  CHECK(none.status().code() == jepa::Error::io);
  const std::string empty = std::string(JEPA_SAMPLE_DIR) + "/empty.jepa";
  FILE* f = std::fopen(empty.c_str(), "wb");
  REQUIRE(f);
  std::fclose(f);
  auto e = jepa::LoadedFile::open(empty.c_str());
  CHECK(e.status().code() == jepa::Error::truncated);
}
