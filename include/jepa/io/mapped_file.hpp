// jepa/io/mapped_file.hpp: the bytes of a file, mapped read-only (POSIX mmap)
// or, where mapping fails, read once into one aligned heap block (the only
// allocation this header makes). Move-only; unmaps on destruction.
// Not available with JEPA_NO_FILESYSTEM: firmware passes its own bytes to
// ModelFile::open().
#ifndef JEPA_IO_MAPPED_FILE_HPP
#define JEPA_IO_MAPPED_FILE_HPP

#include "../config.hpp"
#include "../status.hpp"

#ifndef JEPA_NO_FILESYSTEM
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace jepa {

class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& o) noexcept { steal(o); }
  MappedFile& operator=(MappedFile&& o) noexcept {
    if (this != &o) { release(); steal(o); }
    return *this;
  }
  ~MappedFile() { release(); }

  // prefer_mmap = false forces the read() path (tested; also for filesystems
  // that cannot map).
  static Result<MappedFile> open(const char* path, bool prefer_mmap = true) {
    MappedFile m;
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::error(Error::io, "cannot open '%s': errno %d", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::error(Error::io, "'%s' is not a regular file", path);
    }
    m.size_ = (size_t)st.st_size;
    if (m.size_ == 0) {
      ::close(fd);
      return m;  // empty: the loader reports it as truncated
    }
    if (prefer_mmap) {
      void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        m.data_ = p;
        m.mapped_ = true;
        ::close(fd);
        return m;
      }
    }
    // Fallback: one 64-byte-aligned block, read in full.
    const size_t cap = (m.size_ + 63) & ~(size_t)63;
    m.data_ = std::aligned_alloc(64, cap);
    if (!m.data_) {
      ::close(fd);
      return Status::error(Error::out_of_memory, "cannot allocate %zu bytes for '%s'", cap, path);
    }
    size_t done = 0;
    while (done < m.size_) {
      const ssize_t r = ::read(fd, static_cast<char*>(m.data_) + done, m.size_ - done);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        ::close(fd);
        return Status::error(Error::io, "read of '%s' failed at byte %zu", path, done);
      }
      done += (size_t)r;
    }
    ::close(fd);
    return m;
  }

  const void* data() const { return data_; }
  size_t size() const { return size_; }
  bool is_mapped() const { return mapped_; }

 private:
  void release() {
    if (data_) {
      if (mapped_) ::munmap(data_, size_);
      else std::free(data_);
    }
    data_ = nullptr;
    size_ = 0;
    mapped_ = false;
  }
  void steal(MappedFile& o) {
    data_ = o.data_;
    size_ = o.size_;
    mapped_ = o.mapped_;
    o.data_ = nullptr;
    o.size_ = 0;
    o.mapped_ = false;
  }

  void* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace jepa

#endif  // JEPA_NO_FILESYSTEM
#endif  // JEPA_IO_MAPPED_FILE_HPP
