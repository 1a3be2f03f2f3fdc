#pragma once

// A hash map from entity id to entity whose growth never stops the world:
// the entries are spread over kShards hash tables by the id's hash, and each
// grows (rehashes) on its own, so one insert rehashes at most 1/kShards of
// the entries. A single std::unordered_map of two million parcels rehashes
// them all in one insert, tens of milliseconds on the single writer, and
// every scan queued behind it waits (bench/RESULTS.md, the p99 ack tail).
//
// The interface is the part of std::unordered_map the core uses; iteration
// order is unspecified, as there (the core sorts where order matters).
// Lookups hash the id once. Thread safety: none.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hub::core {

template <class V>
class IdMap {
  static constexpr size_t kShardBits = 6;
  static constexpr size_t kShards = size_t{1} << kShardBits;

  // An id with its hash, for lookups that hash once.
  struct Hashed {
    std::string_view id;
    size_t hash;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(const std::string& s) const { return std::hash<std::string_view>()(s); }
    size_t operator()(const Hashed& h) const { return h.hash; }
  };
  struct Eq {
    using is_transparent = void;
    bool operator()(const std::string& a, const std::string& b) const { return a == b; }
    bool operator()(const Hashed& a, const std::string& b) const { return a.id == b; }
    bool operator()(const std::string& a, const Hashed& b) const { return a == b.id; }
  };
  using Shard = std::unordered_map<std::string, V, Hash, Eq>;

  static Hashed HashOf(std::string_view id) { return {id, std::hash<std::string_view>()(id)}; }
  static size_t ShardOf(size_t hash) { return hash >> (sizeof(size_t) * 8 - kShardBits); }

 public:
  using key_type = std::string;
  using mapped_type = V;
  using value_type = typename Shard::value_type;
  using const_pointer = const value_type*;

  template <bool kConst>
  class Iter {
    using Owner = std::conditional_t<kConst, const IdMap, IdMap>;
    using ShardIt = std::conditional_t<kConst, typename Shard::const_iterator, typename Shard::iterator>;

   public:
    using value_type = typename Shard::value_type;
    using reference = std::conditional_t<kConst, const value_type&, value_type&>;

    Iter() = default;
    reference operator*() const { return *it_; }
    auto* operator->() const { return &*it_; }
    Iter& operator++() {
      ++it_;
      SkipEmpty();
      return *this;
    }
    bool operator==(const Iter& o) const {
      return shard_ == o.shard_ && (shard_ == kShards || it_ == o.it_);
    }

   private:
    friend class IdMap;
    Iter(Owner* m, size_t shard, ShardIt it) : m_(m), shard_(shard), it_(it) {}
    void SkipEmpty() {
      while (shard_ < kShards && it_ == m_->shards_[shard_].end())
        if (++shard_ < kShards) it_ = m_->shards_[shard_].begin();
    }
    Owner* m_ = nullptr;
    size_t shard_ = kShards;
    ShardIt it_{};
  };
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  iterator begin() {
    iterator it(this, 0, shards_[0].begin());
    it.SkipEmpty();
    return it;
  }
  iterator end() { return iterator(this, kShards, {}); }
  const_iterator begin() const {
    const_iterator it(this, 0, shards_[0].begin());
    it.SkipEmpty();
    return it;
  }
  const_iterator end() const { return const_iterator(this, kShards, {}); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  iterator find(std::string_view id) {
    if (size_ == 0) return end();  // holds, most of the time: no hashing
    const Hashed h = HashOf(id);
    Shard& s = shards_[ShardOf(h.hash)];
    auto it = s.find(h);
    return it == s.end() ? end() : iterator(this, ShardOf(h.hash), it);
  }
  const_iterator find(std::string_view id) const {
    if (size_ == 0) return end();
    const Hashed h = HashOf(id);
    const Shard& s = shards_[ShardOf(h.hash)];
    auto it = s.find(h);
    return it == s.end() ? end() : const_iterator(this, ShardOf(h.hash), it);
  }

  V& at(std::string_view id) { return find(id)->second; }  // the id must be there
  const V& at(std::string_view id) const { return find(id)->second; }

  template <class... Args>
  std::pair<iterator, bool> try_emplace(const std::string& id, Args&&... args) {
    const size_t shard = ShardOf(HashOf(id).hash);
    auto [it, created] = shards_[shard].try_emplace(id, std::forward<Args>(args)...);
    size_ += created;
    return {iterator(this, shard, it), created};
  }
  V& operator[](const std::string& id) { return try_emplace(id).first->second; }

  void erase(iterator it) {
    shards_[it.shard_].erase(it.it_);
    --size_;
  }
  size_t erase(std::string_view id) {
    auto it = find(id);
    if (it == end()) return 0;
    erase(it);
    return 1;
  }
  void clear() {
    for (auto& s : shards_) Shard().swap(s);  // gives the buckets back too
    size_ = 0;
    floors_.fill(kNoFloor);
  }

  // The ids of the entries with time(entry) < cutoff, in no order, for a
  // rule that drops the entries a cutoff time has passed (the forget rule)
  // without visiting every entry each time. The map keeps one lower bound
  // (floor) per shard of the entries' times, and skips a shard whose floor is
  // at or past the cutoff; a shard looked through gets the smallest time it
  // keeps, or `now` (the clock) when that is smaller. The floors hold while
  // the owner only ever sets an entry's time to a clock that never goes back
  // (inserting at it too), uses one `time` for the map, and erases every id
  // returned; clear() starts them again.
  template <class Time>
  std::vector<std::string> Older(int64_t cutoff, int64_t now, Time time) {
    std::vector<std::string> ids;
    for (size_t i = 0; i < kShards; ++i) {
      if (floors_[i] >= cutoff) continue;
      int64_t floor = now;
      for (const auto& [id, v] : shards_[i]) {
        const int64_t t = time(v);
        if (t < cutoff) {
          ids.push_back(id);
        } else if (t < floor) {
          floor = t;
        }
      }
      floors_[i] = floor;
    }
    return ids;
  }

 private:
  static constexpr int64_t kNoFloor = std::numeric_limits<int64_t>::min();
  std::array<Shard, kShards> shards_;
  size_t size_ = 0;
  std::array<int64_t, kShards> floors_ = MakeNoFloors();  // for Older()

  static std::array<int64_t, kShards> MakeNoFloors() {
    std::array<int64_t, kShards> f;
    f.fill(kNoFloor);
    return f;
  }
};

}  // namespace hub::core
