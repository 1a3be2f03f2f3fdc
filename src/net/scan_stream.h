#pragma once

// A scanner connection's byte stream: plain TCP, or TLS over TCP. The
// session is written once against this; each call goes to the one layer in
// use.
//
// Thread safety: as the Asio stream under it (one session's thread).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include "net/tls.h"

namespace hub::net {

class ScanStream {
 public:
  using Socket = boost::asio::ip::tcp::socket;

  // Plain TCP.
  explicit ScanStream(Socket socket) : plain_(std::move(socket)) {}
  // TLS; the stream keeps `context` alive. The daemon is the server side;
  // benchmarks and tools use the client side.
  ScanStream(Socket socket, std::shared_ptr<boost::asio::ssl::context> context,
             boost::asio::ssl::stream_base::handshake_type side = boost::asio::ssl::stream_base::server)
      : plain_(socket.get_executor()), context_(std::move(context)), side_(side) {
    tls_.emplace(std::move(socket), *context_);
  }

  bool tls() const { return tls_.has_value(); }
  Socket& socket() { return tls_ ? tls_->next_layer() : plain_; }
  boost::asio::any_io_executor executor() { return plain_.get_executor(); }

  // TLS: the handshake; plain: completes at once (posted).
  template <typename Handler>
  void AsyncHandshake(Handler&& handler) {
    if (tls_) return tls_->async_handshake(side_, std::forward<Handler>(handler));
    boost::asio::post(plain_.get_executor(), [h = std::forward<Handler>(handler)]() mutable {
      h(boost::system::error_code());
    });
  }

  template <typename Buffer, typename Handler>
  void AsyncReadSome(const Buffer& buffer, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffer, std::forward<Handler>(handler));
    plain_.async_read_some(buffer, std::forward<Handler>(handler));
  }

  template <typename Buffer, typename Handler>
  void AsyncWrite(const Buffer& buffer, Handler&& handler) {
    if (tls_) return boost::asio::async_write(*tls_, buffer, std::forward<Handler>(handler));
    boost::asio::async_write(plain_, buffer, std::forward<Handler>(handler));
  }

  // Ends the sending side: TLS sends close_notify and completes when the
  // peer answers with its own (or the connection fails); plain TCP sends FIN
  // and completes at once. Reads must not be pending on a TLS stream.
  template <typename Handler>
  void AsyncShutdown(Handler&& handler) {
    if (tls_) return tls_->async_shutdown(std::forward<Handler>(handler));
    boost::system::error_code ec;
    plain_.shutdown(Socket::shutdown_send, ec);
    boost::asio::post(plain_.get_executor(), [h = std::forward<Handler>(handler), ec]() mutable { h(ec); });
  }

  // Identities of the peer's verified client certificate (TLS only).
  std::vector<std::string> PeerIdentities() { return tls_ ? net::PeerIdentities(tls_->native_handle()) : std::vector<std::string>{}; }

 private:
  Socket plain_;  // the socket itself for plain TCP; unused under TLS
  std::shared_ptr<boost::asio::ssl::context> context_;
  boost::asio::ssl::stream_base::handshake_type side_ = boost::asio::ssl::stream_base::server;
  std::optional<boost::asio::ssl::stream<Socket>> tls_;
};

}  // namespace hub::net
