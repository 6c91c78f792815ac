# Cross toolchain for 32-bit ARM Linux, ARMv7-A + NEON/VFPv4, hard float
# (Debian: g++-arm-linux-gnueabihf, qemu-user). Tests run under qemu-arm; pick the
# core with QEMU_CPU (cortex-a7, cortex-a15, max). AArch32 dotprod cannot be detected
# at run time under qemu-arm, so armhf is treated as a NEON baseline target.
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm-linux-gnueabihf.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)

set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
# NEON + fused multiply-add (VFPv4: Cortex-A7/A15 and later). -Wno-psabi: GCC's
# harmless note that std::vector argument passing changed in GCC 7.1.
set(CMAKE_C_FLAGS_INIT "-mfpu=neon-vfpv4 -Wno-psabi")
set(CMAKE_CXX_FLAGS_INIT "-mfpu=neon-vfpv4 -Wno-psabi")

set(JEPA_ARMHF_RUNTIME /usr/arm-linux-gnueabihf)
find_program(JEPA_QEMU_ARM qemu-arm REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${JEPA_QEMU_ARM};-L;${JEPA_ARMHF_RUNTIME}")  # no -cpu: QEMU_CPU decides

set(CMAKE_FIND_ROOT_PATH ${JEPA_ARMHF_RUNTIME})
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
