#pragma once

// Reads RocksDB's WAL files of a closed data directory before RocksDB
// replays them, to say what its point-in-time recovery will drop: every
// write batch from the first bad record (torn by a crash or power cut, or
// a checksum mismatch) to the end. RocksDB itself drops that tail silently
// (a torn last record) or with a line in its own LOG; hubd logs it and
// counts it (event=wal_tail_dropped, hubd_wal_tail_dropped_batches_total).
//
// The format read is RocksDB's log format (db/log_format.h there, the same
// as leveldb's doc/log_format.md): 32 KiB blocks of physical records, each
// with a 7-byte header (masked CRC-32C, 16-bit length, type) or an 11-byte
// one for recycled logs (plus the log number); a logical record (one
// WriteBatch: 8-byte sequence, 4-byte count, then its entries) is one FULL
// or a FIRST, MIDDLEs and a LAST. Store-internal; no thread of its own.

#include <cstdint>
#include <string>
#include <vector>

#include "store/status.h"

namespace hub::store {

struct WalScan {
  struct Batch {
    uint64_t log_number = 0;
    uint64_t sequence = 0;  // RocksDB sequence of its first entry
    std::string rep;        // the WriteBatch bytes (kept only past a bad record)
  };
  // Set when a bad record was found.
  bool bad = false;
  uint64_t bad_log_number = 0;
  std::string bad_file;      // file name, no directory
  uint64_t bad_offset = 0;
  std::string reason;
  // Bytes from the bad record to the end of its file, plus every later WAL.
  uint64_t bytes_after = 0;
  // Checksummed batches after the bad record (RocksDB drops them too).
  std::vector<Batch> after;
  uint64_t files = 0, batches = 0;  // read in all
};

// Scans every *.log file in `dir` in log-number order. A missing directory
// or one without WAL files is not an error (an empty scan).
Status ScanWal(const std::string& dir, WalScan* out);

}  // namespace hub::store
