// jepa/runtime/parallel.hpp: how the engine runs work on several threads.
//
// The engine never creates threads itself; it calls a ParallelFor that the
// caller supplies (an RTOS task pool, OpenMP, the built-in pool in
// runtime/thread_pool.hpp, ...). The default runs serially. Work is always
// split into the same fixed chunks whatever the thread count, and each output
// element is produced by exactly one chunk with the same arithmetic, so
// results are bit-identical for any number of threads.
#ifndef JEPA_RUNTIME_PARALLEL_HPP
#define JEPA_RUNTIME_PARALLEL_HPP

#include <cstddef>

namespace jepa {

// task(arg, i) for every i in [0, n), in any order, possibly concurrently;
// returns when all are done.
using TaskFn = void (*)(void* arg, size_t i);

struct ParallelFor {
  void (*run)(void* impl, size_t n, TaskFn task, void* arg) = nullptr;  // null: serial
  void* impl = nullptr;
  int threads = 1;  // how many run concurrently (a hint for chunking only)

  void operator()(size_t n, TaskFn task, void* arg) const {
    if (run == nullptr || threads <= 1 || n <= 1) {
      for (size_t i = 0; i < n; ++i) task(arg, i);
    } else {
      run(impl, n, task, arg);
    }
  }

  // Convenience for lambdas: f(i) for i in [0, n).
  template <class F>
  void for_each(size_t n, F& f) const {
    (*this)(n, [](void* a, size_t i) { (*static_cast<F*>(a))(i); }, &f);
  }
};

}  // namespace jepa

#endif  // JEPA_RUNTIME_PARALLEL_HPP
