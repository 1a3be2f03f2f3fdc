#pragma once

// CRC-32C (Castagnoli), the checksum RocksDB's WAL records carry, from
// Boost.CRC (enough for a backup's verification and a WAL tail's scan,
// neither of which is on the ack path).

#include <boost/crc.hpp>
#include <cstddef>
#include <cstdint>

namespace hub::store::crc32c {

// Feed it with process_bytes(); checksum() is the CRC so far.
using Crc = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

inline uint32_t Value(const void* data, size_t n) {
  Crc crc;
  crc.process_bytes(data, n);
  return crc.checksum();
}

// RocksDB stores masked CRCs (util/crc32c.h there): a CRC of data that
// holds CRCs is then not itself a trivial value.
inline uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace hub::store::crc32c
