#include "store/key_format.h"

namespace hub::store::keys {

void PutBigEndian64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  dst->append(buf, 8);
}

uint64_t DecodeBigEndian64(std::string_view src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(src[i]);
  return v;
}

std::string LogKey(uint64_t hub_seq) {
  std::string k;
  PutBigEndian64(&k, hub_seq);
  return k;
}

std::string CaseKey(uint64_t case_id) { return LogKey(case_id); }

std::string CaseTypeIndexPrefix(int type, int status) {
  std::string k = "T";
  k.push_back(static_cast<char>(type));
  k.push_back(static_cast<char>(status));
  return k;
}

std::string CaseTypeIndexKey(int type, int status, int64_t time_ms, uint64_t case_id) {
  std::string k = CaseTypeIndexPrefix(type, status);
  // Flip the sign bit so negative times sort before positive ones.
  PutBigEndian64(&k, static_cast<uint64_t>(time_ms) ^ (uint64_t{1} << 63));
  PutBigEndian64(&k, case_id);
  return k;
}

std::string CaseStatusIndexPrefix(int type, int status) {
  std::string k = "S";
  k.push_back(static_cast<char>(type));
  k.push_back(static_cast<char>(status));
  return k;
}

std::string CaseStatusIndexKey(int type, int status, uint64_t case_id) {
  std::string k = CaseStatusIndexPrefix(type, status);
  PutBigEndian64(&k, case_id);
  return k;
}

namespace {
std::string EntityPrefix(char tag, Kind kind, std::string_view id) {
  std::string k;
  k.push_back(tag);
  k.push_back(static_cast<char>(kind));
  k.push_back(static_cast<char>(id.size()));  // ids are at most 64 bytes
  k.append(id);
  return k;
}
}  // namespace

std::string CaseEntityIndexPrefix(Kind kind, std::string_view id) {
  return EntityPrefix('E', kind, id);
}

std::string CaseEntityIndexKey(Kind kind, std::string_view id, uint64_t case_id) {
  std::string k = CaseEntityIndexPrefix(kind, id);
  PutBigEndian64(&k, case_id);
  return k;
}

std::string ArchivePrefix(Kind kind, std::string_view id) {
  std::string k;
  k.push_back(static_cast<char>(kind));
  k.push_back(static_cast<char>(id.size()));
  k.append(id);
  return k;
}

std::string ArchiveKey(Kind kind, std::string_view id, uint64_t hub_seq) {
  std::string k = ArchivePrefix(kind, id);
  PutBigEndian64(&k, hub_seq);
  return k;
}

std::string ScannerSeqKey(std::string_view scanner_id, uint64_t seq) {
  std::string k;
  k.push_back(static_cast<char>(scanner_id.size()));  // scanner ids are at most 64 bytes
  k.append(scanner_id);
  PutBigEndian64(&k, seq);
  return k;
}

std::string HourKey(int64_t hour) {
  std::string k(kHourPrefix);
  PutBigEndian64(&k, static_cast<uint64_t>(hour));
  return k;
}

std::string AuditKey(uint64_t hub_seq) {
  std::string k(kAuditPrefix);
  PutBigEndian64(&k, hub_seq);
  return k;
}

}  // namespace hub::store::keys
