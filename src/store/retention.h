#pragma once
// Retention (SPEC §6): how aged-out data leaves each column family.
//
// A Retention log record names a prefix of the log (hub_seq <= through) and
// of the cases (id <= through_case_id). The two families keyed by those
// numbers lose it at once, in the commit that logs the record: one range
// tombstone each (DeleteRange), whatever their size. The families keyed by
// entity or scanner, where aged-out rows are scattered among live ones,
// drop them as compaction passes over them (RetentionFilter, which reads
// the mark below): case_index entries by their trailing case id, archive
// rows by the hub_seq they retired at, seqs rows by the last hub_seq they
// name. Until then readers skip them by the same mark, so no query shows a
// case or a record that aged out. Measured in bench/RESULTS.md.

#include <rocksdb/compaction_filter.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace hub::store {

// What has aged out so far; read by compaction threads and queries,
// raised by the commit that logs a Retention.
struct RetentionMark {
  std::atomic<uint64_t> through_hub_seq{0};
  std::atomic<uint64_t> through_case_id{0};
  std::atomic<int64_t> cutoff_ms{0};

  std::string Encode() const;
  bool Decode(std::string_view value);
};

class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  enum class Family { kCaseIndex, kArchive, kSeqs };
  RetentionFilter(Family family, const RetentionMark* mark) : family_(family), mark_(mark) {}

  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* new_value, bool* value_changed) const override;
  const char* Name() const override { return "hubd.RetentionFilter"; }

 private:
  Family family_;
  const RetentionMark* mark_;
};

// The last hub_seq a seqs row names (0: only consumed rejects).
uint64_t LastLoggedHubSeq(std::string_view seqs_row);

}  // namespace hub::store
