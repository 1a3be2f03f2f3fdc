#include "net/acceptor.h"

namespace hub::net {

std::unique_ptr<boost::asio::ip::tcp::acceptor> OpenAcceptor(boost::asio::io_context& io,
                                                             const std::string& host,
                                                             uint16_t port) {
  namespace asio = boost::asio;
  asio::ip::tcp::endpoint ep(asio::ip::make_address(host), port);
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(io);
  acceptor->open(ep.protocol());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->bind(ep);
  acceptor->listen(asio::socket_base::max_listen_connections);
  return acceptor;
}

}  // namespace hub::net
