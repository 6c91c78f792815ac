// jepa/format/loader.hpp: open a .jepa file from a path in one call.
// LoadedFile owns the mapping and the validated view of it; the tensors are
// used in place (zero-copy) for as long as it lives. For bytes already in
// memory (a const array in flash), use ModelFile::open() directly.
#ifndef JEPA_FORMAT_LOADER_HPP
#define JEPA_FORMAT_LOADER_HPP

#include "../io/mapped_file.hpp"
#include "model_file.hpp"

#ifndef JEPA_NO_FILESYSTEM
namespace jepa {

class LoadedFile {
 public:
  static Result<LoadedFile> open(const char* path, const LoadOptions& opt = {}, bool prefer_mmap = true) {
    Result<MappedFile> m = MappedFile::open(path, prefer_mmap);
    if (!m) return m.status();
    LoadedFile lf;
    lf.map_ = std::move(m.value());
    Result<ModelFile> f = ModelFile::open(lf.map_.data(), lf.map_.size(), opt);
    if (!f) {
      // Name the file in the message: tools print it as it is.
      return Status::error(f.status().code(), "%s: %s", path, f.status().message());
    }
    lf.file_ = f.value();
    return lf;
  }

  const ModelFile& file() const { return file_; }
  ModelFile& file() { return file_; }  // e.g. for kernels::RepackedWeights::apply
  const MappedFile& mapping() const { return map_; }

 private:
  MappedFile map_;
  ModelFile file_;
};

}  // namespace jepa
#endif  // JEPA_NO_FILESYSTEM
#endif  // JEPA_FORMAT_LOADER_HPP
