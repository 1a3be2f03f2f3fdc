#pragma once

// A small HTTP/1.1 server (Boost.Beast) on its own I/O thread, for the
// operations endpoints, the supervisor API and the web page; HTTPS when TLS
// files are given (ReloadTls() reads them again for later connections).
//
// The I/O thread never waits for a handler. A handler is called on it with
// the request and an HttpReply, and must return at once: it answers then
// (cheap work: atomics, a static file), or hands the reply on and answers
// later from any thread (a store read on a query pool, a write from its
// commit callback). A connection reads its next request only after the
// answer, so one slow request holds its own connection and no other.
// A reply may instead open a stream (server-sent events): the body is then
// written piece by piece until either side closes it.
//
// Thread safety: Listen(), Start() and Stop() from one controlling thread;
// ReloadTls() from any thread; HttpReply and HttpStream from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/acceptor.h"
#include "net/tls.h"

namespace hub::net {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string body;
  std::string authorization;
  std::string peer;  // "address:port" of the client, for logs
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra header fields (name, value), e.g. WWW-Authenticate.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The write end of a streamed answer (text/event-stream and the like): no
// Content-Length, the body ends when the connection closes.
class HttpStream {
 public:
  virtual ~HttpStream() = default;
  // Queues bytes for the client. False once the stream is closed (the client
  // went away, or Close()): stop writing and drop it.
  virtual bool Write(std::string bytes) = 0;
  // Ends the stream after what is queued.
  virtual void Close() = 0;
  virtual bool closed() const = 0;
  // Bytes queued and not yet sent (a client that reads slowly lets it grow).
  virtual size_t queued() const = 0;
};

namespace detail {
class ReplyTarget;
}

// How a handler answers one request: exactly one Send() or OpenStream(),
// from any thread, now or later. Copies share the request; when the last
// copy goes without an answer, the client gets a 500 (a handler that lost
// its reply never leaves a connection hanging).
class HttpReply {
 public:
  explicit HttpReply(std::shared_ptr<detail::ReplyTarget> target);
  // A reply that hands its answer to `done` on the answering thread (tests,
  // fuzzing). A stream opened on it gets `done` with the stream's head (an
  // empty body) and writes nowhere.
  static HttpReply ToCallback(std::function<void(HttpResponse)> done);
  void Send(HttpResponse response) const;
  // Answers 200 with the headers for a stream of `content_type` and no
  // caching; the returned stream writes the body.
  std::shared_ptr<HttpStream> OpenStream(const std::string& content_type) const;

 private:
  struct Pending;
  std::shared_ptr<Pending> pending_;
};

using HttpHandler = std::function<void(HttpRequest, HttpReply)>;

class HttpServer {
 public:
  static constexpr size_t kMaxBody = 1 << 20;  // larger requests get 413

  // Answers the server itself gives (a malformed request, a body over
  // kMaxBody) for a target; by default plain text.
  using ErrorRenderer = std::function<HttpResponse(const std::string& target, int status,
                                                   const std::string& message)>;

  // Throws std::exception when the TLS files cannot be loaded.
  HttpServer(std::string host, uint16_t port, HttpHandler handler, TlsFiles tls = {},
             ErrorRenderer errors = nullptr);
  ~HttpServer();

  // Binds; throws boost::system::system_error.
  void Listen();
  uint16_t port() const { return port_; }
  void Start();
  // Empty on success (or with TLS off), else why the old files stay.
  std::string ReloadTls();
  bool tls() const { return tls_ != nullptr; }
  void Stop();

 private:
  void Accept();

  std::string host_;
  uint16_t port_;
  HttpHandler handler_;
  ErrorRenderer errors_;
  std::unique_ptr<TlsContextSource> tls_;
  boost::asio::io_context io_{1};
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<AcceptBackoff> backoff_;
  std::thread thread_;
};

}  // namespace hub::net
