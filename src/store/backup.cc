#include "store/backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/utilities/checkpoint.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "hub/version.h"
#include "store/crc32c.h"
#include "store/key_format.h"
#include "store/rocksdb_store.h"
#include "store/store_util.h"

namespace hub::store {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kManifestFormat = 1;

Status Errno(const std::string& what, const std::string& path) {
  const int e = errno;
  std::string msg = what + " " + path + ": " + std::strerror(e);
  return e == ENOSPC ? Status::NoSpace(msg) : Status::IOError(msg);
}

// A RocksDB that logs nowhere: opening a backup read-only must not leave
// an info LOG file in it.
class NullLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// Size and CRC-32C of a whole file.
Status Checksum(const std::string& path, uint64_t* size, uint32_t* crc) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::vector<char> buf(1 << 20);
  *size = 0;
  crc32c::Crc sum;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    sum.process_bytes(buf.data(), static_cast<size_t>(n));
    *size += static_cast<uint64_t>(n);
  }
  *crc = sum.checksum();
  ::close(fd);
  return Status::Ok();
}

Status WriteAll(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", dir);
  const int rc = ::fsync(fd);
  Status s = rc == 0 ? Status::Ok() : Errno("cannot sync directory", dir);
  ::close(fd);
  return s;
}

// Copies `from` to the new file `to` and syncs it; checks the CRC on the way.
Status CopyFile(const std::string& from, const std::string& to, uint32_t want_crc) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("cannot open", from);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    Status s = Errno("cannot create", to);
    ::close(in);
    return s;
  }
  std::vector<char> buf(1 << 20);
  crc32c::Crc sum;
  Status s;
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Errno("cannot read", from);
      break;
    }
    if (n == 0) break;
    sum.process_bytes(buf.data(), static_cast<size_t>(n));
    s = WriteAll(out, buf.data(), static_cast<size_t>(n), to);
    if (!s.ok()) break;
  }
  if (s.ok() && ::fsync(out) != 0) s = Errno("cannot sync", to);
  ::close(in);
  if (::close(out) != 0 && s.ok()) s = Errno("cannot close", to);
  if (s.ok() && sum.checksum() != want_crc)
    s = Status::Corruption(from + " changed while it was copied (CRC differs from the manifest)");
  return s;
}

// Writes `text` to dir/name through a temporary file, synced, then renamed.
Status WriteFileAtomically(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string tmp = dir + "/" + name + ".tmp", path = dir + "/" + name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  Status s = WriteAll(fd, text.data(), text.size(), tmp);
  if (s.ok() && ::fsync(fd) != 0) s = Errno("cannot sync", tmp);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = Errno("cannot rename", tmp);
  if (s.ok()) s = SyncDir(dir);
  return s;
}

// A path an operator gave: absolute, normalised, without a trailing '/'.
Status CheckTarget(const std::string& given, const char* what, std::string* out) {
  if (given.empty()) return Status::InvalidArgument(std::string(what) + " is empty");
  fs::path p(given);
  if (!p.is_absolute())
    return Status::InvalidArgument(std::string(what) + " must be an absolute path, got '" + given + "'");
  p = p.lexically_normal();
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  if (s == "/") return Status::InvalidArgument(std::string(what) + " must not be /");
  *out = s;
  return Status::Ok();
}

std::string ManifestJson(const v1::BackupManifest& m) {
  std::string json;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(m, &json, o);
  return json;
}

}  // namespace

std::string LastBackupOf(const std::string& data_dir) {
  std::ifstream in(data_dir + "/" + kLastBackupName);
  std::string line;
  std::getline(in, line);
  return line;
}

Status NoteLastBackup(const std::string& data_dir, const std::string& backup_dir) {
  return WriteFileAtomically(data_dir, kLastBackupName, backup_dir + "\n");
}

Status ReadOnlyHubSeq(const std::string& dir, uint64_t* hub_seq, uint64_t* store_format) {
  rocksdb::DBOptions options;
  options.info_log = std::make_shared<NullLogger>();
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, dir, &names);
  if (!s.ok()) return FromRocks(s);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(options, dir, descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s);
  std::unique_ptr<rocksdb::DB> db(raw);
  Status out;
  *hub_seq = 0;
  *store_format = 0;
  const auto log = std::find(names.begin(), names.end(), "log");
  if (log == names.end()) {
    out = Status::Corruption(dir + " has no log column family: not a hubd data directory");
  } else {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), handles[log - names.begin()]));
    it->SeekToLast();
    if (it->Valid()) *hub_seq = keys::DecodeBigEndian64(it->key().ToStringView());
    out = FromRocks(it->status());
    std::string value;
    rocksdb::Status got = db->Get(rocksdb::ReadOptions(), keys::kFormatKey, &value);
    if (got.ok() && value.size() == 8) *store_format = keys::DecodeBigEndian64(value);
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db->Close();
  return out;
}

Status CreateBackup(rocksdb::DB* db, const std::string& given, v1::BackupManifest* out) {
  const auto start = std::chrono::steady_clock::now();
  std::string dir;
  Status s = CheckTarget(given, "the backup directory", &dir);
  if (!s.ok()) return s;
  std::error_code ec;
  if (fs::exists(dir, ec) || fs::is_symlink(dir, ec))
    return Status::AlreadyExists("the backup directory " + dir +
                                 " already exists; name a directory that does not exist yet");
  const std::string parent = fs::path(dir).parent_path().string();
  if (!fs::is_directory(parent, ec))
    return Status::InvalidArgument("the backup directory's parent " + parent +
                                   " is not an existing directory");
  // RocksDB stages the checkpoint in DIR.tmp; one left by a crash is ours.
  fs::remove_all(dir + ".tmp", ec);

  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status rs = rocksdb::Checkpoint::Create(db, &raw);
  if (!rs.ok()) return FromRocks(rs);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: memtables are flushed first, so the backup is
  // mostly SST files (hard links) and little WAL to copy and replay.
  rs = checkpoint->CreateCheckpoint(dir, 0);
  if (!rs.ok()) {
    fs::remove_all(dir + ".tmp", ec);
    fs::remove_all(dir, ec);
    return FromRocks(rs);
  }
  auto fail = [&](Status why) {
    fs::remove_all(dir, ec);
    return why;
  };
  v1::BackupManifest m;
  m.set_manifest_format(kManifestFormat);
  m.set_hubd_version(kVersion);
  m.set_created_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count());
  uint64_t hub_seq = 0, format = 0;
  s = ReadOnlyHubSeq(dir, &hub_seq, &format);
  if (!s.ok()) return fail(s);
  m.set_hub_seq(hub_seq);
  m.set_store_format(format);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  if (ec) return fail(Status::IOError("cannot list " + dir + ": " + ec.message()));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto* f = m.add_files();
    f->set_name(name);
    uint64_t size = 0;
    uint32_t crc = 0;
    s = Checksum(dir + "/" + name, &size, &crc);
    if (!s.ok()) return fail(s);
    f->set_size(size);
    f->set_crc32c(crc);
    m.set_total_bytes(m.total_bytes() + size);
  }
  m.set_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  s = WriteFileAtomically(dir, kBackupManifestName, ManifestJson(m));
  if (!s.ok()) return fail(s);
  *out = std::move(m);
  return Status::Ok();
}

Status VerifyBackup(const std::string& given, v1::BackupManifest* out) {
  std::string dir;
  Status s = CheckTarget(given, "the backup directory", &dir);
  if (!s.ok()) return s;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("no backup directory " + dir);
  const std::string path = dir + "/" + kBackupManifestName;
  std::string text;
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return errno == ENOENT ? Status::NotFound(dir + " has no " + kBackupManifestName +
                                                ": not a backup, or one that did not finish")
                             : Errno("cannot open", path);
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    ::close(fd);
    if (n < 0) return Errno("cannot read", path);
  }
  v1::BackupManifest m;
  if (!google::protobuf::util::JsonStringToMessage(text, &m).ok())
    return Status::Corruption(path + " does not parse as a backup manifest");
  if (m.manifest_format() != kManifestFormat)
    return Status::InvalidArgument(path + " has manifest format " + std::to_string(m.manifest_format()) +
                                   "; this hubd reads format " + std::to_string(kManifestFormat));
  if (m.store_format() != kStoreFormat)
    return Status::InvalidArgument("the backup holds store format " + std::to_string(m.store_format()) +
                                   "; this hubd reads format " + std::to_string(kStoreFormat));
  if (m.files().empty()) return Status::Corruption(path + " lists no files");
  for (const auto& f : m.files()) {
    if (f.name().empty() || f.name().find('/') != std::string::npos || f.name() == "." ||
        f.name() == ".." || f.name() == kBackupManifestName)
      return Status::Corruption(path + " lists a bad file name '" + f.name() + "'");
    uint64_t size = 0;
    uint32_t crc = 0;
    s = Checksum(dir + "/" + f.name(), &size, &crc);
    if (!s.ok()) return Status::Corruption("backup file " + f.name() + ": " + s.message());
    if (size != f.size())
      return Status::Corruption("backup file " + f.name() + " has " + std::to_string(size) +
                                " bytes; the manifest says " + std::to_string(f.size()));
    if (crc != f.crc32c())
      return Status::Corruption("backup file " + f.name() + " does not match its CRC in the manifest");
  }
  *out = std::move(m);
  return Status::Ok();
}

Status RestoreBackup(const std::string& backup_given, const std::string& data_given,
                     v1::BackupManifest* out) {
  std::string data_dir;
  Status s = CheckTarget(data_given, "the data directory", &data_dir);
  if (!s.ok()) return s;
  std::error_code ec;
  if (fs::exists(data_dir, ec) && (!fs::is_directory(data_dir, ec) || !fs::is_empty(data_dir, ec)))
    return Status::InvalidArgument("the data directory " + data_dir +
                                   " is not empty; restore into a new or empty directory");
  const std::string parent = fs::path(data_dir).parent_path().string();
  if (!fs::is_directory(parent, ec))
    return Status::InvalidArgument("the data directory's parent " + parent +
                                   " is not an existing directory");
  v1::BackupManifest m;
  s = VerifyBackup(backup_given, &m);
  if (!s.ok()) return s;
  std::string backup_dir;
  (void)CheckTarget(backup_given, "the backup directory", &backup_dir);

  const std::string staging = data_dir + ".restoring";
  fs::remove_all(staging, ec);  // left by a restore that was interrupted
  if (!fs::create_directory(staging, ec))
    return Status::IOError("cannot create " + staging + ": " + ec.message());
  auto fail = [&](Status why) {
    fs::remove_all(staging, ec);
    return why;
  };
  for (const auto& f : m.files()) {
    s = CopyFile(backup_dir + "/" + f.name(), staging + "/" + f.name(), f.crc32c());
    if (!s.ok()) return fail(s);
  }
  s = SyncDir(staging);
  if (!s.ok()) return fail(s);
  uint64_t hub_seq = 0, format = 0;
  s = ReadOnlyHubSeq(staging, &hub_seq, &format);
  if (!s.ok()) return fail(Status::Corruption("the restored copy does not open: " + s.message()));
  if (hub_seq != m.hub_seq())
    return fail(Status::Corruption("the restored copy ends at hub_seq " + std::to_string(hub_seq) +
                                   "; the manifest says " + std::to_string(m.hub_seq())));
  // rename(2) replaces an empty directory, or creates the name.
  if (::rename(staging.c_str(), data_dir.c_str()) != 0) return fail(Errno("cannot rename", staging));
  s = SyncDir(parent);
  if (!s.ok()) return s;
  *out = std::move(m);
  return Status::Ok();
}

}  // namespace hub::store
