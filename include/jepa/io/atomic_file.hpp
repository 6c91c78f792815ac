// jepa/io/atomic_file.hpp: replace a file so that a crash or power loss at any
// moment leaves either the complete old file or the complete new one.
//
// Recipe (POSIX): write everything to a temporary file in the same directory
// (`<path>.tmp-<pid>`, same filesystem so rename is atomic), fsync it, close,
// rename() it over the target, then fsync the directory so the rename itself
// is durable. Readers never look at temporary files. A WriteHook sees every
// syscall stage before it runs and may make it fail (an error: the temp file
// is removed) or "crash" there (stop dead, leaving the disk as a power cut
// would), and may cap how many bytes one write() moves, which is how the tests
// interrupt a save at every stage and after every byte. No heap allocation.
// Absent with JEPA_NO_FILESYSTEM.
#ifndef JEPA_IO_ATOMIC_FILE_HPP
#define JEPA_IO_ATOMIC_FILE_HPP

#include "../config.hpp"
#include "../status.hpp"

#ifndef JEPA_NO_FILESYSTEM
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace jepa {
namespace io {

enum class WriteStage : uint8_t {
  open_temp = 0,  // open(<path>.tmp-<pid>, O_CREAT|O_TRUNC|O_WRONLY)
  write = 1,      // each write() call; `offset` = bytes already written
  fsync_file = 2,
  close_file = 3,
  rename = 4,     // the commit point: before it the old file is intact
  open_dir = 5,
  fsync_dir = 6,
};

enum class HookAction : uint8_t {
  proceed = 0,  // run the syscall
  fail = 1,     // pretend it failed (errno EIO): the save returns Error::io and removes the temp file
  crash = 2,    // stop right here, touching nothing more (simulated power loss); returns Error::io
};

struct WriteHook {
  // Called before each syscall. For WriteStage::write, *bytes is the size of
  // the coming write() and may be lowered (a short write; 0 is raised to 1).
  HookAction (*before)(void* ctx, WriteStage stage, size_t offset, size_t* bytes) = nullptr;
  void* ctx = nullptr;
};

// A contiguous piece of the file's content; a save writes parts in order.
struct ConstBytes {
  const void* data;
  size_t size;
};

namespace detail {

inline HookAction ask(const WriteHook* hook, WriteStage stage, size_t offset, size_t* bytes) {
  if (hook == nullptr || hook->before == nullptr) return HookAction::proceed;
  return hook->before(hook->ctx, stage, offset, bytes);
}

// "<path>.tmp-<pid>" and the directory of `path`, in caller buffers.
inline Status temp_and_dir(const char* path, char* temp, size_t temp_cap, char* dir, size_t dir_cap) {
  const size_t n = std::strlen(path);
  if (n == 0 || path[n - 1] == '/') return Status::error(Error::invalid_argument, "bad file path '%s'", path);
  const int t = std::snprintf(temp, temp_cap, "%s.tmp-%ld", path, (long)::getpid());
  if (t < 0 || (size_t)t >= temp_cap) return Status::error(Error::invalid_argument, "path too long: '%s'", path);
  const char* slash = std::strrchr(path, '/');
  if (slash == nullptr) {
    std::snprintf(dir, dir_cap, ".");
  } else {
    const size_t d = slash == path ? 1 : (size_t)(slash - path);  // "/x" -> "/"
    if (d >= dir_cap) return Status::error(Error::invalid_argument, "path too long: '%s'", path);
    std::memcpy(dir, path, d);
    dir[d] = '\0';
  }
  return Status::ok();
}

inline Status stage_error(const char* what, const char* path, int err) {
  return Status::error(Error::io, "atomic save of '%s': %s failed (errno %d: %s)", path, what, err,
                       std::strerror(err));
}

}  // namespace detail

// Writes parts[0..n) to `path` atomically (see the header comment). On any
// error before the rename the old file is untouched and the temp file removed.
// An error from the directory stages (after the rename) means the new file is
// in place but its durability across a power cut was not confirmed.
inline Status write_file_atomic(const char* path, const ConstBytes* parts, size_t n_parts,
                                const WriteHook* hook = nullptr) {
  char temp[4096 + 32], dir[4096];
  JEPA_RETURN_IF_ERROR(detail::temp_and_dir(path, temp, sizeof(temp), dir, sizeof(dir)));
  size_t none = 0;
  HookAction act = detail::ask(hook, WriteStage::open_temp, 0, &none);
  if (act == HookAction::crash) return detail::stage_error("open (simulated crash)", path, EIO);
  const int fd = act == HookAction::fail ? -1 : ::open(temp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return detail::stage_error("open of the temp file", path, act == HookAction::fail ? EIO : errno);

  // From here on a failure removes the temp file; a crash leaves it as it is.
  auto abandon = [&](const char* what, int err) {
    ::close(fd);
    ::unlink(temp);
    return detail::stage_error(what, path, err);
  };
  size_t offset = 0;
  for (size_t p = 0; p < n_parts; ++p) {
    const uint8_t* bytes = static_cast<const uint8_t*>(parts[p].data);
    size_t left = parts[p].size;
    while (left > 0) {
      size_t chunk = left;
      act = detail::ask(hook, WriteStage::write, offset, &chunk);
      if (act == HookAction::crash) return detail::stage_error("write (simulated crash)", path, EIO);
      if (act == HookAction::fail) return abandon("write", EIO);
      if (chunk == 0) chunk = 1;
      if (chunk > left) chunk = left;
      const ssize_t w = ::write(fd, bytes, chunk);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return abandon("write", w < 0 ? errno : EIO);
      bytes += w;
      left -= (size_t)w;
      offset += (size_t)w;
    }
  }
  act = detail::ask(hook, WriteStage::fsync_file, offset, &none);
  if (act == HookAction::crash) return detail::stage_error("fsync (simulated crash)", path, EIO);
  if (act == HookAction::fail || ::fsync(fd) != 0) return abandon("fsync", act == HookAction::fail ? EIO : errno);
  act = detail::ask(hook, WriteStage::close_file, offset, &none);
  if (act == HookAction::crash) return detail::stage_error("close (simulated crash)", path, EIO);
  if (act == HookAction::fail) return abandon("close", EIO);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp);
    return detail::stage_error("close", path, err);
  }
  act = detail::ask(hook, WriteStage::rename, offset, &none);
  if (act == HookAction::crash) return detail::stage_error("rename (simulated crash)", path, EIO);
  if (act == HookAction::fail || ::rename(temp, path) != 0) {
    const int err = act == HookAction::fail ? EIO : errno;
    ::unlink(temp);
    return detail::stage_error("rename", path, err);
  }
  // Committed: the new file is in place. Make the directory entry durable.
  act = detail::ask(hook, WriteStage::open_dir, offset, &none);
  if (act == HookAction::crash) return detail::stage_error("open dir (simulated crash)", path, EIO);
  const int dfd = act == HookAction::fail ? -1 : ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return detail::stage_error("open of the directory", path, act == HookAction::fail ? EIO : errno);
  act = detail::ask(hook, WriteStage::fsync_dir, offset, &none);
  if (act == HookAction::crash) return detail::stage_error("fsync dir (simulated crash)", path, EIO);
  const int rc = act == HookAction::fail ? -1 : ::fsync(dfd);
  const int err = act == HookAction::fail ? EIO : errno;
  ::close(dfd);
  if (rc != 0) return detail::stage_error("fsync of the directory", path, err);
  return Status::ok();
}

inline Status write_file_atomic(const char* path, const void* data, size_t size, const WriteHook* hook = nullptr) {
  const ConstBytes part{data, size};
  return write_file_atomic(path, &part, 1, hook);
}

}  // namespace io
}  // namespace jepa

#endif  // JEPA_NO_FILESYSTEM
#endif  // JEPA_IO_ATOMIC_FILE_HPP
