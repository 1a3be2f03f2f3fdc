#pragma once

// A stand-in for hubd's HTTP API on a loopback port, answering from canned
// answers: hubctl's side of the contract in docs/api.md, tested with the
// answers the contract shows, and with what a daemon does rarely (an
// overflowing stream). Records every request it was sent.
//
// Thread rules: On() before the client runs; requests() after it is done
// (or while it waits on a held stream).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hub::testing {

class FakeHub {
 public:
  struct Answer {
    int status = 200;
    std::string body;
    // A stream instead of `body`: text/event-stream, these pieces sent
    // chunked one after another, then the end of the answer, or, with
    // `hold_open`, nothing more until the client goes away.
    std::vector<std::string> stream;
    bool hold_open = false;
  };
  static Answer Json(int status, std::string body) {
    return Answer{status, std::move(body), {}, false};
  }
  static Answer Events(std::vector<std::string> pieces, bool hold_open = false) {
    return Answer{200, "", std::move(pieces), hold_open};
  }
  struct Request {
    std::string method, target, body, authorization;
  };

  FakeHub();   // listens on 127.0.0.1 on a port the kernel picks
  ~FakeHub();  // closes every connection and joins its threads

  uint16_t port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  // `method_path`: "GET /v1/report" (the target without its query), or a
  // whole target ("GET /v1/audit?after=7"), which goes first. An unknown
  // path gets 404 {"error":"no such endpoint"}.
  void On(const std::string& method_path, Answer answer);
  std::vector<Request> requests() const;

 private:
  void Serve(int fd);

  uint16_t port_ = 0;
  int listener_ = -1;
  mutable std::mutex mu_;
  std::map<std::string, Answer> answers_;
  std::vector<Request> requests_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace hub::testing
