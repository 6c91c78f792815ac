// tests/io/test_atomic_file.cpp: write_file_atomic leaves the old or the new
// file whatever stage fails or "crashes" (simulated power loss), after every
// byte of the write; short writes still produce the whole file.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <dirent.h>
#include <unistd.h>

#include "jepa/io/atomic_file.hpp"

using namespace jepa;
using namespace jepa::io;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/jepa-atomic-XXXXXX";
    const char* p = mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path = p;
  }
  ~TempDir() {
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") std::remove((path + "/" + n).c_str());
      }
      closedir(d);
    }
    rmdir(path.c_str());
  }
  int entries() const {
    int n = 0;
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
      closedir(d);
    }
    return n;
  }
};

std::vector<uint8_t> read_all(const std::string& path, bool* exists) {
  std::vector<uint8_t> v;
  FILE* f = std::fopen(path.c_str(), "rb");
  *exists = f != nullptr;
  if (!f) return v;
  uint8_t buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) v.insert(v.end(), buf, buf + n);
  std::fclose(f);
  return v;
}

// Acts at the `target`-th hook call (counting every call), optionally after
// capping each write to `max_write` bytes.
struct Injector {
  int target = -1;
  HookAction action = HookAction::crash;
  size_t max_write = 0;
  int calls = 0;
  WriteStage hit_stage = WriteStage::open_temp;
  static HookAction before(void* ctx, WriteStage stage, size_t, size_t* bytes) {
    Injector& in = *static_cast<Injector*>(ctx);
    if (stage == WriteStage::write && in.max_write && *bytes > in.max_write) *bytes = in.max_write;
    if (in.calls++ == in.target) {
      in.hit_stage = stage;
      return in.action;
    }
    return HookAction::proceed;
  }
  WriteHook hook() { return WriteHook{&Injector::before, this}; }
};

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (uint8_t)(seed + i * 7);
  return v;
}

}  // namespace

TEST_CASE("atomic write creates and replaces a file; parts are concatenated") {
  TempDir dir;
  const std::string path = dir.path + "/memory.bin";
  const std::vector<uint8_t> a = pattern(1000, 1), b = pattern(77, 9);
  REQUIRE(write_file_atomic(path.c_str(), a.data(), a.size()).is_ok());
  bool exists = false;
  CHECK(read_all(path, &exists) == a);
  const ConstBytes parts[3] = {{b.data(), 10}, {b.data() + 10, 0}, {b.data() + 10, 67}};
  REQUIRE(write_file_atomic(path.c_str(), parts, 3).is_ok());
  CHECK(read_all(path, &exists) == b);
  CHECK(dir.entries() == 1);  // no temp file left behind
  // A relative path in the current directory works too (its dir is ".").
  const std::string cwd_file = "jepa-atomic-test-" + std::to_string((long)getpid());
  REQUIRE(write_file_atomic(cwd_file.c_str(), a.data(), 3).is_ok());
  CHECK(read_all(cwd_file, &exists).size() == 3);
  std::remove(cwd_file.c_str());
}

TEST_CASE("a crash or failure at any stage or byte leaves the old or the new file") {
  TempDir dir;
  const std::string path = dir.path + "/memory.bin";
  const std::vector<uint8_t> old_bytes = pattern(300, 3), new_bytes = pattern(523, 11);
  for (HookAction action : {HookAction::crash, HookAction::fail}) {
    for (size_t max_write : {(size_t)0, (size_t)1, (size_t)64}) {
      // Count the hook calls of a complete save with this write size.
      Injector probe;
      probe.max_write = max_write;
      WriteHook ph = probe.hook();
      REQUIRE(write_file_atomic(path.c_str(), old_bytes.data(), old_bytes.size(), &ph).is_ok());
      const int total = probe.calls;
      CHECK(total >= 7);
      for (int k = 0; k < total; ++k) {
        REQUIRE(write_file_atomic(path.c_str(), old_bytes.data(), old_bytes.size()).is_ok());
        Injector in;
        in.target = k;
        in.action = action;
        in.max_write = max_write;
        WriteHook h = in.hook();
        const Status st = write_file_atomic(path.c_str(), new_bytes.data(), new_bytes.size(), &h);
        CHECK(st.code() == Error::io);
        bool exists = false;
        const std::vector<uint8_t> now = read_all(path, &exists);
        INFO("action ", (int)action, " max_write ", max_write, " call ", k, " stage ", (int)in.hit_stage);
        REQUIRE(exists);
        const bool committed = in.hit_stage >= WriteStage::open_dir;
        CHECK(now == (committed ? new_bytes : old_bytes));
        // A failure cleans up its temp file; a crash may leave one (ignored by readers).
        if (action == HookAction::fail) CHECK(dir.entries() == 1);
        // The next save succeeds over any leftover and cleans nothing it shouldn't.
        REQUIRE(write_file_atomic(path.c_str(), new_bytes.data(), new_bytes.size()).is_ok());
        CHECK(read_all(path, &exists) == new_bytes);
        CHECK(dir.entries() == 1);
      }
    }
  }
}

TEST_CASE("short writes still write the whole content") {
  TempDir dir;
  const std::string path = dir.path + "/f";
  const std::vector<uint8_t> data = pattern(4099, 5);
  Injector in;
  in.max_write = 13;
  WriteHook h = in.hook();
  REQUIRE(write_file_atomic(path.c_str(), data.data(), data.size(), &h).is_ok());
  bool exists = false;
  CHECK(read_all(path, &exists) == data);
  CHECK(in.calls > 4099 / 13);
}

TEST_CASE("atomic write reports bad paths") {
  const uint8_t b[1] = {1};
  Status st = write_file_atomic("/nonexistent-dir-jepa/x.bin", b, 1);
  CHECK(st.code() == Error::io);
  CHECK(std::string(st.message()).find("x.bin") != std::string::npos);
  CHECK(write_file_atomic("", b, 1).code() == Error::invalid_argument);
  CHECK(write_file_atomic("/tmp/", b, 1).code() == Error::invalid_argument);
}
