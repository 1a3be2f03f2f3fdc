#include "testutil/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "tools/api_client.h"

namespace hub::testutil {

namespace asio = boost::asio;

HttpResult HttpCall(uint16_t port, const std::string& method, const std::string& target,
                    const std::string& body, const std::string& bearer) {
  try {
    tools::ApiServer server;
    server.port = std::to_string(port);
    auto res = tools::CallApi(server, bearer, method, target, body);
    return HttpResult{res.status, std::move(res.body)};
  } catch (const std::exception&) {
    return HttpResult{};
  }
}

int HttpRawStatus(uint16_t port, const std::string& bytes) {
  try {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    asio::write(s, asio::buffer(bytes));
    std::string got(64, '\0');
    boost::system::error_code ec;
    size_t n = asio::read(s, asio::buffer(got), asio::transfer_at_least(12), ec);
    got.resize(n);
    if (got.rfind("HTTP/1.1 ", 0) != 0) return 0;
    return std::stoi(got.substr(9, 3));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace hub::testutil
