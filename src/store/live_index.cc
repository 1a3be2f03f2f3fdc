#include "store/live_index.h"

#include <algorithm>

#include "store/store_util.h"

namespace hub::store {

void LiveIndex::Apply(uint64_t through, const Touches& touches,
                      std::vector<v1::ArchivedEntity>* retired) {
  std::lock_guard<std::mutex> lock(mu_);
  touches.ForEach([this](uint64_t hub_seq, std::string_view key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) it = entries_.emplace(std::string(key), Entry()).first;
    it->second.seqs.push_back(hub_seq);
  });
  for (auto& row : *retired) {
    auto it = entries_.find(EntityKeyOf(row));
    if (it == entries_.end()) continue;
    const auto& v = it->second.seqs;
    row.mutable_hub_seqs()->Add(v.begin(),
                                std::upper_bound(v.begin(), v.end(), row.retired_at_hub_seq()));
    it->second.retiring.push_back(row.retired_at_hub_seq());
    if (row.forgotten()) it->second.forgetting.push_back(row.retired_at_hub_seq());
  }
  if (through > through_) {
    through_ = through;
    covered_.notify_all();
  }
}

void LiveIndex::Forget(const v1::ArchivedEntity& row) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(EntityKeyOf(row));
  if (it == entries_.end()) return;
  auto& v = it->second.seqs;
  v.erase(v.begin(), std::upper_bound(v.begin(), v.end(), row.retired_at_hub_seq()));
  auto& r = it->second.retiring;
  r.erase(std::remove(r.begin(), r.end(), row.retired_at_hub_seq()), r.end());
  auto& f = it->second.forgetting;
  f.erase(std::remove(f.begin(), f.end(), row.retired_at_hub_seq()), f.end());
  if (v.empty() && r.empty()) entries_.erase(it);
}

void LiveIndex::DropThrough(uint64_t through) {
  std::lock_guard<std::mutex> lock(mu_);
  auto drop = [through](std::vector<uint64_t>& v) {
    v.erase(v.begin(), std::upper_bound(v.begin(), v.end(), through));
  };
  for (auto it = entries_.begin(); it != entries_.end();) {
    drop(it->second.seqs);
    std::erase_if(it->second.retiring, [through](uint64_t r) { return r <= through; });
    std::erase_if(it->second.forgetting, [through](uint64_t r) { return r <= through; });
    if (it->second.seqs.empty() && it->second.retiring.empty()) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

bool LiveIndex::Covers(uint64_t covering) {
  std::lock_guard<std::mutex> lock(mu_);
  return through_ >= covering;
}

void LiveIndex::WaitFor(uint64_t covering) {
  std::unique_lock<std::mutex> lock(mu_);
  covered_.wait(lock, [&] { return through_ >= covering; });
}

LiveIndex::Entry LiveIndex::Get(std::string_view key, uint64_t covering) {
  std::unique_lock<std::mutex> lock(mu_);
  covered_.wait(lock, [&] { return through_ >= covering; });
  auto it = entries_.find(key);
  return it == entries_.end() ? Entry() : it->second;
}

size_t LiveIndex::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void LiveIndex::Save(uint64_t last_hub_seq, v1::EntityIndex* out) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    out->set_last_hub_seq(last_hub_seq);
    for (const auto& [key, entry] : entries_) {
      const auto end = std::upper_bound(entry.seqs.begin(), entry.seqs.end(), last_hub_seq);
      if (end == entry.seqs.begin()) continue;  // touched only after the checkpoint
      auto* e = out->add_entries();
      e->set_key(key);
      e->mutable_hub_seqs()->Add(entry.seqs.begin(), end);
    }
  }
  // Sorted after the lock: the archive writer and readers go on meanwhile.
  std::sort(out->mutable_entries()->begin(), out->mutable_entries()->end(),
            [](const auto& a, const auto& b) { return a.key() < b.key(); });
}

void LiveIndex::Load(const v1::EntityIndex& in) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
  through_ = std::max(through_, in.last_hub_seq());
  covered_.notify_all();
  for (const auto& e : in.entries())
    entries_[e.key()].seqs.assign(e.hub_seqs().begin(), e.hub_seqs().end());
}

}  // namespace hub::store
