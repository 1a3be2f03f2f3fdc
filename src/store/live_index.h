#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/v1/record.pb.h"

namespace hub::store {

// The entities a group of records involved, in hub order, packed for the
// hand-off from the writer thread: one buffer of keys (kind byte + id) and
// one small entry per touch, so that adding one allocates nothing once the
// buffers have grown.
class Touches {
 public:
  void Add(uint64_t hub_seq, char kind, std::string_view id) {
    keys_.push_back(kind);
    keys_.append(id);
    ends_.push_back({hub_seq, static_cast<uint32_t>(keys_.size())});
  }
  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  void clear() {
    keys_.clear();
    ends_.clear();
  }
  // Room for `n` touches (of ids of about 16 bytes) without growing.
  void reserve(size_t n) {
    keys_.reserve(n * 17);
    ends_.reserve(n);
  }
  // f(hub_seq, key) for each touch, in the order added.
  template <class F>
  void ForEach(F&& f) const {
    uint32_t begin = 0;
    for (const auto& e : ends_) {
      f(e.hub_seq, std::string_view(keys_).substr(begin, e.end - begin));
      begin = e.end;
    }
  }

 private:
  struct End {
    uint64_t hub_seq;
    uint32_t end;  // offset in keys_ just past this touch's key
  };
  std::string keys_;
  std::vector<End> ends_;
};

// The entity index of live entities: for each entity not yet archived, the
// hub_seqs of the committed records that involved it. In memory only; it is
// saved with the checkpoint and rebuilt by recovery. Kept up by the archive
// writer's thread from each commit's touches (store/archive_writer.h), off
// the single writer; read by API threads, one short lock per group and per
// query, never held across I/O. The index knows how far it covers (the
// hub_seq of the last group applied): a reader passes the last hub_seq
// committed when it asked and waits until the index covers it, so a reader
// that saw an ack always finds its record. An entity leaves the index only
// once its archive row, which carries the same hub_seqs, is durable: a
// reader that looks here first and in the archive after always finds every
// record.
class LiveIndex {
 public:
  struct Entry {
    std::vector<uint64_t> seqs;      // ascending
    std::vector<uint64_t> retiring;  // retirements whose archive row is not durable yet
    std::vector<uint64_t> forgetting;  // those of `retiring` that forgot an idle entity
  };

  // Records a group's touches (in hub order), then gives each retired row
  // the hub_seqs of its entity up to its retirement; the index then covers
  // every record up to `through`.
  void Apply(uint64_t through, const Touches& touches, std::vector<v1::ArchivedEntity>* retired);

  // The row is durable in the archive: drop what it covers.
  void Forget(const v1::ArchivedEntity& row);

  // Records up to `through` aged out: they leave every entry.
  void DropThrough(uint64_t through);

  // Whether the index covers every record up to `covering` already.
  bool Covers(uint64_t covering);
  // Waits until the index covers every record up to `covering`.
  void WaitFor(uint64_t covering);
  // The entry of `key` once the index covers `covering`.
  Entry Get(std::string_view key, uint64_t covering);

  size_t size();

  // The index as it was at `last_hub_seq`, for a checkpoint at that
  // hub_seq: hub_seqs after it are left out (commits may have gone on). The
  // archive must be caught up with `last_hub_seq`: an entity forgotten
  // since (retired later, its row durable) has every hub_seq in that row,
  // and recovery's replay forgets it again.
  void Save(uint64_t last_hub_seq, v1::EntityIndex* out);

  void Load(const v1::EntityIndex& in);

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::mutex mu_;
  std::condition_variable covered_;
  uint64_t through_ = 0;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> entries_;  // GUARDED_BY(mu_)
};

}  // namespace hub::store
