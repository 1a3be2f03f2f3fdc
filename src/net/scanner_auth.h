#pragma once

// Who may speak for a scanner id. Authentication is on as soon as the
// configuration names any scanner secret or a CA for client certificates;
// then a hello is admitted when
//   - its connection presented a verified client certificate naming the
//     hello's scanner_id (common name or DNS alternative name), or
//   - without a certificate: its credential equals the scanner's own secret,
//     or, for a scanner without one, the secret of the hello's station.
// A certificate that names other scanners is refused whatever the
// credential: the connection says it is someone else. With authentication
// off every hello is admitted (a warning at start when the port is not on
// loopback).
//
// Thread safety: immutable after construction; Admit() from any thread.

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub/v1/session.pb.h"

namespace hub::net {

struct ScannerSecret {
  std::string scanner_id;  // exactly one of scanner_id and station is set
  std::string station;
  std::string secret;
};

class ScannerAuth {
 public:
  ScannerAuth() = default;
  // `client_certificates`: the scanner port verifies client certificates.
  // Throws std::invalid_argument for an entry with both or neither of
  // scanner_id and station, or an id named twice.
  ScannerAuth(const std::vector<ScannerSecret>& secrets, bool client_certificates);

  bool enabled() const { return enabled_; }
  // Empty when `hello` may speak for its scanner_id; else why not (for the
  // scanner and the log; never holds a secret). `certificate_ids` are the
  // identities of the connection's verified client certificate, empty when
  // none was presented.
  std::string Admit(const v1::Hello& hello, const std::vector<std::string>& certificate_ids) const;

 private:
  bool enabled_ = false;
  std::unordered_map<std::string, std::string> by_scanner_, by_station_;
};

// Compares every byte, so the time taken does not tell how much of a guess
// was right.
bool SecretEquals(std::string_view expected, std::string_view given);

}  // namespace hub::net
