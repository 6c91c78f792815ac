// jepa/jepa.hpp: the umbrella header. Include this one; it pulls in every
// public part of jepa-rt (see docs/DESIGN.md for the layers). Configuration
// macros are listed in jepa/config.hpp.
#ifndef JEPA_JEPA_HPP
#define JEPA_JEPA_HPP

#include "config.hpp"
#include "status.hpp"

#include "format/crc32c.hpp"
#include "format/format.hpp"
#include "format/loader.hpp"
#include "format/model_file.hpp"
#include "format/writer.hpp"

#include "io/mapped_file.hpp"

#include "runtime/arena.hpp"
#include "runtime/parallel.hpp"
#include "runtime/thread_pool.hpp"

#include "kernels/dispatch.hpp"
#include "kernels/gemm.hpp"
#include "kernels/quantize.hpp"
#include "kernels/repack.hpp"

#include "ops/activations.hpp"
#include "ops/attention.hpp"
#include "ops/kv_dtype.hpp"
#include "ops/layernorm.hpp"
#include "ops/linear.hpp"
#include "ops/linear_layernorm.hpp"
#include "ops/rope.hpp"
#include "ops/softmax.hpp"

#include "models/kinds.hpp"

#include "plan/plan.hpp"

#endif  // JEPA_JEPA_HPP
