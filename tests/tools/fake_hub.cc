#include "tools/fake_hub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace hub::testing {

namespace http = boost::beast::http;

FakeHub::FakeHub() {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::listen(listener_, 16);
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] {
    for (;;) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;  // shut down
      std::lock_guard lock(mu_);
      connections_.push_back(fd);
      threads_.emplace_back([this, fd] { Serve(fd); });
    }
  });
}

FakeHub::~FakeHub() {
  ::shutdown(listener_, SHUT_RDWR);
  acceptor_.join();
  ::close(listener_);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  for (int fd : connections_) ::close(fd);
}

void FakeHub::On(const std::string& method_path, Answer answer) {
  std::lock_guard lock(mu_);
  answers_[method_path] = std::move(answer);
}

std::vector<FakeHub::Request> FakeHub::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void FakeHub::Serve(int fd) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io, boost::asio::ip::tcp::v4(), ::dup(fd));
  boost::beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    const std::string target(req.target());
    const std::string key =
        std::string(req.method_string()) + " " + target.substr(0, target.find('?'));
    Answer a;
    {
      std::lock_guard lock(mu_);
      requests_.push_back({std::string(req.method_string()), target, req.body(),
                           std::string(req[http::field::authorization])});
      auto it = answers_.find(std::string(req.method_string()) + " " + target);
      if (it == answers_.end()) it = answers_.find(key);
      if (it == answers_.end())
        a = Answer{404, R"({"error":"no such endpoint"})", {}, false};
      else
        a = it->second;
    }
    if (a.stream.empty()) {
      http::response<http::string_body> res(static_cast<http::status>(a.status), 11);
      res.set(http::field::content_type, "application/json");
      res.body() = a.body;
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec) return;
      continue;
    }
    std::string head =
        "HTTP/1.1 " + std::to_string(a.status) +
        " OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(head), ec);
    for (const auto& piece : a.stream) {
      char size[16];
      std::snprintf(size, sizeof(size), "%zx\r\n", piece.size());
      boost::asio::write(socket, boost::asio::buffer(std::string(size) + piece + "\r\n"), ec);
      if (ec) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (a.hold_open) {
      char c;
      socket.read_some(boost::asio::buffer(&c, 1), ec);  // until the client goes
      return;
    }
    boost::asio::write(socket, boost::asio::buffer(std::string("0\r\n\r\n")), ec);
    return;
  }
}

}  // namespace hub::testing
