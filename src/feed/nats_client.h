#pragma once

// A NATS connection with its JetStream context, for hubd's feed, hubctl feed
// tail and the tests (libnats, Debian's libnats-dev).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include <nats/nats.h>

#include "feed/feed_options.h"

namespace hub::feed {

class NatsClient {
 public:
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  // Connects; nullptr with *error set when it cannot. `js_options` (may be
  // null) configures the JetStream context (async publish handlers).
  static std::unique_ptr<NatsClient> Connect(const NatsOptions& options, std::string* error,
                                             const jsOptions* js_options = nullptr);

  natsConnection* connection() const { return nc_; }
  jsCtx* js() const { return js_; }
  bool connected() const;

 private:
  NatsClient() = default;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::function<void(bool)> on_state_;
  // The library calls back on its own thread, after Close() returned: the
  // destructor waits for the closed callback before this object goes.
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
};

// A stream hubd creates when it is missing ([feed] create_streams): file
// storage, one subject.
struct StreamSpec {
  std::string name, subject;
  int replicas = 1;
  std::chrono::nanoseconds max_age{0};     // 0: messages are kept for ever
  std::chrono::nanoseconds duplicates{0};  // 0: JetStream's default, two minutes
};
// DISPATCH: advices are of use for the trips they describe, so it keeps
// them 72 hours (a hub whose consumer is new applies no older ones).
StreamSpec DispatchStreamSpec(int replicas);

// NATS_OK when `spec.name` exists or, with `create`, was created now
// (*created true); NATS_NOT_FOUND when it does not exist and `create` is
// false; else the failure, *js_err set.
natsStatus EnsureStream(jsCtx* js, const StreamSpec& spec, bool create, bool* created, jsErrCode* js_err);

// "<status text>: <the library's last error>" for a failed call.
std::string NatsError(natsStatus s, jsErrCode js_err = static_cast<jsErrCode>(0));

}  // namespace hub::feed
