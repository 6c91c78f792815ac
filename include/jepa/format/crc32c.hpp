// jepa/format/crc32c.hpp: CRC32C (Castagnoli, reflected polynomial 0x82F63B78),
// the checksum of every header, table and tensor in a .jepa file.
// Portable slice-by-8 (about 1 byte per cycle per lane); tables built once at
// compile time so no static initialisation runs in firmware.
#ifndef JEPA_FORMAT_CRC32C_HPP
#define JEPA_FORMAT_CRC32C_HPP

#include <cstddef>
#include <cstdint>

namespace jepa {
namespace detail {

struct Crc32cTables {
  uint32_t t[8][256];
  constexpr Crc32cTables() : t() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
};

inline const Crc32cTables& crc32c_tables() {
  static constexpr Crc32cTables tables{};
  return tables;
}

}  // namespace detail

// Continue a CRC: crc32c(b, crc32c(a)) == crc32c(a ++ b). Start with 0.
inline uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0) {
  const auto& T = detail::crc32c_tables().t;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
  while (n >= 8) {
    const uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                               (uint32_t)p[3] << 24);
    crc = T[7][lo & 0xFF] ^ T[6][(lo >> 8) & 0xFF] ^ T[5][(lo >> 16) & 0xFF] ^ T[4][lo >> 24] ^
          T[3][p[4]] ^ T[2][p[5]] ^ T[1][p[6]] ^ T[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ T[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}

}  // namespace jepa

#endif  // JEPA_FORMAT_CRC32C_HPP
