# Cross toolchain for 64-bit ARM Linux (Debian: g++-aarch64-linux-gnu, qemu-user).
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake
#   cmake --build build-arm64 -j2 && QEMU_CPU=cortex-a76 ctest --test-dir build-arm64
# Tests then run under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR). The baseline is
# plain ARMv8-A (no -march): the dotprod/i8mm/SVE kernels carry per-function target
# attributes and are chosen at run time from getauxval(AT_HWCAP/AT_HWCAP2).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# The target's ld.so, libc and libstdc++ (libc6-arm64-cross & co.).
set(JEPA_AARCH64_RUNTIME /usr/aarch64-linux-gnu)

# No -cpu here: QEMU would then ignore QEMU_CPU, which the CI step uses to run the
# same binaries as cortex-a53 (NEON), cortex-a76 (dotprod) and max (i8mm, SVE).
find_program(JEPA_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${JEPA_QEMU_AARCH64};-L;${JEPA_AARCH64_RUNTIME}")

# Debian 12's aarch64 GCC 12.2 dies with "internal compiler error: in
# vect_transform_reduction" when it vectorizes an fmax/fmin reduction that widens
# float to double, e.g. "double m = 0; ... m = std::fmax(m, (double)a[i] - b[i]);"
# (tests compare results that way), at -O3 and, once inlined, at -O2 too.
# -fno-builtin-fmax/-fmin make those libm calls, which are never vectorized (the
# float overloads, __builtin_fmaxf, are unaffected and do not trigger it).
# Release is -O2 rather than CMake's -O3, one step further from that vectorizer;
# the kernels are intrinsics and lose nothing. (Cache entries, because CMake
# appends its own -O3 to a *_INIT value; override on the command line.)
set(CMAKE_C_FLAGS_INIT "-fno-builtin-fmax -fno-builtin-fmin")
set(CMAKE_CXX_FLAGS_INIT "-fno-builtin-fmax -fno-builtin-fmin")
set(CMAKE_C_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Release flags (see toolchain file)")
set(CMAKE_CXX_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Release flags (see toolchain file)")

# Libraries come from the cross runtime or Debian multiarch (/usr/lib/aarch64-linux-gnu),
# never from the x86 host; headers and CMake packages may come from the host, which is
# right for the architecture-independent header-only ones (doctest, Eigen).
set(CMAKE_FIND_ROOT_PATH ${JEPA_AARCH64_RUNTIME})
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
