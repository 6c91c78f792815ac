// jepa/status.hpp: errors as values.
//
// Every fallible call in jepa-rt returns a Status (or a Result<T>, a value plus
// a Status). A Status carries a machine-readable Error code and a short
// human-readable message naming the problem (which tensor, which offset, what
// was expected). It never allocates: the message lives in a fixed buffer, so
// errors can be reported from firmware with no heap and with -fno-exceptions.
#ifndef JEPA_STATUS_HPP
#define JEPA_STATUS_HPP

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

namespace jepa {

// Stable numeric values: tools print them and tests assert them.
enum class Error : uint16_t {
  ok = 0,
  // --- file and format ---------------------------------------------------
  io = 1,                     // open/read/mmap/write failed
  truncated = 2,              // the bytes end before a structure does
  bad_magic = 3,              // not a .jepa file
  unsupported_version = 4,    // major version this reader does not know
  unknown_required_feature = 5,
  header_crc_mismatch = 6,
  table_crc_mismatch = 7,     // hyper-parameter table / tensor directory
  tensor_crc_mismatch = 8,
  out_of_range = 9,           // an offset or size points outside the file
  overlapping_tensors = 10,
  misaligned = 11,
  unknown_dtype = 12,
  size_mismatch = 13,         // byte size disagrees with dtype x shape x layout
  duplicate_name = 14,
  missing_tensor = 15,        // the model kind requires a tensor the file lacks
  non_finite = 16,            // NaN/Inf where a finite value is required (scales)
  bad_hparam = 17,            // missing, mistyped or out-of-range hyper-parameter
  bad_name = 18,              // tensor/key name not NUL-terminated or empty
  unknown_layout = 19,
  bad_file_size = 20,         // header's file_size differs from the bytes given
  unknown_model_kind = 21,
  bad_tensor_data = 22,       // values break what their tensor's flags promise (q7 bound, row sums)
  // --- API use -----------------------------------------------------------
  invalid_argument = 40,
  shape_mismatch = 41,        // an input's shape does not fit the model
  out_of_memory = 42,         // the arena (or a caller buffer) is too small
  unsupported = 43,           // valid, but not implemented by this build
  not_found = 44,
  // --- conversion --------------------------------------------------------
  bad_checkpoint = 60,        // safetensors / JSON parse errors
  unexpected_tensor = 61,     // checkpoint holds a tensor the model does not use
};

inline const char* error_name(Error e) {
  switch (e) {
    case Error::ok: return "ok";
    case Error::io: return "io";
    case Error::truncated: return "truncated";
    case Error::bad_magic: return "bad_magic";
    case Error::unsupported_version: return "unsupported_version";
    case Error::unknown_required_feature: return "unknown_required_feature";
    case Error::header_crc_mismatch: return "header_crc_mismatch";
    case Error::table_crc_mismatch: return "table_crc_mismatch";
    case Error::tensor_crc_mismatch: return "tensor_crc_mismatch";
    case Error::out_of_range: return "out_of_range";
    case Error::overlapping_tensors: return "overlapping_tensors";
    case Error::misaligned: return "misaligned";
    case Error::unknown_dtype: return "unknown_dtype";
    case Error::size_mismatch: return "size_mismatch";
    case Error::duplicate_name: return "duplicate_name";
    case Error::missing_tensor: return "missing_tensor";
    case Error::non_finite: return "non_finite";
    case Error::bad_hparam: return "bad_hparam";
    case Error::bad_name: return "bad_name";
    case Error::unknown_layout: return "unknown_layout";
    case Error::bad_file_size: return "bad_file_size";
    case Error::unknown_model_kind: return "unknown_model_kind";
    case Error::bad_tensor_data: return "bad_tensor_data";
    case Error::invalid_argument: return "invalid_argument";
    case Error::shape_mismatch: return "shape_mismatch";
    case Error::out_of_memory: return "out_of_memory";
    case Error::unsupported: return "unsupported";
    case Error::not_found: return "not_found";
    case Error::bad_checkpoint: return "bad_checkpoint";
    case Error::unexpected_tensor: return "unexpected_tensor";
  }
  return "unknown_error";
}

class Status {
 public:
  static constexpr size_t kMessageCapacity = 200;

  Status() = default;  // ok

  static Status ok() { return Status(); }

  // printf-style message; truncated to kMessageCapacity-1 characters.
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  static Status error(Error code, const char* fmt, ...) {
    Status s;
    s.code_ = code;
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(s.message_, kMessageCapacity, fmt, args);
    va_end(args);
    return s;
  }

  bool is_ok() const { return code_ == Error::ok; }
  explicit operator bool() const { return is_ok(); }
  Error code() const { return code_; }
  const char* message() const { return code_ == Error::ok ? "ok" : message_; }

 private:
  Error code_ = Error::ok;
  char message_[kMessageCapacity] = {0};
};

// A value or an error. T need not be default-constructible.
template <class T>
class Result {
 public:
  Result(T value) : has_(true) { new (&storage_) T(std::move(value)); }  // NOLINT: implicit by design
  Result(Status status) : status_(status) {                              // NOLINT
    ensure_error(status_);
  }
  Result(const Result& o) : status_(o.status_), has_(o.has_) {
    if (has_) new (&storage_) T(o.value());
  }
  Result(Result&& o) noexcept : status_(o.status_), has_(o.has_) {
    if (has_) new (&storage_) T(std::move(o.value()));
  }
  Result& operator=(const Result&) = delete;
  Result& operator=(Result&&) = delete;
  ~Result() {
    if (has_) value().~T();
  }

  bool is_ok() const { return has_; }
  explicit operator bool() const { return has_; }
  const Status& status() const { return status_; }
  T& value() { return *reinterpret_cast<T*>(&storage_); }
  const T& value() const { return *reinterpret_cast<const T*>(&storage_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

 private:
  // A Result built from an ok Status would hold no value; make that an error.
  static void ensure_error(Status& s) {
    if (s.is_ok()) s = Status::error(Error::invalid_argument, "Result built from an ok Status");
  }
  Status status_;
  bool has_ = false;
  alignas(T) unsigned char storage_[sizeof(T)];
};

}  // namespace jepa

// Propagate a non-ok Status from an expression to the caller.
#define JEPA_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::jepa::Status jepa_status_ = (expr);   \
    if (!jepa_status_.is_ok()) return jepa_status_; \
  } while (0)

#endif  // JEPA_STATUS_HPP
