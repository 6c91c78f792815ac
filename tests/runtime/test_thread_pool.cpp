// Tests of jepa::ThreadPool (runtime/thread_pool.hpp): every index exactly
// once at 1/2/3 threads, serial and nested fallbacks, real concurrency,
// destruction while idle or sleeping, and many short runs through the sleep
// path (a lost wake-up would hang the test, which ctest reports as a failure).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "jepa/runtime/thread_pool.hpp"

#ifndef JEPA_NO_THREADS

namespace {

struct Counter {
  std::vector<std::atomic<int>> hits;
  explicit Counter(size_t n) : hits(n) {
    for (auto& h : hits) h.store(0);
  }
  static void task(void* arg, size_t i) { static_cast<Counter*>(arg)->hits[i].fetch_add(1); }
  size_t wrong() const {
    size_t bad = 0;
    for (auto& h : hits) bad += h.load() != 1;
    return bad;
  }
};

// spin_us > 0 also spins the caller's wait; 0 makes both sleep at once (the
// path where a lost wake-up would show).
jepa::ThreadPool::Options opts(int threads, int spin_us) {
  jepa::ThreadPool::Options o;
  o.threads = threads;
  o.spin_us = spin_us;
  o.wait_spin_us = spin_us;
  return o;
}

}  // namespace

TEST_CASE("thread_pool: every index runs exactly once at 1, 2 and 3 threads") {
  for (int threads : {1, 2, 3}) {
    for (int spin : {0, 50}) {
      jepa::ThreadPool pool(opts(threads, spin));
      CHECK(pool.threads() == threads);
      for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(7), size_t(64), size_t(1000),
                       size_t(100000)}) {
        Counter c(n);
        pool.run(n, &Counter::task, &c);
        INFO("threads=" << threads << " spin=" << spin << " n=" << n);
        CHECK(c.wrong() == 0);
      }
    }
  }
}

TEST_CASE("thread_pool: the ParallelFor handle runs through the pool") {
  jepa::ThreadPool pool(3);
  jepa::ParallelFor par = pool.parallel_for();
  CHECK(par.threads == 3);
  CHECK(par.impl == &pool);
  std::vector<std::atomic<int>> hits(257);
  for (auto& h : hits) h.store(0);
  auto body = [&](size_t i) { hits[i].fetch_add(1); };
  par.for_each(hits.size(), body);
  for (size_t i = 0; i < hits.size(); ++i) {
    INFO("i=" << i);
    CHECK(hits[i].load() == 1);
  }
}

TEST_CASE("thread_pool: one thread (and the default ParallelFor) run serially on the caller") {
  const std::thread::id me = std::this_thread::get_id();
  std::vector<std::thread::id> ids(100);
  auto body = [&](size_t i) { ids[i] = std::this_thread::get_id(); };
  jepa::ThreadPool pool(1);
  pool.parallel_for().for_each(ids.size(), body);
  for (auto& id : ids) CHECK((id == me));
  std::fill(ids.begin(), ids.end(), std::thread::id());
  jepa::ParallelFor serial;  // run == nullptr
  serial.for_each(ids.size(), body);
  for (auto& id : ids) CHECK((id == me));
}

TEST_CASE("thread_pool: two tasks really run at the same time with 2 threads") {
  // Each task waits until the other has started; with no concurrency the
  // first would time out. 10 s is far beyond any scheduling delay.
  jepa::ThreadPool pool(opts(2, 0));
  std::atomic<int> started{0};
  std::atomic<int> timed_out{0};
  auto body = [&](size_t) {
    started.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < 2) {
      if (std::chrono::steady_clock::now() > deadline) {
        timed_out.fetch_add(1);
        return;
      }
      std::this_thread::yield();
    }
  };
  pool.parallel_for().for_each(2, body);
  CHECK(started.load() == 2);
  CHECK(timed_out.load() == 0);
}

TEST_CASE("thread_pool: a nested run executes serially on the task's own thread") {
  jepa::ThreadPool pool(3);
  const size_t outer = 16, inner = 32;
  std::vector<std::atomic<int>> hits(outer * inner);
  for (auto& h : hits) h.store(0);
  std::atomic<int> foreign{0};  // inner task not on its outer task's thread
  auto body = [&](size_t o) {
    const std::thread::id mine = std::this_thread::get_id();
    auto inner_body = [&](size_t i) {
      if (std::this_thread::get_id() != mine) foreign.fetch_add(1);
      hits[o * inner + i].fetch_add(1);
    };
    pool.parallel_for().for_each(inner, inner_body);
  };
  pool.parallel_for().for_each(outer, body);
  CHECK(foreign.load() == 0);
  size_t bad = 0;
  for (auto& h : hits) bad += h.load() != 1;
  CHECK(bad == 0);
}

TEST_CASE("thread_pool: runs from two outside threads at once both complete") {
  // The second caller finds the pool busy and runs its job serially.
  jepa::ThreadPool pool(2);
  const size_t n = 5000;
  Counter a(n), b(n);
  std::thread other([&] {
    for (int r = 0; r < 50; ++r) {
      Counter c(n);
      pool.run(n, &Counter::task, &c);
      if (c.wrong() != 0) b.hits[0].fetch_add(100);  // flag a failure, checked below
    }
  });
  for (int r = 0; r < 50; ++r) {
    Counter c(n);
    pool.run(n, &Counter::task, &c);
    CHECK(c.wrong() == 0);
  }
  other.join();
  CHECK(b.hits[0].load() == 0);
  (void)a;
}

TEST_CASE("thread_pool: destruction while idle, spinning or asleep") {
  for (int threads : {1, 2, 3}) {
    { jepa::ThreadPool never_used(threads); }
    {
      jepa::ThreadPool just_ran(opts(threads, 1000));  // workers still spinning
      Counter c(10);
      just_ran.run(10, &Counter::task, &c);
      CHECK(c.wrong() == 0);
    }
    {
      jepa::ThreadPool asleep(opts(threads, 0));
      Counter c(10);
      asleep.run(10, &Counter::task, &c);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // workers go to sleep
      CHECK(c.wrong() == 0);
    }
  }
}

TEST_CASE("thread_pool: many short runs lose no wake-up") {
  for (int spin : {0, 20}) {
    for (int threads : {2, 3}) {
      jepa::ThreadPool pool(opts(threads, spin));
      std::atomic<uint64_t> sum{0};
      auto body = [&](size_t i) { sum.fetch_add(i + 1); };
      const int runs = 20000;
      uint64_t expect = 0;
      for (int r = 0; r < runs; ++r) {
        const size_t n = 2 + (size_t)(r % 3);
        pool.parallel_for().for_each(n, body);
        expect += n * (n + 1) / 2;
      }
      INFO("threads=" << threads << " spin=" << spin);
      CHECK(sum.load() == expect);
    }
  }
}

TEST_CASE("thread_pool: many short runs with workers joining in") {
  // Tasks of a few microseconds, so workers wake up and take part in most
  // runs (tiny tasks above are often all done by the caller alone).
  const std::thread::id me = std::this_thread::get_id();
  for (int spin : {0, 20}) {
    jepa::ThreadPool pool(opts(2, spin));
    std::atomic<uint64_t> sum{0};
    std::atomic<int> on_worker{0};
    auto body = [&](size_t i) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(3);
      while (std::chrono::steady_clock::now() < until) {
      }
      if (std::this_thread::get_id() != me) on_worker.fetch_add(1);
      sum.fetch_add(i + 1);
    };
    const int runs = 3000;
    for (int r = 0; r < runs; ++r) pool.parallel_for().for_each(4, body);
    CHECK(sum.load() == (uint64_t)runs * 10);
    MESSAGE("spin_us=" << spin << ": " << on_worker.load() << " of " << runs * 4 << " tasks ran on the worker");
  }
}

#endif  // JEPA_NO_THREADS
