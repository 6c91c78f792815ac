// tools/common/kernel_tables.cpp: the one translation unit of our own programs
// (tools, tests, benchmarks) that compiles the kernel tables, and so every
// SIMD kernel; the others build with JEPA_KERNELS_EXTERN and only declare
// them (config.hpp). Users get the same split with these two lines in one of
// their .cpp files, or keep the default header-only build.
#define JEPA_KERNELS_IMPLEMENTATION
#include "jepa/jepa.hpp"
