#include "store/wal_tail.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "store/crc32c.h"

namespace hub::store {
namespace {

namespace fs = std::filesystem;

constexpr size_t kBlockSize = 32768;
constexpr size_t kHeaderSize = 7, kRecyclableHeaderSize = 11;
enum Type : uint8_t {
  kZero = 0, kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4,
  kRecyclableFull = 5, kRecyclableFirst = 6, kRecyclableMiddle = 7, kRecyclableLast = 8,
  kSetCompression = 9,
};

uint32_t Fixed32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t Fixed64(const unsigned char* p) {
  return uint64_t{Fixed32(p)} | uint64_t{Fixed32(p + 4)} << 32;
}

// Reads one WAL file; calls batch(offset, rep) for each complete logical
// record. Returns false at the first bad record (*offset, *reason set).
// *next gets where reading may go on after a bad record: past it when its
// length is plausible (a checksum mismatch), else the next block.
template <typename F>
bool ReadFile(const std::string& data, size_t start, F&& batch, uint64_t* bad_offset,
              std::string* reason, size_t* next) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  size_t pos = start;
  *next = n;
  std::string fragments;
  bool in_fragment = false;
  size_t fragment_start = 0;
  while (pos < n) {
    const size_t left_in_block = kBlockSize - pos % kBlockSize;
    if (left_in_block < kHeaderSize) {  // trailer: zero padding
      pos += left_in_block;
      continue;
    }
    if (n - pos < kHeaderSize) {
      *bad_offset = in_fragment ? fragment_start : pos;
      *reason = "truncated record header at the end of the file";
      return false;
    }
    const unsigned char* h = p + pos;
    const uint32_t length = uint32_t{h[4]} | uint32_t{h[5]} << 8;
    const uint8_t type = h[6];
    if (type == kZero && length == 0) {  // preallocated space: skip the block's rest
      pos += left_in_block;
      continue;
    }
    const bool recyclable = type >= kRecyclableFull && type <= kRecyclableLast;
    const size_t header = recyclable ? kRecyclableHeaderSize : kHeaderSize;
    if (header + length > left_in_block) {
      *bad_offset = in_fragment ? fragment_start : pos;
      *reason = pos + header + length > n ? "truncated record (torn write)" : "bad record length";
      *next = pos + left_in_block;
      return false;
    }
    if (pos + header + length > n) {
      *bad_offset = in_fragment ? fragment_start : pos;
      *reason = "truncated record (torn write)";
      return false;
    }
    const uint32_t expected = crc32c::Unmask(Fixed32(h));
    const uint32_t actual = crc32c::Value(h + 6, header - 6 + length);
    if (expected != actual) {
      *bad_offset = in_fragment ? fragment_start : pos;
      *reason = "checksum mismatch";
      *next = pos + header + length;
      return false;
    }
    const std::string_view payload(data.data() + pos + header, length);
    const size_t record_start = pos;
    pos += header + length;
    switch (type) {
      case kFull:
      case kRecyclableFull:
        if (in_fragment) {
          *bad_offset = fragment_start;
          *reason = "a record begins inside another";
          return false;
        }
        batch(record_start, std::string(payload));
        break;
      case kFirst:
      case kRecyclableFirst:
        if (in_fragment) {
          *bad_offset = fragment_start;
          *reason = "a record begins inside another";
          return false;
        }
        in_fragment = true;
        fragment_start = record_start;
        fragments.assign(payload);
        break;
      case kMiddle:
      case kRecyclableMiddle:
      case kLast:
      case kRecyclableLast:
        if (!in_fragment) {
          *bad_offset = record_start;
          *reason = "a record continues nothing";
          return false;
        }
        fragments.append(payload);
        if (type == kLast || type == kRecyclableLast) {
          in_fragment = false;
          batch(fragment_start, std::move(fragments));
          fragments.clear();
        }
        break;
      case kSetCompression:
        break;  // metadata, not a batch
      default:
        *bad_offset = record_start;
        *reason = "unknown record type " + std::to_string(type);
        return false;
    }
  }
  if (in_fragment) {
    *bad_offset = fragment_start;
    *reason = "truncated record (torn write)";
    return false;
  }
  return true;
}

}  // namespace

Status ScanWal(const std::string& dir, WalScan* out) {
  *out = WalScan();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Ok();
  std::map<uint64_t, fs::path> logs;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= 4 || name.substr(name.size() - 4) != ".log") continue;
    const std::string digits = name.substr(0, name.size() - 4);
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    logs[std::stoull(digits)] = entry.path();
  }
  if (ec) return Status::IOError("cannot list " + dir + ": " + ec.message());
  // Complete batches past the first bad record: RocksDB drops them too.
  auto keep_after = [out](uint64_t number) {
    return [out, number](uint64_t, std::string&& rep) {
      if (rep.size() < 12) return;
      ++out->batches;
      out->after.push_back(
          {number, Fixed64(reinterpret_cast<const unsigned char*>(rep.data())), std::move(rep)});
    };
  };
  for (const auto& [number, path] : logs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::IOError("cannot read " + path.string());
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ++out->files;
    size_t pos = 0;
    if (!out->bad) {
      uint64_t bad_offset = 0;
      std::string reason;
      if (ReadFile(data, 0, [&](uint64_t, std::string&&) { ++out->batches; }, &bad_offset, &reason,
                   &pos))
        continue;
      out->bad = true;
      out->bad_log_number = number;
      out->bad_file = path.filename().string();
      out->bad_offset = bad_offset;
      out->reason = reason;
      out->bytes_after = data.size() - bad_offset;
    } else {
      out->bytes_after += data.size();
    }
    // Read on, record by record, skipping further bad ones.
    while (pos < data.size()) {
      uint64_t ignored_offset = 0;
      std::string ignored;
      size_t next = data.size();
      if (ReadFile(data, pos, keep_after(number), &ignored_offset, &ignored, &next)) break;
      pos = std::max(next, pos + 1);
    }
  }
  return Status::Ok();
}

}  // namespace hub::store
