# AArch64 cross build (baseline ARMv8-A; the dotprod / i8mm kernels are compiled
# in with per-function targets and chosen at run time from HWCAP) and the whole
# ctest suite under qemu-aarch64 as three CPUs: cortex-a53 (NEON only),
# cortex-a76 (+ dotprod, fp16) and max (+ i8mm, bf16, SVE). Each run first logs
# which kernel dispatch picks for every weight format (kernel_report), and the
# ARM dispatch test checks that the detected level is the one expected.
# QEMU runs SIMD code ~30-70x slower: JEPA_TEST_SMALL=1 shrinks the kernel grids.
set -euo pipefail
need=()
command -v aarch64-linux-gnu-g++ > /dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 > /dev/null || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 -q update
  $SUDO apt-get -o DPkg::Lock::Timeout=600 -q install -y --no-install-recommends "${need[@]}"
fi
ulimit -c 0  # a crashing guest must not leave qemu_*.core files behind
JOBS="${JEPA_JOBS:-2}"
B=build-ci/aarch64
cmake -S . -B $B -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DJEPA_BUILD_TESTS=ON -DJEPA_BUILD_TOOLS=ON -DJEPA_BUILD_EXAMPLES=OFF \
  -DJEPA_WERROR=OFF
cmake --build $B -j"$JOBS"
export JEPA_TEST_SMALL=1
export ASAN_OPTIONS=detect_leaks=0  # LeakSanitizer cannot run under qemu-user (if sanitizers are on)
for cpu in cortex-a53:neon cortex-a76:neondot max:i8mm; do
  model=${cpu%%:*}
  echo "--- qemu-aarch64 -cpu $model"
  QEMU_CPU=$model JEPA_EXPECT_ARM_ISA=${cpu##*:} qemu-aarch64 -L /usr/aarch64-linux-gnu \
    $B/tests/test_kernels -tc="arm: kernel report*" 2>&1 | sed -n '/MESSAGE/,/^====/p' | grep -v '^===='
  # Left out: the planning suites (plan, plan_alloc: CEM/MPPI rollouts take many
  # minutes under QEMU and sit above ops::linear, which the others cover), and
  # export_checkpoint (host Python that execs the tools directly: aarch64 binaries).
  # The whole suite on max (every kernel level runs there); on the lower CPUs the
  # suites whose code paths differ by CPU: kernels (dispatch picks other
  # kernels), the loader, and jepa-verify of every golden case (models on the
  # kernels that CPU gets).
  subset=()
  [ "$model" = max ] || subset=(-R '^format$|^io$|^kernels$|^verify_')
  QEMU_CPU=$model JEPA_EXPECT_ARM_ISA=${cpu##*:} ctest --test-dir $B --output-on-failure -j"$JOBS" \
    -E '^plan|^export_checkpoint$' "${subset[@]}"
done
