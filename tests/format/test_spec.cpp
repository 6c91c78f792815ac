// docs/FORMAT.md and include/jepa/format/format.hpp agree: the offset/size/
// field tables of the spec are parsed and compared with the structs. A field
// documented but absent (or present but undocumented) fails too.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "jepa/format/crc32c.hpp"
#include "jepa/format/format.hpp"

using namespace jepa::format;

namespace {

struct Field {
  size_t offset, size;
};

// Rows "| offset | size | field | ... |" of the table under "## <title>".
std::map<std::string, Field> spec_table(const std::string& title) {
  std::ifstream in(std::string(JEPA_SOURCE_DIR) + "/docs/FORMAT.md");
  REQUIRE_MESSAGE(in.good(), "docs/FORMAT.md not found");
  std::map<std::string, Field> rows;
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) inside = line.rfind("## " + title, 0) == 0;
    if (!inside || line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '|')) {
      const size_t a = cell.find_first_not_of(' '), b = cell.find_last_not_of(' ');
      cells.push_back(a == std::string::npos ? "" : cell.substr(a, b - a + 1));
    }
    // Only "| offset | size | field |" rows: the first two cells are numbers.
    // (Other tables in a section, like the feature bits, have words there.)
    auto number = [](const std::string& c) {
      return !c.empty() && c.find_first_not_of("0123456789") == std::string::npos;
    };
    if (cells.size() < 4 || !number(cells[1]) || !number(cells[2])) continue;
    rows[cells[3]] = Field{std::strtoul(cells[1].c_str(), nullptr, 10), std::strtoul(cells[2].c_str(), nullptr, 10)};
  }
  return rows;
}

void check_same(const std::map<std::string, Field>& doc, const std::map<std::string, Field>& code,
                size_t struct_size) {
  CHECK(doc.size() == code.size());
  size_t end = 0;
  for (const auto& kv : code) {
    auto it = doc.find(kv.first);
    if (it == doc.end()) {
      FAIL_CHECK("field not documented: " << kv.first);
      continue;
    }
    CHECK_MESSAGE(it->second.offset == kv.second.offset, kv.first);
    CHECK_MESSAGE(it->second.size == kv.second.size, kv.first);
    end = std::max(end, kv.second.offset + kv.second.size);
  }
  CHECK(end == struct_size);  // no undocumented tail
}

#define JEPA_FIELD(S, f) {#f, Field{offsetof(S, f), sizeof(((S*)nullptr)->f)}}

}  // namespace

TEST_CASE("spec: FileHeader matches docs/FORMAT.md") {
  const std::map<std::string, Field> code = {
      JEPA_FIELD(FileHeader, magic),          JEPA_FIELD(FileHeader, version_major),
      JEPA_FIELD(FileHeader, version_minor),  JEPA_FIELD(FileHeader, header_bytes),
      JEPA_FIELD(FileHeader, file_bytes),     JEPA_FIELD(FileHeader, required_features),
      JEPA_FIELD(FileHeader, optional_features), JEPA_FIELD(FileHeader, model_kind),
      JEPA_FIELD(FileHeader, alignment),      JEPA_FIELD(FileHeader, hparam_count),
      JEPA_FIELD(FileHeader, hparam_offset),  JEPA_FIELD(FileHeader, tensor_offset),
      JEPA_FIELD(FileHeader, tensor_count),   JEPA_FIELD(FileHeader, reserved0),
      JEPA_FIELD(FileHeader, pool_offset),    JEPA_FIELD(FileHeader, pool_bytes),
      JEPA_FIELD(FileHeader, tables_crc32c),  JEPA_FIELD(FileHeader, header_crc32c)};
  check_same(spec_table("FileHeader"), code, sizeof(FileHeader));
}

TEST_CASE("spec: HParamEntry matches docs/FORMAT.md") {
  const std::map<std::string, Field> code = {JEPA_FIELD(HParamEntry, key), JEPA_FIELD(HParamEntry, type),
                                             JEPA_FIELD(HParamEntry, count), JEPA_FIELD(HParamEntry, value)};
  check_same(spec_table("HParamEntry"), code, sizeof(HParamEntry));
}

TEST_CASE("spec: TensorEntry matches docs/FORMAT.md") {
  const std::map<std::string, Field> code = {
      JEPA_FIELD(TensorEntry, name),      JEPA_FIELD(TensorEntry, dtype),  JEPA_FIELD(TensorEntry, layout),
      JEPA_FIELD(TensorEntry, rank),      JEPA_FIELD(TensorEntry, flags),  JEPA_FIELD(TensorEntry, shape),
      JEPA_FIELD(TensorEntry, offset),    JEPA_FIELD(TensorEntry, bytes),  JEPA_FIELD(TensorEntry, crc32c),
      JEPA_FIELD(TensorEntry, reserved1), JEPA_FIELD(TensorEntry, layout_params)};
  check_same(spec_table("TensorEntry"), code, sizeof(TensorEntry));
}

TEST_CASE("spec: CRC32C check value and magic") {
  CHECK(jepa::crc32c("123456789", 9) == 0xE3069283u);
  CHECK(jepa::crc32c("", 0) == 0u);
  // Incremental == one shot.
  CHECK(jepa::crc32c("56789", 5, jepa::crc32c("1234", 4)) == 0xE3069283u);
  const uint8_t magic[8] = {0x4A, 0x45, 0x50, 0x41, 0x52, 0x54, 0x1A, 0x0A};
  CHECK(std::memcmp(magic, kMagic, 8) == 0);
}
