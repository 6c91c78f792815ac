// jepa/runtime/thread_pool.hpp: the built-in std::thread pool behind a
// jepa::ParallelFor (runtime/parallel.hpp). Threads, mutex and condition
// variables exist from the constructor on; run() allocates nothing. The caller
// takes part in every run (T threads = T-1 workers). Idle workers sleep on a
// condition variable, so an idle engine costs no CPU (an optional bounded spin
// first: Options). The pool never re-chunks work (task i is always task i), so
// the engine's fixed chunking, and every result bit, is the same for any
// thread count. Each participant takes its own contiguous share of the
// indices first, then helps with the others' (docs/BENCHMARKS.md: a GEMM whose
// output lines stay in one core's L2 ran 1.7x faster at 2 threads than with
// one shared counter). Tasks must not throw; the pool must outlive every run.
// JEPA_NO_THREADS leaves the file out (firmware supplies its own ParallelFor).
#ifndef JEPA_RUNTIME_THREAD_POOL_HPP
#define JEPA_RUNTIME_THREAD_POOL_HPP

#include "../config.hpp"
#include "parallel.hpp"

#ifndef JEPA_NO_THREADS

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace jepa {
namespace detail {

// One polite busy-wait step (lets the sibling hyper-thread run).
inline void cpu_relax() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  // The builtin, not <immintrin.h>: the kernels include that header with GCC 12's
  // false "-Wmaybe-uninitialized" warnings silenced (x86/common-x86.hpp), and
  // a first include from here would bypass that.
  __builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
  __asm__ __volatile__("yield");
#endif
}

// The pool whose work the current thread is doing (worker threads: always
// their pool; the caller: during run()). A run() on that pool from inside a
// task is a nested run and executes serially instead of deadlocking.
inline const void*& current_pool() {
  static thread_local const void* pool = nullptr;
  return pool;
}

}  // namespace detail

class ThreadPool {
 public:
  struct Options {
    // Total concurrency including the calling thread; <= 1 means serial.
    int threads = 1;
    // How long an idle worker busy-waits for the next run before sleeping,
    // in microseconds. 0 = sleep at once (default): a spin saves back-to-back
    // runs a futex wake-up on a quiet CPU, but on a shared or oversubscribed
    // one the spinning worker steals time from the thread doing the work
    // (bench/bench_thread_pool.cpp measures both).
    int spin_us = 0;
    // How long the caller busy-waits for workers finishing their last task
    // before sleeping, in microseconds: they are busy, so the wait is short
    // and a wake-up there would sit on the critical path of every run.
    int wait_spin_us = 20;
  };

  explicit ThreadPool(int threads) : ThreadPool(make_options(threads)) {}

  explicit ThreadPool(const Options& opt)
      : spin_us_(opt.spin_us < 0 ? 0 : opt.spin_us), wait_spin_us_(opt.wait_spin_us < 0 ? 0 : opt.wait_spin_us) {
    const int want_workers = opt.threads > 1 ? opt.threads - 1 : 0;
    workers_.reserve((size_t)want_workers);
    for (int i = 0; i < want_workers; ++i) {
      if (!start_worker(i + 1)) break;  // fewer threads than asked: threads() says how many
    }
    parts_ = std::vector<Part>((size_t)threads());
  }

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true, std::memory_order_relaxed);
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads that really run concurrently (workers started + the caller).
  int threads() const { return (int)workers_.size() + 1; }

  // The handle the engine takes. Valid while the pool lives.
  ParallelFor parallel_for() {
    ParallelFor p;
    p.run = &ThreadPool::run_thunk;
    p.impl = this;
    p.threads = threads();
    return p;
  }

  // task(arg, i) exactly once for every i in [0, n); returns when all are
  // done. Runs serially when there are no workers, when called from inside one
  // of this pool's tasks (nested), or while another thread has a run going.
  void run(size_t n, TaskFn task, void* arg) {
    if (n == 0) return;
    bool expected = false;
    if (workers_.empty() || n == 1 || detail::current_pool() == this ||
        !busy_.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      for (size_t i = 0; i < n; ++i) task(arg, i);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = task;
      arg_ = arg;
      const size_t parts = parts_.size();
      for (size_t p = 0; p < parts; ++p) {
        parts_[p].next.store(n * p / parts, std::memory_order_relaxed);
        parts_[p].end = n * (p + 1) / parts;
      }
      job_open_ = true;
      generation_.store(generation_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    work_cv_.notify_all();

    const void* saved = detail::current_pool();
    detail::current_pool() = this;
    drain(task, arg, 0);
    detail::current_pool() = saved;

    // Close the job (no worker may join it now), then wait for those inside.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_open_ = false;
    }
    if (in_flight_.load(std::memory_order_acquire) != 0) wait_for_workers();
    busy_.store(false, std::memory_order_release);
  }

 private:
  static Options make_options(int threads) {
    Options o;
    o.threads = threads;
    return o;
  }

  static void run_thunk(void* impl, size_t n, TaskFn task, void* arg) {
    static_cast<ThreadPool*>(impl)->run(n, task, arg);
  }

  bool start_worker(size_t part) {
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
    try {
      workers_.emplace_back([this, part] { worker_loop(part); });
    } catch (...) {  // std::system_error: the OS refused another thread
      return false;
    }
#else
    // Without exceptions libstdc++ aborts if the OS refuses a thread; there is
    // no error value to return from std::thread in that mode.
    workers_.emplace_back([this, part] { worker_loop(part); });
#endif
    return true;
  }

  // Claims indices until none are left: first from the participant's own part
  // (the caller's is 0, worker w's is w + 1), then from the others'. Shared by
  // the caller and the workers.
  void drain(TaskFn task, void* arg, size_t own) {
    const size_t parts = parts_.size();
    for (size_t k = 0; k < parts; ++k) {
      Part& p = parts_[(own + k) % parts];
      for (;;) {
        const size_t i = p.next.fetch_add(1, std::memory_order_relaxed);
        if (i >= p.end) break;
        task(arg, i);
      }
    }
  }

  // True once `pred` holds within `us` microseconds of spinning.
  template <class Pred>
  static bool spin_until(int us, Pred pred) {
    if (us == 0) return pred();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
    for (;;) {
      for (int k = 0; k < 64; ++k) {
        if (pred()) return true;
        detail::cpu_relax();
      }
      if (std::chrono::steady_clock::now() >= deadline) return pred();
    }
  }

  void wait_for_workers() {
    if (spin_until(wait_spin_us_, [this] { return in_flight_.load(std::memory_order_acquire) == 0; })) return;
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [this] { return in_flight_.load(std::memory_order_relaxed) == 0; });
  }

  void worker_loop(size_t part) {
    detail::current_pool() = this;
    uint64_t seen = 0;
    for (;;) {
      spin_until(spin_us_, [&] {
        return generation_.load(std::memory_order_acquire) != seen ||
               stop_.load(std::memory_order_relaxed);
      });
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] {
        return stop_.load(std::memory_order_relaxed) ||
               generation_.load(std::memory_order_relaxed) != seen;
      });
      if (stop_.load(std::memory_order_relaxed)) return;
      seen = generation_.load(std::memory_order_relaxed);
      if (!job_open_) continue;  // the caller finished this job alone
      in_flight_.fetch_add(1, std::memory_order_relaxed);
      const TaskFn task = task_;
      void* const arg = arg_;
      lock.unlock();

      drain(task, arg, part);

      lock.lock();
      // Decrement under the lock: the caller checks the count under it before
      // sleeping, so this wake-up cannot be lost.
      if (in_flight_.fetch_sub(1, std::memory_order_release) == 1 && !job_open_) {
        done_cv_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  const int spin_us_;
  const int wait_spin_us_;

  std::mutex mutex_;                 // guards the job fields below and the cv waits
  std::condition_variable work_cv_;  // workers sleep here between jobs
  std::condition_variable done_cv_;  // the caller sleeps here for the last workers
  std::atomic<uint64_t> generation_{0};  // +1 per job (written under mutex_)
  std::atomic<bool> stop_{false};
  bool job_open_ = false;            // workers may still join the current job
  std::atomic<int> in_flight_{0};    // workers inside the current job (changed under mutex_)
  TaskFn task_ = nullptr;
  void* arg_ = nullptr;
  // The job's indices in one contiguous part per participant, claimed by
  // their owner first: a task index lands on the same thread job after job
  // when the workers are awake, so an op whose tiles write the same buffer
  // every layer (the arena reuses it) finds its lines in that core's cache.
  struct alignas(64) Part {
    std::atomic<size_t> next{0};  // next index to claim
    size_t end = 0;               // one past the part's last index
  };
  std::vector<Part> parts_;
  std::atomic<bool> busy_{false};    // a run() is in progress
};

}  // namespace jepa

#endif  // JEPA_NO_THREADS

#endif  // JEPA_RUNTIME_THREAD_POOL_HPP
