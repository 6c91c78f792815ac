# The AVX-512 / VNNI / BF16 kernels' logic on any x86 machine: the kernel test
# compiled against SIMDe (portable implementations of the intrinsics) and run
# against the scalar reference (tests/kernels_emu). Native AVX-512 runs happen
# in step 10 wherever the CPU has it.
set -euo pipefail
[ -f /usr/include/simde/x86/avx512.h ] || apt-get install -y -o DPkg::Lock::Timeout=600 libsimde-dev
B=build-ci/x86-emu
cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=ON -DJEPA_BUILD_TOOLS=OFF \
  -DJEPA_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS="-DJEPA_TEST_X86_EMULATE=1"
cmake --build $B -j"$JEPA_JOBS" --target test_kernels_emu
$B/tests/test_kernels_emu
