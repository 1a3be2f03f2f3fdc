#pragma once

// Free space where a data directory lives, for hubd's start-up check: on a
// full disk RocksDB cannot even open (it writes a MANIFEST, an OPTIONS file
// and a new WAL, and flushes what the WAL replays), and the librocksdb that
// Debian ships aborts on an assertion in that path instead of returning an
// error. hubd therefore looks first and refuses cleanly (exit code 3).

#include <sys/statvfs.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace hub::store {

// At least this much must be free to start, plus the size of the WAL files
// recovery will replay and flush.
inline constexpr uint64_t kMinFreeBytesToStart = uint64_t{64} << 20;
// While running, commits stop below this (the store's low-disk guard,
// StoreOptions::min_free_bytes): room for RocksDB's flushes of what is
// already written, so that RocksDB itself never meets a full disk.
inline constexpr uint64_t kMinFreeBytesToRun = uint64_t{32} << 20;

// Bytes available to an unprivileged writer on the file system of `path`
// (or of its nearest existing parent). False when none can be looked at.
inline bool FreeBytes(const std::string& path, uint64_t* free) {
  std::filesystem::path p = std::filesystem::absolute(path);
  std::error_code ec;
  while (!p.empty() && !std::filesystem::exists(p, ec) && p != p.parent_path()) p = p.parent_path();
  struct statvfs st {};
  if (::statvfs(p.c_str(), &st) != 0) return false;
  *free = static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  return true;
}

// Bytes of the WAL files (*.log) in `dir`; 0 when there is none.
inline uint64_t WalBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".log") total += e.file_size(ec);
  return total;
}

}  // namespace hub::store
