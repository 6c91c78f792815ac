// The one TU of consumer_extern that compiles the kernel tables (README,
// "Configuration macros"); the target defines JEPA_KERNELS_EXTERN for all.
#define JEPA_KERNELS_IMPLEMENTATION
#include <jepa/jepa.hpp>
