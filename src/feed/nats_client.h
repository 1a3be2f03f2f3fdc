#pragma once

// A NATS connection with its JetStream context, for hubd's feed, hubctl feed
// tail and the tests (libnats, Debian's libnats-dev).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nats/nats.h>

namespace hub::feed {

struct NatsOptions {
  std::vector<std::string> servers{"nats://127.0.0.1:4222"};
  std::string name = "hubd";           // shown by the server's monitoring
  std::string creds_file;              // NATS credentials (JWT + seed); empty: none
  std::string ca_file;                 // TLS: trusted CAs; empty: no TLS unless tls://
  std::string cert_file, key_file;     // TLS client certificate; empty: none
  int64_t timeout_ms = 2000;           // connect and JetStream API timeout
  // Reconnect for ever after a lost connection (the feed); else give up
  // after the library's few attempts (a tool).
  bool reconnect_forever = false;
};

class NatsClient {
 public:
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  // Connects; nullptr with *error set when it cannot.
  static std::unique_ptr<NatsClient> Connect(const NatsOptions& options, std::string* error);

  natsConnection* connection() const { return nc_; }
  jsCtx* js() const { return js_; }
  bool connected() const;

 private:
  NatsClient() = default;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

// "<status text>: <the library's last error>" for a failed call.
std::string NatsError(natsStatus s, jsErrCode js_err = static_cast<jsErrCode>(0));

}  // namespace hub::feed
