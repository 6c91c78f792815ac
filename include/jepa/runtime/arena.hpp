// jepa/runtime/arena.hpp: the planned activation memory.
//
// An Arena is a bump allocator over one caller-visible buffer. Models run a
// planning pass first (an Arena with no buffer only counts bytes: measure
// mode), so the exact size for a given input shape is known before anything
// runs; then the caller passes a buffer of that size (firmware) or lets the
// engine allocate it once. Nothing on the hot path touches the heap.
#ifndef JEPA_RUNTIME_ARENA_HPP
#define JEPA_RUNTIME_ARENA_HPP

#include <cstddef>
#include <cstdint>

#include "../status.hpp"

namespace jepa {

class Arena {
 public:
  static constexpr size_t kAlign = 64;  // cache line / widest SIMD load

  Arena() = default;  // measure mode: allocations are counted, not served
  Arena(void* buffer, size_t bytes) : base_(static_cast<uint8_t*>(buffer)), capacity_(bytes) {}

  bool measuring() const { return base_ == nullptr; }

  // Returns an aligned block, or nullptr when the buffer is too small (the
  // overflow is remembered: check status() after a pass). In measure mode it
  // returns nullptr and only advances the count; callers in a planning pass
  // must not dereference.
  void* allocate(size_t bytes) {
    size_t start = (used_ + kAlign - 1) & ~(kAlign - 1);
    if (bytes > SIZE_MAX - start) { overflow_ = true; return nullptr; }
    size_t end = start + bytes;
    if (end > peak_) peak_ = end;
    if (measuring()) { used_ = end; return nullptr; }
    if (end > capacity_) { overflow_ = true; return nullptr; }
    used_ = end;
    return base_ + start;
  }

  template <class T>
  T* alloc(size_t count) { return static_cast<T*>(allocate(count * sizeof(T))); }

  // Scoped reuse: everything allocated after mark() is released by reset_to().
  size_t mark() const { return used_; }
  void reset_to(size_t mark) { used_ = mark; }
  void reset() { used_ = 0; }

  size_t used() const { return used_; }
  size_t peak() const { return peak_; }      // the arena size a pass needs
  size_t capacity() const { return capacity_; }

  Status status() const {
    if (!overflow_) return Status::ok();
    return Status::error(Error::out_of_memory, "arena too small: needs %zu bytes, has %zu",
                         peak_, capacity_);
  }

 private:
  uint8_t* base_ = nullptr;
  size_t capacity_ = 0;
  size_t used_ = 0;
  size_t peak_ = 0;
  bool overflow_ = false;
};

// RAII scope: frees the arena back to where it was on construction.
class ArenaScope {
 public:
  explicit ArenaScope(Arena& a) : arena_(a), mark_(a.mark()) {}
  ~ArenaScope() { arena_.reset_to(mark_); }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;

 private:
  Arena& arena_;
  size_t mark_;
};

}  // namespace jepa

#endif  // JEPA_RUNTIME_ARENA_HPP
