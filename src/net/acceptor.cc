#include "net/acceptor.h"

#include <spdlog/spdlog.h>

#include <algorithm>

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

void AcceptBackoff::Failed(const boost::system::error_code& ec, std::function<void()> retry) {
  backoff_ = std::clamp(backoff_ * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  uint64_t held = 0;
  if (log_.Allow(&held))
    spdlog::warn("event={} error={} retry_ms={} suppressed={}", event_, util::LogValue(ec.message()),
                 backoff_.count(), held);
  timer_.expires_after(backoff_);
  timer_.async_wait([retry = std::move(retry)](const boost::system::error_code& wec) {
    if (!wec) retry();
  });
}

}  // namespace hub::net
