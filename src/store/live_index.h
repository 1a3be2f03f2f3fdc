#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "hub/v1/record.pb.h"

namespace hub::store {

// The entity index of live entities: for each entity not yet archived, the
// hub_seqs of the committed records that involved it. In memory only; it is
// saved with the checkpoint and rebuilt by recovery. Updated by the writer
// thread after each commit (so a reader that saw an ack sees its record),
// read by API threads; one short lock per group and per query, never held
// across I/O. An entity leaves it only once its archive row, which carries
// the same hub_seqs, is durable: a reader that looks here first and in the
// archive after always finds every record.
class LiveIndex {
 public:
  struct Touch {
    uint64_t hub_seq;
    std::string key;
  };
  struct Entry {
    std::vector<uint64_t> seqs;      // ascending
    std::vector<uint64_t> retiring;  // retirements whose archive row is not durable yet
    std::vector<uint64_t> forgetting;  // those of `retiring` that forgot an idle entity
  };

  // Records the group's touches (in hub order), then gives each retired row
  // the hub_seqs of its entity up to its retirement.
  void Apply(const std::vector<Touch>& touches, size_t count,
             std::vector<v1::ArchivedEntity>* retired);

  // The row is durable in the archive: drop what it covers.
  void Forget(const v1::ArchivedEntity& row);

  // Records up to `through` aged out: they leave every entry.
  void DropThrough(uint64_t through);

  Entry Get(const std::string& key);

  size_t size();

  // The index as it was at `last_hub_seq`, for a checkpoint at that
  // hub_seq: hub_seqs after it are left out (commits may have gone on). The
  // archive must be caught up with `last_hub_seq`: an entity forgotten
  // since (retired later, its row durable) has every hub_seq in that row,
  // and recovery's replay forgets it again.
  void Save(uint64_t last_hub_seq, v1::EntityIndex* out);

  void Load(const v1::EntityIndex& in);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace hub::store
