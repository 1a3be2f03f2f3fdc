#include "net/scanner_auth.h"

#include <algorithm>
#include <stdexcept>

namespace hub::net {

ScannerAuth::ScannerAuth(const std::vector<ScannerSecret>& secrets, bool client_certificates)
    : enabled_(client_certificates || !secrets.empty()) {
  for (const auto& s : secrets) {
    if (s.scanner_id.empty() == s.station.empty())
      throw std::invalid_argument("a scanner credential names either a scanner or a station");
    auto& map = s.scanner_id.empty() ? by_station_ : by_scanner_;
    const std::string& id = s.scanner_id.empty() ? s.station : s.scanner_id;
    if (!map.emplace(id, s.secret).second)
      throw std::invalid_argument("credential for " +
                                  std::string(s.scanner_id.empty() ? "station " : "scanner ") + id +
                                  " is given twice");
  }
}

std::string ScannerAuth::Admit(const v1::Hello& hello,
                               const std::vector<std::string>& certificate_ids) const {
  if (!enabled_) return "";
  const std::string& id = hello.scanner_id();
  if (!certificate_ids.empty()) {
    if (std::find(certificate_ids.begin(), certificate_ids.end(), id) != certificate_ids.end())
      return "";
    return "the client certificate is for " + certificate_ids.front() + ", not scanner " + id;
  }
  const std::string* secret = nullptr;
  if (auto it = by_scanner_.find(id); it != by_scanner_.end()) {
    secret = &it->second;
  } else if (auto st = by_station_.find(hello.station()); st != by_station_.end()) {
    secret = &st->second;
  }
  if (secret == nullptr)
    return "no credential is configured for scanner " + id + " or station " + hello.station() +
           (by_scanner_.empty() && by_station_.empty() ? "; present a client certificate" : "");
  if (hello.credential().empty()) return "the hello carries no credential";
  if (!SecretEquals(*secret, hello.credential())) return "wrong credential for scanner " + id;
  return "";
}

bool SecretEquals(std::string_view expected, std::string_view given) {
  unsigned diff = expected.size() != given.size();
  for (size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>(expected[i]) ^
            static_cast<unsigned char>(i < given.size() ? given[i] : 0);
  return diff == 0;
}

}  // namespace hub::net
