#pragma once

// CRC-32C (Castagnoli), the checksum RocksDB's WAL records carry, in
// software (a byte table: enough for a backup's verification and a WAL
// tail's scan, neither of which is on the ack path).

#include <array>
#include <cstddef>
#include <cstdint>

namespace hub::store::crc32c {

namespace internal {
constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}
inline constexpr std::array<uint32_t, 256> kTable = MakeTable();
}  // namespace internal

// The CRC of `data` continued from `crc` (the CRC of what came before; 0 to
// start).
inline uint32_t Extend(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  for (size_t i = 0; i < n; ++i) c = internal::kTable[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// RocksDB stores masked CRCs (util/crc32c.h there): a CRC of data that
// holds CRCs is then not itself a trivial value.
inline uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace hub::store::crc32c
