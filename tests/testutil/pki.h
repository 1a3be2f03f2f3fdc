#pragma once

// Test certificates made with the openssl command: a CA, a server
// certificate for 127.0.0.1 and localhost, and client certificates naming a
// scanner. Loopback tests only; keys are throwaway.

#include <string>

namespace hub::testutil {

class TestPki {
 public:
  // Creates the CA and the server certificate in `dir` (which must exist).
  // Aborts the test (gtest ADD_FAILURE) when openssl fails.
  explicit TestPki(std::string dir);

  const std::string& ca() const { return ca_; }
  const std::string& server_cert() const { return server_cert_; }
  const std::string& server_key() const { return server_key_; }

  struct Pair {
    std::string cert, key;
  };
  // A certificate signed by the CA whose common name (and DNS alternative
  // name) is `name`, for TLS clients or, with server = true, for
  // 127.0.0.1/localhost servers.
  Pair Issue(const std::string& name, bool server = false);

 private:
  std::string dir_;
  std::string ca_, ca_key_, server_cert_, server_key_;
  int serial_ = 0;
};

}  // namespace hub::testutil
