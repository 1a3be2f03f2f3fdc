#include "net/scanner_registry.h"

namespace hub::net {

bool ScannerRegistry::Claim(const std::string& scanner_id, std::shared_ptr<ScannerOwner> owner) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[scanner_id];
  if (!e.active) {
    e.active = std::move(owner);
    return true;
  }
  if (e.waiting) {
    e.waiting->Fence();  // overtaken before it was ever granted
  } else {
    e.active->Fence();   // first claim against this owner
  }
  e.waiting = std::move(owner);
  return false;
}

void ScannerRegistry::Release(const std::string& scanner_id, const ScannerOwner* owner) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(scanner_id);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (e.waiting.get() == owner) {
    e.waiting.reset();
  } else if (e.active.get() == owner) {
    e.active = std::move(e.waiting);
    e.waiting.reset();
    if (e.active) e.active->Grant();
  }
  if (!e.active && !e.waiting) entries_.erase(it);
}

size_t ScannerRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace hub::net
