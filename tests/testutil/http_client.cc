#include "testutil/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace hub::testutil {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

HttpResult HttpCall(uint16_t port, const std::string& method, const std::string& target,
                    const std::string& body, const std::string& bearer) {
  HttpResult out;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    out.status = static_cast<int>(res.result_int());
    out.body = res.body();
  } catch (const std::exception&) {
  }
  return out;
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
