# The x86 kernel tests on lower CPUs than this one, under qemu-x86_64 (TCG has
# AVX2 but no AVX-512): -cpu Haswell runs the AVX2 kernels and proves nothing
# of a higher ISA leaks into them; -cpu qemu64 (SSE2 only) runs the scalar
# reference paths and checks dispatch falls back. Reduced grid
# (JEPA_TEST_SMALL=1): QEMU runs SIMD code ~60x slower.
set -euo pipefail
command -v qemu-x86_64 >/dev/null || apt-get install -y -o DPkg::Lock::Timeout=600 qemu-user
B=build-ci/release
if [ ! -x $B/tests/test_kernels ]; then
  cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=ON
  cmake --build $B -j"$JEPA_JOBS" --target test_kernels
fi
ulimit -c 0
for cpu in Haswell qemu64; do
  echo "--- test_kernels under qemu-x86_64 -cpu $cpu"
  JEPA_TEST_SMALL=1 qemu-x86_64 -cpu $cpu $B/tests/test_kernels 2>/dev/null
  JEPA_TEST_SMALL=1 qemu-x86_64 -cpu $cpu $B/tests/test_kernels -s -tc="dispatch: parse_isa and the report" 2>/dev/null \
    | sed -n '/kernel_report:/,/^$/p'
done
