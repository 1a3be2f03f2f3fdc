#pragma once

// A small HTTP/1.1 server (Boost.Beast) on its own I/O thread, for the
// operations endpoints and the supervisor API; HTTPS when TLS files are
// given (ReloadTls() reads them again for later connections). Handlers run
// on that thread and must not block on ingest: they read atomics or store
// snapshots.
//
// Thread safety: Listen(), Start() and Stop() from one controlling thread;
// ReloadTls() from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

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
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  static constexpr size_t kMaxBody = 1 << 20;  // larger requests get 413

  // Throws std::exception when the TLS files cannot be loaded.
  HttpServer(std::string host, uint16_t port, HttpHandler handler, TlsFiles tls = {});
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
  std::unique_ptr<TlsContextSource> tls_;
  boost::asio::io_context io_{1};
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::unique_ptr<AcceptBackoff> backoff_;
  std::thread thread_;
};

}  // namespace hub::net
