#pragma once

// Online backup and restore of a data directory (store/ only; the daemon
// reaches them through RocksDbStore::Backup() and RestoreBackup()).
//
// Why a RocksDB Checkpoint and not the BackupEngine: a checkpoint is a
// plain, openable data directory taken at one sequence number while writes
// go on (file deletions paused, memtables flushed, the live WAL copied up to
// that sequence), so restore is a verified copy and the backup can itself
// be read by `hubd --export` or `--store-stats`. SST files are hard-linked
// when the backup is on the data directory's file system, which makes a
// backup of a year of data take seconds and no space until compaction
// rewrites the files; on another file system they are copied. The
// BackupEngine's strengths (incremental sets of backups in one directory,
// rate limiting) are an operator's copy job here: the backup is a directory
// to rsync off the machine. What the BackupEngine adds over a checkpoint,
// a checksum per file checked at restore, is the manifest below.
//
// Layout of a backup directory: the checkpoint's files (CURRENT, MANIFEST-*,
// OPTIONS-*, *.sst, *.log) and BACKUP_MANIFEST.json (proto/hub/v1/
// admin.proto BackupManifest), written last.
//
// Thread safety: CreateBackup() from any thread while the database is in
// use (RocksDB's checkpoint is safe alongside writes); one at a time per
// database (RocksDbStore::Backup() serialises them). The others touch no
// open database.

#include <string>

#include "hub/v1/admin.pb.h"
#include "store/status.h"

namespace rocksdb {
class DB;
}

namespace hub::store {

inline constexpr char kBackupManifestName[] = "BACKUP_MANIFEST.json";

// Writes a backup of `db` into `dir`, which must be an absolute path that
// does not exist yet (AlreadyExists) in an existing directory
// (InvalidArgument). Every write committed before the call is in it.
// *out gets the manifest. On failure the partial directory is removed.
Status CreateBackup(rocksdb::DB* db, const std::string& dir, v1::BackupManifest* out);

// Reads dir's manifest and checks every file it lists (present, size,
// CRC-32C); Corruption or NotFound says which file is wrong.
Status VerifyBackup(const std::string& dir, v1::BackupManifest* out);

// Verifies the backup in `backup_dir`, copies it into `data_dir` (which
// must not exist or be an empty directory: InvalidArgument otherwise) by
// way of a staging directory beside it, syncs, and checks that the copy
// opens at the manifest's hub_seq. Nothing is left in data_dir on failure.
Status RestoreBackup(const std::string& backup_dir, const std::string& data_dir,
                     v1::BackupManifest* out);

// After RocksDbStore::Backup(), the file LAST_BACKUP in the data directory
// names the backup (its path, one line), so that hubd can print the exact
// restore command when it finds the data directory corrupt. "" when there
// is none.
inline constexpr char kLastBackupName[] = "LAST_BACKUP";
std::string LastBackupOf(const std::string& data_dir);
Status NoteLastBackup(const std::string& data_dir, const std::string& backup_dir);

// The hub_seq of the last log record in a data directory that is not open
// (read-only; writes nothing into it). *store_format gets the format key
// (0 when absent).
Status ReadOnlyHubSeq(const std::string& dir, uint64_t* hub_seq, uint64_t* store_format);

}  // namespace hub::store
