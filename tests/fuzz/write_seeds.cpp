// write_seeds DIR: the fuzzer's seed corpus. Each seed is one mode byte (see
// fuzz_model_file.cpp) followed by a .jepa file: the sample model, raw and
// resealed, plus an empty-tensor model and a model with only hyper-parameters.
#include <cstdio>
#include <string>

#include "common/model_bytes.hpp"

static bool write(const std::string& path, uint8_t mode, const std::vector<uint8_t>& b) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  std::fputc(mode, f);
  std::fwrite(b.data(), 1, b.size(), f);
  return std::fclose(f) == 0;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  const auto sample = jepa_test::sample_model_bytes();
  jepa::format::Writer hp_only("test.hparams");
  hp_only.add_int("depth", 1);
  hp_only.add_ints("grid", {1, 2, 3});
  hp_only.add_string("name", "x");
  const auto small = hp_only.finish();
  bool ok = write(dir + "/sample_raw", 0, sample) && write(dir + "/sample_reseal", 1, sample);
  ok = ok && small.is_ok() && write(dir + "/hparams_reseal", 1, small.value());
  return ok ? 0 : 1;
}
