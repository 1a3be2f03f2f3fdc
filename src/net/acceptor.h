#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace hub::net {

// A listening TCP socket on host:port (port 0: any free port; read the
// chosen one from local_endpoint()). Throws boost::system::system_error.
std::unique_ptr<boost::asio::ip::tcp::acceptor> OpenAcceptor(boost::asio::io_context& io,
                                                             const std::string& host,
                                                             uint16_t port);

}  // namespace hub::net
