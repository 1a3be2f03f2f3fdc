#pragma once

// On-disk layout of the hub store. One RocksDB database, one column family
// per access pattern:
//
//   CF "log"        BE64(hub_seq) -> LogRecord
//       The durable event log: every applied scan event, reference change
//       and case action, in hub order, sort scans with their decision,
//       departures to a next hub with their dispatch advice. Keys only ever grow, so memtable
//       inserts stay sequential (about 1 M entries/s here, against about
//       0.19 M/s for random keys). It is the source of truth: all other
//       families are derived from it, and it is the outbox a publisher tails.
//   CF "scanners"   scanner_id -> BE64(seq)
//       Each scanner's durable high-water mark: the resume point given in
//       Welcome. Written once per scanner per group commit, not per event.
//   CF "seqs"       len:u8 scanner_id BE64(first_seq) -> (varint seq step,
//                   varint hub step)...  hub step = 2 x (hub_seq - the last
//                   logged hub_seq of the row, from 0), or 1 for a seq used
//                   by a consumed reject
//       Which log record each scanner seq became (hub_seq 0: the event was
//       rejected with a code that uses up its seq, so nothing was logged).
//       One row per scanner per group commit, covering that scanner's seqs
//       in the group (a row per event cost about a quarter of the ingest
//       rate); keys grow within each scanner's range, a lookup is one
//       SeekForPrev. A re-send is checked against
//       it: the same event again gets its original answer, another event
//       under a used seq is refused (REJECT_SEQ_REUSED) rather than acked
//       and dropped. Rows written before this family existed are absent;
//       a re-send of such an event is taken as the same event.
//   CF "cases"      BE64(case_id) -> ExceptionCase
//       The supervisor's worklist. Case ids grow with hub order, so new
//       cases append; status changes overwrite in place.
//   CF "case_index" secondary indexes, empty values:
//       'T' type:u8 status:u8 BE64(time^sign) BE64(case_id)  by type/status/time
//       'S' type:u8 status:u8 BE64(case_id)                  by type/status/id (paging)
//       'E' kind:u8 len:u8 id BE64(case_id)                   by vehicle/bag/parcel/load
//   CF "archive"    kind:u8 len:u8 id BE64(retired_at_hub_seq) -> ArchivedEntity
//       Parcels, bags, loads and vehicles retired from the core's memory when
//       they left the hub; one row per departure, so a parcel that returns
//       keeps its history. Random keys, about one per parcel: written by a
//       background writer after the commit, never in the ack path.
//   CF "default"    "archive_cursor" -> BE64(hub_seq)
//       Every retirement up to this hub_seq is in the archive; written in the
//       same batch as the archive rows it covers.
//                   "format_version" -> BE64(kStoreFormat), written when the
//       database is created.
//                   "hour" BE64(hour of hub time) -> BE64(hub_seq)
//       The first record in each hour of hub time (written with it), so
//       retention finds the log prefix older than its cutoff with one seek.
//                   "audit" BE64(hub_seq) -> BE64(at_ms) who
//       The audit trail's index: one row per log record written through the
//       API (it has an origin), written in the same batch as the record;
//       `at_ms` and `who` are the origin's, so a filtered read skips rows
//       without reading the log. Few rows (people's writes and reference
//       loads), keys only grow. Retention removes them with their records
//       (one range tombstone). Data directories from before the audit trail
//       simply have no rows for their older records: no format change.
//                   "retention" -> BE64(through_hub_seq) BE64(through_case_id)
//       BE64(cutoff_ms): what has aged out (store/retention.h), written with
//       the Retention record and its range deletes.
//                   "feed_cursor" -> BE64(hub_seq) BE64(part)
//       The feed's cursor (feed/feed_publisher.h): every message up to this
//       one is in the feed's stream. Written by the publisher after
//       JetStream acknowledged; retention never passes it.
//   CF "checkpoint" "snapshot" -> HubSnapshot, "entity_index" -> EntityIndex
//       The core's whole state at some hub_seq, so recovery replays only the
//       log after it, and the entity index of the live entities at the same
//       hub_seq (written in one batch). Big values, rewritten whole: kept
//       apart so they do not churn the compactions of the small-record
//       families.
//
// The entity index (which log records involved a vehicle, bag, parcel or
// load) is not a column family: random keys at two per event would cost
// more than the log itself (about 0.13 M rows/s here). Live entities keep
// their hub_seqs in memory (saved with the checkpoint); a retired entity's
// archive row carries them.
//
// Cases, their indexes and the scanner marks are written in the same
// WriteBatch as the log records that produce them, so a reader never sees a
// case the log does not explain, and recovery never has to write them again.
// Archive rows follow their commit; recovery re-derives those past the
// cursor. The per-entity state lives only in memory and in the checkpoint.
//
// kind bytes: 'V' vehicle, 'B' bag, 'P' parcel, 'L' load.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/entity_kind.h"

namespace hub::store::keys {

using Kind = core::EntityKind;

void PutBigEndian64(std::string* dst, uint64_t v);
uint64_t DecodeBigEndian64(std::string_view src);  // src.size() >= 8

std::string LogKey(uint64_t hub_seq);
std::string CaseKey(uint64_t case_id);
std::string CaseTypeIndexKey(int type, int status, int64_t time_ms, uint64_t case_id);
// Prefix of CaseTypeIndexKey for one type and status.
std::string CaseTypeIndexPrefix(int type, int status);
std::string CaseStatusIndexKey(int type, int status, uint64_t case_id);
std::string CaseStatusIndexPrefix(int type, int status);
std::string CaseEntityIndexKey(Kind kind, std::string_view id, uint64_t case_id);
std::string CaseEntityIndexPrefix(Kind kind, std::string_view id);
std::string ArchiveKey(Kind kind, std::string_view id, uint64_t hub_seq);
std::string ArchivePrefix(Kind kind, std::string_view id);
std::string ScannerSeqKey(std::string_view scanner_id, uint64_t seq);
std::string HourKey(int64_t hour);
std::string AuditKey(uint64_t hub_seq);

inline constexpr std::string_view kSnapshotKey = "snapshot";
inline constexpr std::string_view kArchiveCursorKey = "archive_cursor";
inline constexpr std::string_view kEntityIndexKey = "entity_index";
inline constexpr std::string_view kFormatKey = "format_version";
inline constexpr std::string_view kRetentionKey = "retention";
inline constexpr std::string_view kHourPrefix = "hour";
inline constexpr std::string_view kAuditPrefix = "audit";
inline constexpr std::string_view kFeedCursorKey = "feed_cursor";

}  // namespace hub::store::keys
